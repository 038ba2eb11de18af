"""``harness synth``: training pairs synthesized from the corpus with a generator."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import make_writer, writing_arguments


def run(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.synth import synthesize
    from harness.training.writing import save_entries

    suite = load_suite(args.suite, questions_required=False)
    models, writer = make_writer(args, suite, 256)
    pairs, summary = synthesize(suite, writer, models.embedder(args.embedder), args.pairs_per_chunk)
    line = summary.line(models.generator.identity)
    print(line)
    out = save_entries(Path(args.out) if args.out else suite.root / suite.config.training.file,
                       [p.model_dump() for p in pairs], line, args.append)
    print(f"written to {out}")
    return 0


def register(sub) -> None:
    synth = sub.add_parser("synth", help="synthesize training pairs from the corpus with a generator")
    synth.add_argument("--suite", required=True)
    synth.add_argument("--generator", default=None, help="default: the suite's generator")
    synth.add_argument("--embedder", default="minilm", help="for chunking, near-duplicates and decontamination")
    synth.add_argument("--pairs-per-chunk", type=int, default=3)
    synth.add_argument("--out", default=None, help="default: the suite's training file (an existing one is never "
                                                   "overwritten: the pairs go beside it, or --append)")
    writing_arguments(synth)
    synth.set_defaults(func=run)
