"""``harness quantize``: a GPTQ checkpoint of a suite's generator, calibrated on its corpus."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from harness.core.cache import DEFAULT_DIR
from harness.core.errors import HarnessError


def _words(text: str) -> list[tuple[int, int]]:
    """Word spans: calibration chunks need no exact tokens."""
    return [m.span() for m in re.finditer(r"\S+", text)]


def run(args: argparse.Namespace) -> int:
    from harness.models.hf import HFGenerator
    from harness.models.quantize import quantize
    from harness.retrieval.chunking import chunk_corpus
    from harness.contexts import SharedModels
    from harness.suite import load_suite

    suite = load_suite(args.suite, questions_required=False)
    generator = SharedModels(suite, args.generator, args.cache_dir).generator
    if not isinstance(generator, HFGenerator):
        raise HarnessError(f"harness quantize takes a transformers checkpoint; generator {generator.identity} is not one")
    generator.check_available()
    chunks = chunk_corpus(suite.documents, _words, args.chunk_words, 0, "sections")
    docs = {d.source: d.text for d in suite.documents}
    texts = [docs[c.source][c.start:c.end] for c in chunks][:args.calibration]
    out = Path(args.out)
    record = quantize(generator.weights_path(), generator.weights_identity, texts, out, args.bits, args.group_size)
    print(f"{generator.weights_identity} quantized to {args.bits}-bit GPTQ (group size {args.group_size}) on "
          f"{len(texts)} chunks of {suite.root / 'corpus'} in {record['seconds']} s: {out}\n"
          f"to run a suite on it: `generator: {out}` in suite.yaml, or `pytest evals --generator {out}`; "
          f"`harness compare` then sets its answers against the unquantized run's")
    return 0


def register(sub) -> None:
    quant = sub.add_parser("quantize", help="write a 4-bit GPTQ checkpoint of the suite's generator, calibrated on "
                                            "its corpus (needs the gptq extra)")
    quant.add_argument("--suite", required=True)
    quant.add_argument("--generator", default=None, help="default: the suite's generator")
    quant.add_argument("--out", required=True, help="folder for the checkpoint (never overwritten)")
    quant.add_argument("--bits", type=int, choices=(2, 3, 4, 8), default=4)
    quant.add_argument("--group-size", type=int, default=128, help="columns sharing one scale (%(default)s; -1: per row)")
    quant.add_argument("--calibration", type=int, default=128, help="corpus chunks to calibrate on (%(default)s)")
    quant.add_argument("--chunk-words", type=int, default=256, help="words per calibration chunk (%(default)s)")
    quant.add_argument("--cache-dir", default=DEFAULT_DIR)
    quant.set_defaults(func=run)
