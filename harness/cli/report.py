"""``harness report``: re-render a run's reports from its results.json alone."""
from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """The reports of a run from its results.json alone (an older file is migrated on read), or of a study
    from its study.json."""
    if args.study:
        return _study(Path(args.study))
    from harness.render.publish import publish
    from harness.results.migrate import read_results_file
    from harness.study.render import sections_beside

    path = Path(args.results_json)
    report = read_results_file(path)
    scorecard = Path(args.scorecard) if args.scorecard else path.with_name("scorecard.md")
    passed = publish(report, scorecard, sections=sections_beside(path.parent))
    migrated = f"; migrated from schema version {report.migrated_from}" if report.migrated_from else ""
    print(f"scorecard: {scorecard}  charts: {scorecard.with_name('accuracy.png')}, {scorecard.with_name('cost.png')}  "
          f"html: {scorecard.with_name('report.html')}  ({len(report.analysis.systems)} systems, "
          f"gate {'passes' if passed else 'fails'}{migrated})\nverdict: {report.analysis.verdict.headline}")
    return 0


def _study(path: Path) -> int:
    from harness.study.model import read_study
    from harness.study.render import publish

    study = read_study(path)
    written = publish(study, path.parent)
    print(f"study: {', '.join(str(p) for p in written[1:])}\nverdict: {study.verdict.headline}")
    joined_run(path.parent)
    return 0


def joined_run(study_dir: Path) -> None:
    """A study written beside a run's results.json (reports/study/) joins that run's report.html."""
    from harness.render.publish import publish
    from harness.results.migrate import read_results_file
    from harness.study.render import STUDY_DIR, sections_beside

    results = study_dir.parent / "results.json"
    if study_dir.name == STUDY_DIR and results.is_file():
        publish(read_results_file(results), results.with_name("scorecard.md"), sections=sections_beside(results.parent))
        print(f"and a section of {results.with_name('report.html')}")


def register(sub) -> None:
    report = sub.add_parser("report", help="re-render scorecard.md, the charts and report.html from results.json alone")
    report.add_argument("--results-json", default="reports/results.json")
    report.add_argument("--scorecard", default=None, help="default: scorecard.md beside results.json")
    report.add_argument("--study", default=None, metavar="STUDY_JSON",
                        help="render a study's reports again from its study.json (`harness study`) instead")
    report.set_defaults(func=run)
