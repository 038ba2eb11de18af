"""``harness merge``: join the results.json of a sharded run and apply the gate."""
from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from harness.render.publish import publish
    from harness.results.merge import merge_parts
    from harness.results.migrate import read_results_file
    from harness.study.render import sections_beside

    parts = [(Path(p), read_results_file(Path(p))) for p in args.parts]
    report = merge_parts(parts)
    out = Path(args.out)
    passed = publish(report, out / "scorecard.md", out / "results.json", sections_beside(out))
    print(f"merged {len(parts)} parts, {len(report.results)} answers: {out / 'results.json'}, {out / 'scorecard.md'}, "
          f"{out / 'report.html'}; gate {'passes' if passed else 'fails'}\nverdict: {report.analysis.verdict.headline}")
    return 0 if passed else 1


def register(sub) -> None:
    merge = sub.add_parser("merge", help="join the results.json of a sharded run (--shard I/N) and apply the gate")
    merge.add_argument("parts", nargs="+", metavar="PART.json")
    merge.add_argument("--out", required=True, help="folder for results.json, scorecard.md and report.html")
    merge.set_defaults(func=run)
