"""Retrieval on a real rulebook nobody here wrote: the development set in ../shared/corpora.

Builds a suite at run time in a temporary folder (links to the rulebook and the 40 questions; they
are never copied into the project), then runs `harness sweep` with benchmarks/grids/dev.yaml and
the built-in RAG systems beside the grid, all in one run. Prints the sweep's table and the targets:
within ~300 context tokens, the best offline configuration's recall (target 0.90) and rag-hybrid's
recall@3 (target 0.85), next to rag-minilm's.

    .venv/bin/python benchmarks/sweep_dev.py [--corpora ../shared/corpora] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.cache import DEFAULT_DIR  # noqa: E402

SYSTEMS = ["rag-minilm", "rag-bm25", "rag-hybrid", "rag-hybrid3"]


def build_suite(corpora: Path, folder: Path) -> Path:
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "rules.md").symlink_to(corpora / "fit-touch-rules-5th-edition.md")
    (folder / "questions.yaml").symlink_to(corpora / "fit-dev-questions.yaml")
    # The default suite's retrieval settings, so the built-in systems are the ones the project ships.
    (folder / "suite.yaml").write_text("name: fit-dev\ngenerator: gemma3-270m\nchunking: {tokens: 100, overlap: 50}\n"
                                       "top_k: 3\nsystems: [baseline]\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--grid", default=str(ROOT / "benchmarks" / "grids" / "dev.yaml"))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="built-in systems to show beside the grid")
    parser.add_argument("--cache-dir", default=str(ROOT / DEFAULT_DIR))
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--json", default=None, help="keep the sweep's JSON here")
    args = parser.parse_args()
    corpora = Path(args.corpora).resolve()
    if not (corpora / "fit-dev-questions.yaml").is_file():
        sys.exit(f"no development set at {corpora}; pass --corpora")
    with tempfile.TemporaryDirectory() as tmp:
        suite = build_suite(corpora, Path(tmp) / "fit-dev")
        out = Path(args.json) if args.json else Path(tmp) / "sweep.json"
        subprocess.run([sys.executable, "-m", "harness.cli", "sweep", "--suite", str(suite), "--grid", args.grid,
                        "--systems", args.systems, "--cache-dir", args.cache_dir, "--budget", str(args.budget),
                        "--out", str(Path(tmp)), "--json", str(out)], cwd=ROOT, check=True)
        data = json.loads(out.read_text())
    named = {c["system"]["name"]: c for c in data["configs"] if "name" in c["system"]}
    best = data["best"]
    print(f"\ntargets on {data['suite']} (n={best['n']}), context budget {data['budget']} tokens:")
    print(f"  best offline configuration  recall@{best['k']} {best['recall']:.3f} (target 0.90)  "
          f"{best['context_tokens']:.0f} tokens  {best['label']}")
    for name in args.systems.split(","):
        row = named[name]
        target = "  (target 0.85)" if name == "rag-hybrid" else ""
        print(f"  {name:<27} recall@{row['k']} {row['recall']:.3f}{target}  {row['context_tokens']:.0f} tokens")


if __name__ == "__main__":
    main()
