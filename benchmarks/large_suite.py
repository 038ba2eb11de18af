"""The harness's own cost on a suite of thousands of questions, with a generator that costs nothing.

A made-up rulebook and its questions are written by code (tests/synthetic_run.py, nothing
committed); a loopback stand-in OpenAI-compatible server answers at once. The main job runs cold
(empty cache), with and without --gate (wrong answers fail, or are xfails), then again fully
cached, and `harness report` re-renders the reports; it prints collection time, the harness's
overhead per answer in each mode, and the size and writing time of results.json, scorecard.md and
report.html. A system named rag-bm25-kN is rag-bm25 retrieving N chunks (no model needed), so
that five systems cost the stand-in nothing: 2,000 questions x 5 systems is 10,000 answers.
report.html's load and filter times in a browser are benchmarks/html_report.py's.

    .venv/bin/python benchmarks/large_suite.py [--questions 2000] [--systems baseline,rag-bm25,rag-bm25-k1,...]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from openai_standin import StandIn  # noqa: E402
from synthetic_run import made_up_suite  # noqa: E402


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some answers are wrong, as they should be
        sys.exit(f"{' '.join(args[:4])}... failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def system_spec(name: str) -> str | dict:
    """rag-bm25-kN: rag-bm25 retrieving N chunks; any other name is a built-in system."""
    stem, _, k = name.rpartition("-k")
    return {"name": name, "kind": "rag", "retriever": "bm25", "k": int(k)} if stem == "rag-bm25" else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--systems", default="baseline,rag-bm25,rag-bm25-k1,rag-bm25-k2,rag-bm25-k4")
    args = parser.parse_args()
    systems = args.systems.split(",")
    with tempfile.TemporaryDirectory() as tmp, StandIn() as server:
        root, out, cache = Path(tmp) / "suite", Path(tmp) / "reports", Path(tmp) / "cache"
        made_up_suite(root, args.questions)
        (root / "suite.yaml").write_text(json.dumps({"name": f"made-up-{args.questions}",
                                                     "systems": [system_spec(s) for s in systems],
                                                     "generation": {"prompt_style": "chat"}}))
        pytest = [sys.executable, "-m", "pytest", "evals", "--suite", str(root), "-p", "no:cacheprovider", "-q",
                  "--generator", f"openai:stand-in@{server.url}", "--cache-dir", str(cache),
                  "--results-json", str(out / "results.json"), "--scorecard", str(out / "scorecard.md")]
        collect = timed([*pytest, "--collect-only"])
        cold = {}
        for mode, flags in (("without --gate", []), ("with --gate", ["--gate"])):
            shutil.rmtree(cache, ignore_errors=True)
            cold[mode] = timed([*pytest, *flags])
        requests = len(server.requests) // len(cold)
        warm = timed(pytest)
        render = timed([sys.executable, "-m", "harness.cli", "report", "--results-json", str(out / "results.json")])
        answers = len(json.loads((out / "results.json").read_text())["results"])
        sizes = {name: (out / name).stat().st_size / 1e6 for name in ("results.json", "scorecard.md", "report.html")}
    print(f"{args.questions} questions x {len(systems)} systems = {answers} answers; stand-in server, "
          f"{requests} requests; {os.cpu_count()} cores")
    print(f"  collection (pytest --collect-only): {collect:.1f} s")
    for mode, seconds in cold.items():
        print(f"  cold run {mode}: {seconds:.1f} s, {1000 * seconds / answers:.1f} ms per answer end to end, "
              f"{1000 * (seconds - collect - render) / answers:.1f} ms beyond collection and reports")
    print(f"  cached rerun: {warm:.1f} s, {1000 * (warm - collect - render) / answers:.1f} ms per answer")
    print(f"  harness report (results.json -> scorecard.md, chart, report.html): {render:.1f} s")
    print("  sizes: " + ", ".join(f"{name} {mb:.2f} MB" for name, mb in sizes.items()))


if __name__ == "__main__":
    main()
