"""``harness judge`` audits a judge on your labels; ``harness report`` re-renders reports from results.json;
``harness compare`` compares two runs; ``harness review`` records human verdicts; ``harness sweep``
compares retrieval settings on a suite without generating; ``harness changes`` drafts edits of the documents;
``harness study`` runs a grid over a fine-tuned system's settings."""
from __future__ import annotations

import argparse
import sys

from harness.cli import changes, compare, draft, judge, merge, quantize, report, review, study, sweep, synth, train
from harness.core.errors import HarnessError, Unavailable

# One module a command: its ``register(sub)`` adds its subparser and sets ``func``, the handler that returns the
# exit status. A new command is a new module added here; this order is the order of ``harness --help``.
COMMANDS = (judge, report, compare, review, merge, train, study, synth, draft, changes, quantize, sweep)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (HarnessError, Unavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
