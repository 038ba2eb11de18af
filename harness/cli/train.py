"""``harness train``: build a suite's systems into the cache once (LoRA adapters trained, the corpus embedded)."""
from __future__ import annotations

import argparse

from harness.core.cache import DEFAULT_DIR


def run(args: argparse.Namespace) -> int:
    """Build the systems once, into the cache: LoRA adapters trained, the corpus embedded. Shards of
    a run (--shard) then share that cache, and never train."""
    from harness.core.errors import Unavailable
    from harness.run import EvalRun
    from harness.suite import load_suite
    from systems.base import Trained

    suite = load_suite(args.suite)
    names = args.system or list(suite.default_systems)
    run = EvalRun(suite, [suite.system(n) for n in names], generator=args.generator, cache_dir=args.cache_dir)
    # with a change set, the adapters brought up to date after the change too (the change study's refreshed)
    conditions = (None, "refreshed") if suite.change else (None,)
    for name, condition in ((n, c) for n in names for c in conditions):
        try:
            built = run.prepare(name, condition)
        except Unavailable as why:
            print(f"{name}: skipped: {why}")
            continue
        for seed, adapter, _ in built.adapters if isinstance(built, Trained) else ():  # one per seed
            log = adapter.log
            label = f"{name}, {condition}" if condition else name
            print(f"{label} (seed {seed}): adapter {adapter.path}\n  {log['examples']} pairs, "
                  f"{log['settings']['epochs']:g} epochs, {log['seconds']} s ({log['examples_per_second']} examples/s); "
                  f"last train loss {log['train'][-1][1] if log['train'] else '-'}, "
                  f"last eval loss {log['eval'][-1][1] if log['eval'] else '-'}")
    return 0


def register(sub) -> None:
    train = sub.add_parser("train", help="train (or find cached) the LoRA adapters of a suite's systems")
    train.add_argument("--suite", required=True)
    train.add_argument("--system", action="append", default=None,
                       help="a system to build (repeatable); default: every system of the suite")
    train.add_argument("--generator", default=None,
                       help="generator model, as the run's --generator (default: the suite's)")
    train.add_argument("--cache-dir", default=DEFAULT_DIR)
    train.set_defaults(func=run)
