"""``harness compare``: NEW against OLD, from their two results.json."""
from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """NEW against OLD from the two files alone; exit 1 on a regression with --fail-on-regression."""
    from harness.core.cache import write_atomic
    from harness.render.comparison import render_comparison
    from harness.render.publish import publish
    from harness.results.compare import with_comparison
    from harness.results.migrate import read_results_file

    old, new = read_results_file(Path(args.old)), read_results_file(Path(args.new))
    report = with_comparison(new, old, args.old, args.new)
    comparison = report.analysis.comparison
    text = "\n".join([f"# {comparison.suite}: {args.new} against {args.old}", "", *render_comparison(comparison), ""])
    print(text)
    if args.out:
        out = Path(args.out)
        write_atomic(out / "compare.md", text)
        publish(report, out / "scorecard.md")
        print(f"written: {out / 'compare.md'}, {out / 'scorecard.md'}, {out / 'report.html'}")
    regressions = comparison.regressions
    if regressions:
        print(f"{len(regressions)} regression(s): " + "; ".join(f"{s.system}: {s.regression}" for s in regressions))
    return 1 if regressions and args.fail_on_regression else 0


def register(sub) -> None:
    compare = sub.add_parser("compare", help="compare two runs' results.json: flipped answers, McNemar, changes")
    compare.add_argument("old", metavar="OLD.json")
    compare.add_argument("new", metavar="NEW.json")
    compare.add_argument("--fail-on-regression", action="store_true",
                         help="exit 1 when a system got significantly worse or fails its threshold in NEW")
    compare.add_argument("--out", default=None, help="folder for compare.md, and NEW's reports with the comparison")
    compare.set_defaults(func=run)
