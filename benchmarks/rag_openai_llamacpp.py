"""rag-openai against a local llama.cpp server, on a real rulebook: how long the retrieval tests take.

The case of issue 10, item 7: the packaged Gemma GGUF served by llama-cpp-python returns one
vector per token, so an embedding request for many chunks is slow and its reply is large. The
suite is built in a temporary folder from the rulebook and the dev questions, read by path
(never copied into the project); the server is started with the packaged GGUF and killed at the
end. Runs ``pytest evals/test_retrieval.py --systems rag-openai`` on that suite with a cold
cache, under a wall-clock limit, and prints the time, the test outcome and the server's
embedding requests (from its access log).

    .venv/bin/python benchmarks/rag_openai_llamacpp.py [--corpora ../shared/corpora] [--limit 900]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "corpora"

from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.models import embedded_gguf  # noqa: E402
from harness.models.llamacpp_server import llama_server  # noqa: E402

CACHE = ROOT / DEFAULT_DIR

SUITE_YAML = """name: fit-rules
generator: gemma3-270m
chunking: {tokens: 100, overlap: 50}
top_k: 3
systems: [rag-openai]
"""


def build_suite(folder: Path, corpora: Path) -> Path:
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "rules.md").symlink_to(corpora / "fit-touch-rules-5th-edition.md")
    (folder / "questions.yaml").symlink_to(corpora / "fit-dev-questions.yaml")
    (folder / "suite.yaml").write_text(SUITE_YAML)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--limit", type=float, default=900, help="stop the run after this many seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        suite = build_suite(Path(tmp) / "suite", args.corpora.resolve())
        log = Path(tmp) / "server.log"
        with llama_server(embedded_gguf(CACHE), log) as url:
            env = {**os.environ, "OPENAI_BASE_URL": url}
            output = Path(tmp) / "pytest.log"
            began = time.perf_counter()
            try:
                with open(output, "w") as out:
                    subprocess.run([sys.executable, "-m", "pytest", "evals/test_retrieval.py", "--suite", str(suite),
                                    "--systems", "rag-openai", "--cache-dir", str(Path(tmp) / "cache"),
                                    "--results-json", str(Path(tmp) / "results.json"),
                                    "--scorecard", str(Path(tmp) / "scorecard.md"), "-p", "no:cacheprovider",
                                    "-v", "--gate"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   timeout=args.limit)
                ended = "finished"
            except subprocess.TimeoutExpired:
                ended = f"stopped at the {args.limit:.0f} s limit"
            seconds = time.perf_counter() - began
        tests = re.findall(r"::test_evidence_in_top_k\[\S+\] (PASSED|XFAIL|FAILED|SKIPPED)", output.read_text())
        requests = re.findall(r'"POST /v1/embeddings HTTP/1.1" (\d+)', log.read_text())
    done = ", ".join(f"{tests.count(kind)} {kind.lower()}" for kind in ("PASSED", "XFAIL", "FAILED", "SKIPPED"))
    outcome = f"{ended}; retrieval tests done: {done}"
    print(f"rag-openai retrieval tests on {args.corpora.name}/fit-touch-rules-5th-edition.md (cold cache), "
          f"local llama.cpp server: {seconds:.0f} s; {outcome}; embedding requests answered: "
          + ", ".join(f"{requests.count(code)} with HTTP {code}" for code in sorted(set(requests))))


if __name__ == "__main__":
    main()
