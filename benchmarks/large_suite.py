"""The harness's own cost on a suite of thousands of questions, with a generator that costs nothing.

A made-up rulebook and its questions are written by code (tests/synthetic_run.py, nothing
committed); a loopback stand-in OpenAI-compatible server answers at once. The main job runs cold
(empty cache), then again fully cached, and `harness report` re-renders the reports; it prints
collection time, the harness's overhead per answer, and the size and writing time of results.json,
scorecard.md and report.html. report.html's load and filter times in a browser are
benchmarks/html_report.py's.

    .venv/bin/python benchmarks/large_suite.py [--questions 2000] [--systems baseline,rag-bm25]
"""
from __future__ import annotations

import argparse
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--systems", default="baseline,rag-bm25")
    args = parser.parse_args()
    systems = args.systems.split(",")
    with tempfile.TemporaryDirectory() as tmp, StandIn() as server:
        root, out, cache = Path(tmp) / "suite", Path(tmp) / "reports", Path(tmp) / "cache"
        made_up_suite(root, args.questions)
        (root / "suite.yaml").write_text(json.dumps({"name": f"made-up-{args.questions}", "systems": systems,
                                                     "generation": {"prompt_style": "chat"}}))
        pytest = [sys.executable, "-m", "pytest", "evals", "--suite", str(root), "-p", "no:cacheprovider", "-q",
                  "--generator", f"openai:stand-in@{server.url}", "--cache-dir", str(cache),
                  "--results-json", str(out / "results.json"), "--scorecard", str(out / "scorecard.md")]
        collect = timed([*pytest, "--collect-only"])
        cold = timed(pytest)
        requests = len(server.requests)
        warm = timed(pytest)
        render = timed([sys.executable, "-m", "harness.cli", "report", "--results-json", str(out / "results.json")])
        answers = len(json.loads((out / "results.json").read_text())["results"])
        sizes = {name: (out / name).stat().st_size / 1e6 for name in ("results.json", "scorecard.md", "report.html")}
    print(f"{args.questions} questions x {len(systems)} systems = {answers} answers; stand-in server, "
          f"{requests} requests; {os.cpu_count()} cores")
    print(f"  collection (pytest --collect-only): {collect:.1f} s")
    print(f"  cold run: {cold:.1f} s, {1000 * (cold - collect - render) / answers:.1f} ms per answer beyond "
          f"collection and reports")
    print(f"  cached rerun: {warm:.1f} s, {1000 * (warm - collect - render) / answers:.1f} ms per answer")
    print(f"  harness report (results.json -> scorecard.md, chart, report.html): {render:.1f} s")
    print("  sizes: " + ", ".join(f"{name} {mb:.2f} MB" for name, mb in sizes.items()))


if __name__ == "__main__":
    main()
