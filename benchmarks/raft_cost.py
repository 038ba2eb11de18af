"""What RAFT's context costs in training: the same pairs with bare prompts (lora) and with RAFT prompts.

Both runs use the harness's trainer (answer-only logits) and the default suite's raft settings, on
fresh copies of the base model, one after the other in one process, so a shared machine slows
both alike; the ratio is the figure to read.

    .venv/bin/python benchmarks/raft_cost.py [--pairs N] [--distractors D]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.inputs.trainset import cap_phrasings  # noqa: E402
from harness.contexts import SharedModels  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from harness.training.lora import lora_prompt, sft_trainer  # noqa: E402
from systems.lora import settings_of  # noqa: E402
from systems.raft import RaftPlanner  # noqa: E402


def examples_per_second(run: SharedModels, pairs, settings, contexts) -> float:
    model, tokenizer = run.generator.fresh_copy()
    with tempfile.TemporaryDirectory() as tmp:
        trainer, n = sft_trainer(model, tokenizer, pairs, settings, Path(tmp), contexts=contexts)
        start = time.perf_counter()
        trainer.train()
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--distractors", type=int, default=None, help="default: the suite's raft setting")
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    run = SharedModels(suite, cache_dir=ROOT / DEFAULT_DIR)
    spec = suite.system("raft")
    options = spec.options if args.distractors is None else spec.options.model_copy(
        update={"distractors": args.distractors})
    source = suite.system(options.retriever).options.model_copy(update={"k": options.k})
    pairs = cap_phrasings(suite.train_pairs, options.phrasings)[: args.pairs]
    contexts = RaftPlanner("raft", options, source, run)(pairs, options.seed)
    tokenizer = run.generator.fresh_copy()[1]
    tokens = [len(tokenizer(lora_prompt(p.question, c))["input_ids"]) for p, c in zip(pairs, contexts)]
    settings = settings_of(options).model_copy(update={"epochs": 1, "eval_fraction": 0.0})
    bare = examples_per_second(run, pairs, settings, None)
    raft = examples_per_second(run, pairs, settings, contexts)
    print(f"{len(pairs)} pairs, 1 epoch, distractors {options.distractors}, oracle_fraction {options.oracle_fraction}; "
          f"RAFT prompt tokens: median {statistics.median(tokens):.0f}, max {max(tokens)}")
    print(f"  lora prompts (question alone)   {bare:5.2f} examples/s  1.0x")
    print(f"  raft prompts (with chunks)      {raft:5.2f} examples/s  {raft / bare:.2f}x")


if __name__ == "__main__":
    main()
