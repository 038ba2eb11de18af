"""``harness sweep``: retrieval settings compared on a suite, without generating."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.core.cache import DEFAULT_DIR


def run(args: argparse.Namespace) -> int:
    from harness import sweep
    from harness.core.progress import progress
    from harness.contexts import SharedModels
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    grid_path = Path(args.grid) if args.grid else None
    grid, lines = sweep.load_grid(grid_path)
    configs = sweep.grid_configs(grid, grid_path, lines) + sweep.suite_configs(suite, args.systems)
    models = SharedModels(suite, cache_dir=args.cache_dir)
    count, counted_with = sweep.generator_token_counter(models)
    with progress("sweeping retrieval", total=len(configs), unit="configurations") as bar:
        rows = sweep.evaluate(configs, models, count, on_done=lambda: bar.update(1))
    print(f"suite {suite.name}: {rows[0].n} questions with evidence, {len(configs)} configurations; "
          f"context tokens counted with {counted_with}\n")
    print(sweep.table(rows))
    print("\nbest per context budget (tokens per query):")
    for budget in sorted({*sweep.BUDGETS, args.budget}):
        row = sweep.best(rows, budget)
        print(f"  {budget:>5}: " + (f"{row.config.label} k={row.k}  recall@k {row.recall:.3f}  mrr {row.mrr:.3f}  "
                                    f"{row.context_tokens:.0f} tokens" if row else "nothing fits"))
    chosen = sweep.best(rows, args.budget)
    out = Path(args.out)
    sweep.chart(rows, out / "sweep.png", f"{suite.name}: retrieval recall by chunk size")
    print(f"\nchart: {out / 'sweep.png'}")
    if chosen:
        print(f"best within {args.budget} context tokens, ready to paste under `systems:`:\n"
              + sweep.paste_entry(chosen))
    if args.json:
        data = {"suite": suite.name, "budget": args.budget, "configs": [r.json() for r in rows],
                "best": chosen.json() if chosen else None}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def register(sub) -> None:
    sweep = sub.add_parser("sweep", help="compare retrieval settings on a suite (no generation)")
    sweep.add_argument("--suite", required=True)
    sweep.add_argument("--grid", default=None, help="grid YAML (default: the built-in grid)")
    sweep.add_argument("--systems", default=None, help="suite systems to show beside the grid, comma-separated")
    sweep.add_argument("--budget", type=int, default=300, help="context tokens per query for 'best' (%(default)s)")
    sweep.add_argument("--out", default="reports", help="folder for sweep.png (default: %(default)s)")
    sweep.add_argument("--json", default=None, metavar="PATH", help="write every configuration's figures here")
    sweep.add_argument("--cache-dir", default=DEFAULT_DIR)
    sweep.set_defaults(func=run)
