"""``harness changes``: counterfactual edits of the documents drafted from the questions, for review."""
from __future__ import annotations

import argparse

from harness.cli.common import change_material
from harness.core.errors import HarnessError


def run(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.changes_draft import write_draft

    suite = load_suite(args.suite)
    path, summary = write_draft(suite.root, change_material(suite), args.count, args.seed)
    print(summary.line())
    if not summary.drafted:
        raise HarnessError("no edit drafted; nothing written (see the line above)")
    print(f"written to {path}; review it with `harness review --changes --suite {suite.root}`: accepted edits go "
          f"to changes/drafted.yaml (--name)")
    return 0


def register(sub) -> None:
    changes = sub.add_parser("changes", help="draft counterfactual edits of the documents from the questions, "
                                             "without a model, for review (changes.draft.yaml)")
    changes.add_argument("--suite", required=True)
    changes.add_argument("--count", type=int, default=10, help="edits to draft at most (%(default)s)")
    changes.add_argument("--seed", type=int, default=0, help="the same seed drafts the same file")
    changes.set_defaults(func=run)
