"""``harness judge`` audits a judge on your labels; ``harness report`` re-renders reports from results.json."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.errors import HarnessError


def _judge(args: argparse.Namespace) -> int:
    from harness.calibration import grade_candidates, load_candidates
    from harness.run import EvalRun
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    candidates = load_candidates(Path(args.candidates), suite.questions, require_labels=False)
    run = EvalRun(suite, [], judge=args.judge, cache_dir=args.cache_dir)
    verdicts, agreement = grade_candidates(run.judge, suite.questions, candidates)
    labelled = agreement.n > 0
    if args.json:
        print(json.dumps({
            "judge": run.judge.identity,
            "verdicts": [{"q": c.q, "candidate": c.candidate, "label": c.label, "correct": v.correct,
                          "explanation": v.explanation, "raw": v.raw} for c, v in zip(candidates, verdicts)],
            "agreement": agreement.summary() if labelled else None}, indent=2, ensure_ascii=False))
        return 0
    word = {True: "correct", False: "incorrect", None: "unscored"}
    for c, v in zip(candidates, verdicts):
        flag = "" if c.label is None or c.label == v.correct else "   <- human says " + word[c.label]
        print(f"{c.q:<6} {word[v.correct]:<10} {c.candidate!r} ({v.explanation}){flag}")
    if labelled:
        s = agreement.summary()
        print(f"\njudge {run.judge.identity}: agreement {s['agree']}/{s['n']} ({agreement.agreement:.1%}), "
              f"Cohen's kappa {s['kappa']}, unscored {s['unscored']}")
        print(f"confusion (judge vs human): correct/correct {s['tp']}, correct/incorrect {s['fp']}, "
              f"incorrect/correct {s['fn']}, incorrect/incorrect {s['tn']}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from harness.scorecard import write_reports
    from harness.suite import load_suite

    path = Path(args.results_json)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        suite_dir = data["run"]["suite_dir"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise HarnessError(f"not a harness results.json: {type(err).__name__}: {err}", path=path) from None
    scorecard = Path(args.scorecard) if args.scorecard else path.with_name("scorecard.md")
    report = write_reports(load_suite(suite_dir), data, scorecard)
    print(f"scorecard: {scorecard}  chart: {scorecard.with_name('accuracy.png')}  "
          f"({len(report.metrics)} systems, gate {'passes' if all(r.status != 'FAIL' for r in report.gate) else 'fails'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    judge = sub.add_parser("judge", help="grade a YAML list of {q, candidate, label} and compare with the labels")
    judge.add_argument("--suite", required=True)
    judge.add_argument("--candidates", required=True)
    judge.add_argument("--judge", default=None, help="default: the suite's judge")
    judge.add_argument("--json", action="store_true")
    judge.add_argument("--cache-dir", default=".cache/harness")
    judge.set_defaults(func=_judge)
    report = sub.add_parser("report", help="re-render scorecard.md and accuracy.png from results.json")
    report.add_argument("--results-json", default="reports/results.json")
    report.add_argument("--scorecard", default=None, help="default: scorecard.md beside results.json")
    report.set_defaults(func=_report)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
