"""What several commands share: the options of the commands that write with a generator, the generator
and its cached replies, and the material drafted edits are checked against."""
from __future__ import annotations

import argparse

from harness.core.cache import DEFAULT_DIR


def writing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--append", action="store_true", help="merge into an existing file instead of writing beside it")
    parser.add_argument("--max-concurrency", type=int, default=None,
                        help="requests in flight to a server generator (default: generation.max_concurrency)")
    parser.add_argument("--cache-dir", default=DEFAULT_DIR)


def make_writer(args: argparse.Namespace, suite, max_new_tokens: int, stop=()):
    """The generator (any backend, through the registry) and its cached free-text replies."""
    from harness.contexts import SharedModels
    from harness.training.writing import Writer

    if args.max_concurrency:
        suite = suite.with_generation(max_concurrency=args.max_concurrency)
    models = SharedModels(suite, args.generator, args.cache_dir)
    models.generator.check_available()
    return models, Writer(models.generator, models.cache, max_new_tokens, stop)


def change_material(suite):
    """What drafted edits are checked against: the suite as it reads before any change set."""
    from harness.training.changes_draft import Material

    return Material(suite.documents, suite.questions, suite.evidence, suite.train_pairs)
