"""Agreement of each judge with human labels: the suite's calibration set and a held-out set.

The held-out labels (tests/data/judge_heldout.yaml) were written apart from the calibration set
and are never used to tune a judge; they say how a judge does on answers it was not fitted to.

    .venv/bin/python benchmarks/judge_agreement.py [--judges match,llm,hybrid]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.judges.calibration import grade_candidates, load_candidates  # noqa: E402
from harness.run import SharedModels, make_run_judge  # noqa: E402
from harness.suite import load_suite  # noqa: E402

SETS = {"calibration": ROOT / "fixtures" / "touch_rugby" / "judge_calibration.yaml",
        "held-out": ROOT / "tests" / "data" / "judge_heldout.yaml"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judges", default="match,llm,hybrid")
    parser.add_argument("--cache-dir", default=str(ROOT / DEFAULT_DIR))
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    print(f"{'judge':<8} {'set':<12} {'n':>4} {'agreement':>10} {'kappa':>7} {'unscored':>9} {'tp/fp/fn/tn':>14} {'s':>6}")
    for name in args.judges.split(","):
        judge = make_run_judge(SharedModels(suite, cache_dir=args.cache_dir), name)
        for label, path in SETS.items():
            candidates = load_candidates(path, suite.questions, require_labels=True)
            start = time.perf_counter()
            _, a = grade_candidates(judge, suite.questions, candidates)
            c = a.confusion
            kappa = "–" if a.kappa is None else f"{a.kappa:.3f}"
            print(f"{name:<8} {label:<12} {a.n:>4} {a.agreement:>10.1%} {kappa:>7} {a.unscored:>9} "
                  f"{c['tp']:>3}/{c['fp']}/{c['fn']}/{c['tn']:<3} {time.perf_counter() - start:>6.1f}")


if __name__ == "__main__":
    main()
