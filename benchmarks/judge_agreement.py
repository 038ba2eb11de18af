"""Agreement of each judge with human labels: the suite's calibration set, a held-out set, and the
answers the systems really gave (the suite's judge_real_answers.yaml), where it also prints how far
each system's judged accuracy is from its labelled one.

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
from harness.judges.calibration import grade_candidates, load_candidates, system_gaps  # noqa: E402
from harness.run import SharedModels, make_run_judge  # noqa: E402
from harness.suite import load_suite  # noqa: E402

HELD_OUT = ROOT / "tests" / "data" / "judge_heldout.yaml"


def labelled_sets(suite) -> dict:
    return {"calibration": suite.calibration,
            "held-out": load_candidates(HELD_OUT, suite.questions, require_labels=True),
            "real": suite.real_answers}


def print_gaps(name: str, gaps: dict) -> None:
    print(f"\n{name}: judged against labelled accuracy per system, real answers")
    print(f"{'system':<12} {'n':>3} {'labelled':>9} {'judged':>7} {'gap (points)':>13}")
    for system, g in gaps.items():
        print(f"{system:<12} {g.n:>3} {g.labelled / g.n:>9.1%} {g.judged / g.n:>7.1%} {g.points:>+13.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judges", default="match,llm,hybrid")
    parser.add_argument("--cache-dir", default=str(ROOT / DEFAULT_DIR))
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    sets = labelled_sets(suite)
    for name in args.judges.split(","):
        judge = make_run_judge(SharedModels(suite, cache_dir=args.cache_dir), name)
        print(f"{'judge':<8} {'set':<12} {'n':>4} {'agreement':>10} {'kappa':>7} {'unscored':>9} "
              f"{'tp/fp/fn/tn':>14} {'s':>6}")
        verdicts = {}
        for label, candidates in sets.items():
            start = time.perf_counter()
            verdicts[label], a = grade_candidates(judge, suite.questions, candidates)
            c = a.confusion
            kappa = "–" if a.kappa is None else f"{a.kappa:.3f}"
            print(f"{name:<8} {label:<12} {a.n:>4} {a.agreement:>10.1%} {kappa:>7} {a.unscored:>9} "
                  f"{c['tp']:>3}/{c['fp']}/{c['fn']}/{c['tn']:<3} {time.perf_counter() - start:>6.1f}")
        print_gaps(name, system_gaps(sets["real"], verdicts["real"]))
        print()


if __name__ == "__main__":
    main()
