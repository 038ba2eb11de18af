"""LoRA training speed of the harness against a bare TRL run of the same settings, and memory.

Both runs train the same pairs with the same LoRA settings on fresh copies of the base model;
the harness differs only in projecting the answer positions alone to the vocabulary. Then it
loads every system of the default suite in one process and prints the peak resident memory.

    .venv/bin/python benchmarks/train_speed.py [--pairs N]
    .venv/bin/python benchmarks/train_speed.py --dtypes [--rounds 3]

--dtypes times a training step in float32 and in bfloat16 autocast (training.lora.dtype), interleaved
round by round, on LoRA's short pairs (64 tokens) and on 512-token passages of the corpus (RAFT's and
lora-docs' lengths), and prints the medians and their ratio.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from harness.training.corpus import corpus_passages  # noqa: E402
from harness.training.lora import sft_trainer  # noqa: E402


def examples_per_second(run: EvalRun, pairs, settings, answer_only: bool) -> float:
    model, tokenizer = run.models.generator.fresh_copy()
    with tempfile.TemporaryDirectory() as tmp:
        trainer, n = sft_trainer(model, tokenizer, pairs, settings, Path(tmp),
                                 answer_only=answer_only)
        start = time.perf_counter()
        trainer.train()
        return n / (time.perf_counter() - start)


def seconds_per_step(run: EvalRun, pairs, settings) -> float:
    model, tokenizer = run.models.generator.fresh_copy()
    with tempfile.TemporaryDirectory() as tmp:
        trainer, _ = sft_trainer(model, tokenizer, pairs, settings, Path(tmp))
        start = time.perf_counter()
        trainer.train()
        return (time.perf_counter() - start) / trainer.state.global_step


def compare_dtypes(run: EvalRun, rounds: int, count: int, only: str | None) -> None:
    base = run.suite.config.training.lora.model_copy(update={"epochs": 1, "eval_fraction": 0.0})
    long = base.model_copy(update={"max_length": 512, "train_on": "corpus"})
    workloads = {"pairs, 64 tokens": (run.suite.train_pairs[:count], base),
                 "corpus passages, 512 tokens": (corpus_passages(run.suite.documents, run.models.generator.load_tokenizer(),
                                                                 512)[: max(8, count // 6)], long)}
    print(f"training step, float32 against bfloat16 autocast, {rounds} interleaved rounds, median s per step:",
          flush=True)
    for label, (pairs, settings) in workloads.items():
        if only and not label.startswith(only):
            continue
        times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        for _ in range(rounds):
            for dtype in times:
                times[dtype].append(seconds_per_step(run, pairs, settings.model_copy(update={"dtype": dtype})))
        f32, b16 = (statistics.median(times[d]) for d in ("float32", "bfloat16"))
        print(f"  {label:<28} {len(pairs):>3} rows  float32 {f32:6.2f}  bfloat16 {b16:6.2f}  {f32 / b16:4.2f}x",
              flush=True)


def memory_with_all_systems(run: EvalRun) -> None:
    """Runs in its own process, so training copies do not count."""
    for spec in run.suite.systems:
        try:
            system = run.system(spec.name)
            system.answer(run.suite.questions[:1])  # load everything it uses (adapter, embedder)
        except Exception as why:  # a system that cannot load here is reported, not fatal
            print(f"  ({spec.name} not loaded: {str(why)[:90]})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS with every available system loaded and answering (one shared base model): {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=96)
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--dtypes", action="store_true", help="float32 against bfloat16 autocast, per step")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("pairs", "corpus"), default=None, help="one workload of --dtypes")
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    run = EvalRun(suite, suite.systems, cache_dir=ROOT / DEFAULT_DIR)
    if args.dtypes:
        compare_dtypes(run, args.rounds, args.pairs, args.only)
        return
    if args.memory_only:
        memory_with_all_systems(run)
        return
    pairs = suite.train_pairs[: args.pairs]
    settings = suite.config.training.lora.model_copy(update={"epochs": 1, "eval_fraction": 0.0})
    bare = examples_per_second(run, pairs, settings, answer_only=False)
    ours = examples_per_second(run, pairs, settings, answer_only=True)
    print(f"LoRA training, {len(pairs)} pairs, settings {settings.model_dump()}:")
    print(f"  bare TRL SFTTrainer            {bare:5.2f} examples/s  1.0x")
    print(f"  harness (answer-only logits)   {ours:5.2f} examples/s  {ours / bare:.1f}x")
    subprocess.run([sys.executable, __file__, "--memory-only"], check=False)


if __name__ == "__main__":
    main()
