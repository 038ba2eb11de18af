"""Answering speed of the default generator in float32 and bfloat16, with and without a LoRA adapter.

`generation.dtype: auto` answers in bfloat16 where it measured faster on this CPU (harness/core/dtype.py),
or on a GPU that supports it. This times both dtypes on the same prompts, interleaved (benchmarks/interleave.py): RAG prompts as
rag-minilm builds them (about 450 tokens) and the short prompts a LoRA system is asked with, with
the default suite's lora adapter switched on (trained first if it is not cached). It also times the
output-layer workaround in harness/generators.py against torch's own path, and prints how many
answers differ between the dtypes.

    .venv/bin/python benchmarks/answer_speed.py [--prompts 16] [--rounds 5] [--no-lora]

``--no-lora`` leaves out the LoRA prompts, and so the adapter's training when it is not cached.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.backends import rag_prompts  # noqa: E402
from benchmarks.interleave import interleave, report  # noqa: E402
from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.inputs.config import Generation  # noqa: E402
from harness.models import EMBEDDED, make_generator  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from harness.training.lora import lora_prompt  # noqa: E402

CACHE = ROOT / DEFAULT_DIR


def output_layer(rounds: int) -> None:
    """torch's CPU bfloat16 linear on the non-contiguous last position, against a contiguous copy."""
    import torch

    weight = torch.randn(262144, 640).to(torch.bfloat16)  # Gemma 3 270M's output layer
    last = torch.randn(8, 30, 640).to(torch.bfloat16)[:, -1:, :]
    seconds = interleave({"contiguous": lambda: torch.nn.functional.linear(last.contiguous(), weight),
                          "torch as is": lambda: torch.nn.functional.linear(last, weight)}, rounds)
    print("output layer, batch of 8, bfloat16:")
    print("\n".join(report(seconds, "contiguous", work=8, unit="rows")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-lora", action="store_true", help="RAG prompts only: no adapter to train")
    args = parser.parse_args()
    print(f"this machine: generation.dtype auto -> {make_generator(EMBEDDED, Generation(), CACHE).dtype_decision}")
    output_layer(args.rounds)

    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    adapter = None if args.no_lora else EvalRun(suite, suite.systems, cache_dir=CACHE).system("lora").adapter
    generators = {dtype: make_generator(EMBEDDED, Generation(dtype=dtype), CACHE) for dtype in ("float32", "bfloat16")}
    rag = [generators["float32"].render(p) for p in rag_prompts(args.prompts)]
    short = [lora_prompt(q.question) for q in suite.questions[:args.prompts]]

    def answer(dtype: str, texts: list[str], lora: bool):
        generator = generators[dtype]
        if not lora:
            return generator._run(texts, generator.settings.max_new_tokens)
        with generator.adapter("lora", adapter.path):
            return generator._run(texts, generator.settings.max_new_tokens)

    kinds = [("RAG prompts", rag, False)] + ([] if adapter is None else [("LoRA prompts, adapter on", short, True)])
    for label, texts, lora in kinds:
        contenders = {dtype: (lambda d=dtype: answer(d, texts, lora)) for dtype in generators}
        start = time.perf_counter()
        seconds = interleave(contenders, args.rounds)
        print(f"\n{label} ({len(texts)} per call, {args.rounds} rounds, {time.perf_counter() - start:.0f} s):")
        print("\n".join(report(seconds, "float32", work=len(texts), unit="answers")))
        same = sum(a == b for a, b in zip(answer("float32", texts, lora), answer("bfloat16", texts, lora)))
        print(f"  identical answers: {same}/{len(texts)}")


if __name__ == "__main__":
    main()
