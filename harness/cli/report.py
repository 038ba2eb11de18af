"""``harness report``: re-render a run's reports from its results.json alone."""
from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """The reports of a run from its results.json alone (an older file is migrated on read)."""
    from harness.render.publish import publish
    from harness.results.migrate import read_results_file

    path = Path(args.results_json)
    report = read_results_file(path)
    scorecard = Path(args.scorecard) if args.scorecard else path.with_name("scorecard.md")
    passed = publish(report, scorecard)
    migrated = f"; migrated from schema version {report.migrated_from}" if report.migrated_from else ""
    print(f"scorecard: {scorecard}  charts: {scorecard.with_name('accuracy.png')}, {scorecard.with_name('cost.png')}  "
          f"html: {scorecard.with_name('report.html')}  ({len(report.analysis.systems)} systems, "
          f"gate {'passes' if passed else 'fails'}{migrated})\nverdict: {report.analysis.verdict.headline}")
    return 0


def register(sub) -> None:
    report = sub.add_parser("report", help="re-render scorecard.md, the charts and report.html from results.json alone")
    report.add_argument("--results-json", default="reports/results.json")
    report.add_argument("--scorecard", default=None, help="default: scorecard.md beside results.json")
    report.set_defaults(func=run)
