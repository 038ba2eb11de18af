"""Speed and memory of the harness, measured against references in the same run.

Prints: collection time; a cold eval versus an identical cached rerun (with peak memory);
answers per second of the harness's generator versus a bare transformers ``generate`` loop on
the same RAG prompts, one at a time and batched. Medians of REPEATS runs; the machine is noisy.

    .venv/bin/python benchmarks/run_all.py [--questions N] [--repeats R]
"""
from __future__ import annotations

import argparse
import os
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

CACHE = ROOT / DEFAULT_DIR


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pytest_run(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def collection(repeats: int) -> None:
    seconds, _ = timed(lambda: pytest_run("evals", "--co", "-q", "-p", "no:cacheprovider"), repeats)
    print(f"collection of evals/ (subprocess incl. interpreter start): median {seconds:.2f} s")


def cold_versus_cached(systems: str) -> None:
    """A fresh answer/embedding cache (the converted model is reused: conversion is a one-off)."""
    with tempfile.TemporaryDirectory() as tmp:
        models = CACHE / "models"
        if models.exists():
            os.symlink(models, Path(tmp) / "models")
        args = ("evals", "-q", "-p", "no:cacheprovider", "--systems", systems, "--cache-dir", tmp,
                "--scorecard", f"{tmp}/s.md", "--results-json", f"{tmp}/r.json")
        cold = pytest_run(*args)
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        cached = pytest_run(*args)
    print(f"eval --systems {systems}: cold {cold:.1f} s, identical cached rerun {cached:.1f} s "
          f"({cold / cached:.1f}x faster); peak RSS of the cold run {peak_mib:.0f} MiB")


def generation(n: int, repeats: int) -> None:
    import torch

    from harness.models.prompts import PromptParts, completion_prompt
    from harness.run import EvalRun
    from harness.suite import load_suite

    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    run = EvalRun(suite, suite.systems, cache_dir=CACHE)
    rag = run.system("rag-minilm")
    questions = suite.questions[:n]
    hits = rag.retriever.retrieve([q.question for q in questions])
    parts = [PromptParts(suite.config.instructions, tuple(suite.config.examples), tuple(h.text for h in row),
                         q.question) for q, row in zip(questions, hits)]
    generator = run.models.generator
    model, tok = generator.model, generator.tokenizer
    texts = [completion_prompt(p) for p in parts]
    max_new = suite.config.generation.max_new_tokens

    def bare(batch: int):
        out = []
        for i in range(0, len(texts), batch):
            enc = tok(texts[i:i + batch], return_tensors="pt", padding=True)
            with torch.inference_mode():
                gen = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
            out += tok.batch_decode(gen[:, enc.input_ids.shape[1]:], skip_special_tokens=True)
        return out

    rows = [("bare transformers, one at a time", lambda: bare(1)),
            ("bare transformers, batches of 8", lambda: bare(8)),
            ("harness generator (batches of 8, length-sorted, stops at newline)", lambda: generator.generate(parts))]
    results = {name: timed(fn, repeats)[0] for name, fn in rows}
    reference = results[rows[0][0]]
    print(f"generation, {n} RAG prompts from rag-minilm, max_new_tokens={max_new}, median of {repeats}:")
    for name, seconds in results.items():
        print(f"  {name:<66} {seconds:6.1f} s  {n / seconds:5.2f} answers/s  {reference / seconds:4.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--systems", default="baseline,rag-minilm")
    args = parser.parse_args()
    print(f"torch threads: {os.cpu_count()} cores")
    collection(args.repeats)
    cold_versus_cached(args.systems)
    generation(args.questions, args.repeats)


if __name__ == "__main__":
    main()
