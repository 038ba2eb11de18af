"""What caching the shared head of every prompt (instructions and worked examples) saves.

The transformers backend computes the keys and values of a system's head once (harness/models/hf.py,
_head_cache) and prefills only the rest of each prompt. This times the default generator on the same
prompts both ways, interleaved (benchmarks/interleave.py): baseline prompts (the head is most of them)
and RAG prompts as rag-minilm builds them. LoRA systems are asked with the question alone: no head.
It also prints how many answers differ, since the head's cache rounds differently from one prefill.

    .venv/bin/python benchmarks/head_cache.py [--prompts 16] [--rounds 3] [--dtype auto]
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
from harness.models.prompts import PromptParts, completion_head  # noqa: E402
from harness.suite import load_suite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16"))
    args = parser.parse_args()
    generator = make_generator(EMBEDDED, Generation(dtype=args.dtype), ROOT / DEFAULT_DIR)
    print(f"generation: {generator.dtype_decision}")
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    cfg = suite.config
    baseline = [PromptParts(cfg.instructions, tuple(cfg.examples), None, q.question)
                for q in suite.questions[:args.prompts]]
    head = completion_head(baseline[0])
    print(f"the head: {len(generator._head_tokens(head))} tokens")
    for label, parts in (("baseline prompts", baseline), ("RAG prompts", rag_prompts(args.prompts))):
        texts = [generator.render(p) for p in parts]
        tokens = sum(len(generator._tokens(t)) for t in texts) / len(texts)
        ways = {"whole prompt": lambda: generator._run(texts, generator.settings.max_new_tokens),
                "head cached": lambda: generator._run(texts, generator.settings.max_new_tokens,
                                                      heads=[head] * len(texts))}
        start = time.perf_counter()
        seconds = interleave(ways, args.rounds)
        print(f"\n{label} ({len(texts)} per call, {tokens:.0f} tokens on average, {args.rounds} rounds, "
              f"{time.perf_counter() - start:.0f} s):")
        print("\n".join(report(seconds, "whole prompt", work=len(texts), unit="answers")))
        same = sum(a == b for a, b in zip(ways["whole prompt"](), ways["head cached"]()))
        print(f"  identical answers: {same}/{len(texts)}")


if __name__ == "__main__":
    main()
