"""Coverage of the judge-corrected accuracy's 95% interval, on synthetic runs whose truth is known.

Default-suite-sized runs (5 systems x 58 questions; judge errs like the issue measured: 14% false
negatives on right answers, 2% false positives), each reviewed on a stratified sample the way a
real run is: reviews.yaml written as `harness review --sample N --seed S` writes it, loaded, and
matched to the rows as a rerun grades them. Prints the share of intervals covering the accuracy a
full human review gives, for the harness's interval and for the textbook per-system CLT interval.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from synthetic_run import SYSTEMS, ppi_coverage  # noqa: E402

from harness.suite import load_suite  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1000)
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    print(f"{len(SYSTEMS)} systems x {len(suite.questions)} questions, {args.repeats} synthetic runs each")
    for sample in (30, 60, 120):
        results = ppi_coverage(suite, SYSTEMS, args.repeats, sample)
        for pooled, label in ((True, "harness (pooled variance)"), (False, "textbook per-system CLT")):
            coverage, width, n = results[pooled]
            print(f"  {sample:>3} reviewed  {label:<26} coverage {coverage:6.1%} of {n} intervals, "
                  f"mean width {100 * width:4.1f} points")
