"""Coverage of the judge-corrected accuracy's 95% interval, on synthetic runs whose truth is known.

Default-suite-sized runs (58 questions), each reviewed the way a real run is: reviews.yaml written as
`harness review --sample N --seed S` writes it, loaded, and matched to the rows as a rerun grades them.
The designs of issue 27: one system with 30 of its 58 answers reviewed, and all 5 default systems
sharing samples of 30, 60 and 120; the judge wrong on 2%, 8% or 15% of each system's answers (as
many false positives as false negatives), and as the issue measured on the default run (14% false
negatives on right answers, 2% false positives). Prints, per design, the share of intervals covering
the accuracy a full human review gives, their mean width and how many had zero width: for the harness's
exact interval, and for the reference measured in the same run, the normal (CLT) interval the harness
used before (the variance of human − judge, the larger of the system's and all systems' pooled).
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from synthetic_run import SYSTEMS, ppi_coverage, ppi_intervals  # noqa: E402

from harness.results.ppi import judge_said  # noqa: E402
from harness.suite import load_suite  # noqa: E402

DESIGNS = [(["rag-minilm"], 30), (SYSTEMS, 30), (SYSTEMS, 60), (SYSTEMS, 120)]
ERRORS = {"2%": (0.02, 0.02), "8%": (0.08, 0.08), "15%": (0.15, 0.15), "issue's": (0.14, 0.02)}


def normal_intervals(rows) -> dict[str, tuple[float, float]]:
    """The reference: judged + mean(human − judge) ± 1.96 sd √((1 − n/N)/n), sd the larger of own and pooled."""
    judged, diffs = {}, {}
    for r in rows:
        if r.answer is not None:
            judge = int(bool(judge_said(r)))
            judged.setdefault(r.system, []).append(judge)
            if r.sampled:
                diffs.setdefault(r.system, []).append(int(r.correct) - judge)
    means = {name: sum(d) / len(d) for name, d in diffs.items()}
    centred = [x - means[name] for name, d in diffs.items() for x in d]
    dof = len(centred) - len(diffs)
    pooled = sum(c * c for c in centred) / dof if dof > 0 else 0.0
    out = {}
    for name, d in diffs.items():
        n, big_n = len(d), len(judged[name])
        own = sum((x - means[name]) ** 2 for x in d) / (n - 1) if n > 1 else 0.0
        value = sum(judged[name]) / big_n + means[name]
        half = 1.959964 * (max(own, pooled) * (1 - n / big_n) / n) ** 0.5
        out[name] = (max(0.0, value - half), min(1.0, value + half))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=500)
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    print(f"{len(suite.questions)} questions, {args.repeats} synthetic runs per design")
    print(f"{'systems':<8} {'reviewed':>8} {'judge errs':>10}  {'exact: coverage':>16} {'width':>6} {'zero':>5}"
          f"  {'normal: coverage':>17} {'width':>6} {'zero':>5}  width ratio")
    for systems, sample in DESIGNS:
        for label, errors in ERRORS.items():
            runs = ppi_coverage(suite, systems, args.repeats, sample, errors=errors,
                                methods={"exact": ppi_intervals, "normal": normal_intervals})
            exact, normal = runs["exact"], runs["normal"]
            print(f"{len(systems):<8} {sample:>8} {label:>10}  {exact[0]:>16.1%} {100 * exact[1]:>6.1f} {exact[2]:>5}"
                  f"  {normal[0]:>17.1%} {100 * normal[1]:>6.1f} {normal[2]:>5}  {exact[1] / normal[1]:.2f}",
                  flush=True)
