"""`pytest evals -n 2` against a serial run, on the default suite's answer tests, each with no cached answer.

Each call runs `pytest evals --systems SYSTEMS -k answer` in a subprocess, over a copy of the
project's cache with its answers left out (everything else hard-linked: the converted model, the
embeddings), so every answer is generated and nothing else is. The contenders run interleaved
(benchmarks/interleave.py); the ratio is the serial median over each contender's.

    .venv/bin/python benchmarks/xdist_speed.py [--rounds 2] [--systems baseline,rag-bm25,rag-hybrid3] [--cache-dir DIR]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.interleave import interleave, report  # noqa: E402
from harness.core.cache import DEFAULT_DIR  # noqa: E402


def without_answers(cache: Path, scratch: Path) -> Path:
    """A fresh cache: hard links to everything in ``cache`` but its answers."""
    target = Path(tempfile.mkdtemp(dir=scratch))
    for part in cache.iterdir():
        if part.name != "answer":
            subprocess.run(["cp", "-al", str(part), str(target / part.name)], check=True)
    return target


def run(systems: str, cache: Path, scratch: Path, *extra: str) -> None:
    cache = without_answers(cache, scratch)
    out = cache / "reports"
    proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "--systems", systems, "-k", "answer", "-q",
                           "-p", "no:cacheprovider", "--cache-dir", str(cache), "--results-json",
                           str(out / "results.json"), "--scorecard", str(out / "scorecard.md"), *extra],
                          cwd=ROOT, capture_output=True, text=True)
    if "answers generated now: 0" in proc.stdout or proc.returncode not in (0, 1):
        sys.exit(f"the run did not generate its answers (rc {proc.returncode}):\n{proc.stdout[-2000:]}")
    shutil.rmtree(cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--systems", default="baseline,rag-bm25,rag-hybrid3")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / DEFAULT_DIR)
    args = parser.parse_args()
    if not args.cache_dir.is_dir():
        sys.exit(f"run `make eval` once first: {args.cache_dir} holds the converted model and the embeddings")
    n = len(args.systems.split(","))
    with tempfile.TemporaryDirectory(dir=args.cache_dir.parent) as tmp:  # hard links need the same file system
        scratch = Path(tmp)
        seconds = interleave({"serial": lambda: run(args.systems, args.cache_dir, scratch),
                              "-n 2": lambda: run(args.systems, args.cache_dir, scratch, "-n", "2")}, args.rounds)
    print(f"pytest evals --systems {args.systems} -k answer, no cached answer, {args.rounds} interleaved rounds:")
    print("\n".join(report(seconds, "serial", work=n, unit="systems")))


if __name__ == "__main__":
    main()
