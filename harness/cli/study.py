"""``harness study``: a grid over one fine-tuned system's settings, each cell trained, answered and judged."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.cache import DEFAULT_DIR


def run(args: argparse.Namespace) -> int:
    from harness.cli.report import joined_run
    from harness.study.grid import load_grid
    from harness.study.render import publish
    from harness.study.run import run_study
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    grid_path = Path(args.grid)
    grid, raw = load_grid(grid_path)
    study = run_study(suite, grid, grid_path, raw, generator=args.generator, cache_dir=args.cache_dir,
                      budget_minutes=args.budget)
    written = publish(study, Path(args.out))
    print(f"verdict: {study.verdict.headline}")
    for line in [*study.verdict.lines, *(x.line for x in study.loss_vs_accuracy)]:
        print(f"  {line}")
    print(f"study: {', '.join(str(p) for p in written)} ({len(study.cells)} cells, "
          f"{study.seconds / 60:.1f} min; estimated {study.estimate_seconds / 60:.1f})")
    joined_run(Path(args.out))
    return 0


def register(sub) -> None:
    study = sub.add_parser("study", help="a grid over one fine-tuned system's settings: train, answer and judge "
                                         "each cell; loss beside accuracy")
    study.add_argument("--suite", required=True)
    study.add_argument("--grid", required=True, help="grid YAML (docs/studies.md)")
    study.add_argument("--out", default="reports/study", help="folder for study.md, study.html, the charts and "
                                                              "study.json (default: %(default)s)")
    study.add_argument("--budget", type=float, default=None, metavar="MINUTES",
                       help="refuse, before training anything, a study estimated to take longer")
    study.add_argument("--generator", default=None, help="generator model, as the run's --generator")
    study.add_argument("--cache-dir", default=DEFAULT_DIR)
    study.set_defaults(func=run)
