"""Generator backends on the same RAG prompts, and rag-openai's embedding throughput.

Prints answers per second for: the harness with the llama.cpp backend, the harness with
transformers (the default), bare llama.cpp one prompt at a time, and bare transformers one at a
time; then embeddings per second through the OpenAI client against a local llama.cpp server,
cold and cached. Medians of REPEATS runs, ratios against bare llama.cpp, all from one run.

    .venv/bin/python benchmarks/backends.py [--prompts 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / ".cache" / "harness"

from harness.cache import DiskCache  # noqa: E402
from harness.config import Generation  # noqa: E402
from harness.embedders import make_embedder  # noqa: E402
from harness.generators import EMBEDDED, embedded_gguf, make_generator  # noqa: E402
from harness.prompts import PromptParts, completion_prompt  # noqa: E402
from harness.retrieval import embed_cached  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rag_prompts(n: int) -> list[PromptParts]:
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    rag = EvalRun(suite, suite.systems, cache_dir=CACHE).system("rag-minilm")
    questions = suite.questions[:n]
    hits = rag.retriever.retrieve([q.question for q in questions])
    return [PromptParts(suite.config.instructions, tuple(suite.config.examples), tuple(h.text for h in row),
                        q.question) for q, row in zip(questions, hits)]


def generation(n: int, repeats: int) -> None:
    import torch

    parts = rag_prompts(n)
    texts = [completion_prompt(p) for p in parts]
    settings = Generation()
    hf = make_generator(EMBEDDED, settings, CACHE)
    cpp = make_generator(f"llamacpp:{EMBEDDED}", settings, CACHE)
    model, tok = hf.model, hf.tokenizer

    def bare_transformers():
        for text in texts:
            enc = tok(text, return_tensors="pt")
            with torch.inference_mode():
                model.generate(**enc, max_new_tokens=settings.max_new_tokens, do_sample=False)

    def bare_llamacpp():
        for text in texts:
            cpp.llm.create_completion(text, max_tokens=settings.max_new_tokens, temperature=0.0)

    rows = {"bare llama.cpp, one at a time": bare_llamacpp,
            "harness, llamacpp backend (stops at newline)": lambda: cpp.generate(parts),
            "harness, transformers backend (default; batches of 8)": lambda: hf.generate(parts),
            "bare transformers, one at a time": bare_transformers}
    seconds = {name: median_seconds(fn, repeats) for name, fn in rows.items()}
    reference = seconds["bare llama.cpp, one at a time"]
    print(f"generation, {n} RAG prompts, max_new_tokens={settings.max_new_tokens}, median of {repeats}:")
    for name, s in seconds.items():
        print(f"  {name:<56} {s:6.1f} s  {n / s:5.2f} answers/s  {reference / s:4.2f}x bare llama.cpp")


def embeddings(repeats: int) -> None:
    port = 18000 + os.getpid() % 1000
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf(CACHE)),
                             "--host", "127.0.0.1", "--port", str(port), "--embedding", "true",
                             "--n_threads", str(os.cpu_count())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        os.environ["OPENAI_BASE_URL"] = url
        suite = load_suite(ROOT / "fixtures" / "touch_rugby")
        texts = [q.question for q in suite.questions]
        embedder = make_embedder("openai:gemma", None)
        with tempfile.TemporaryDirectory() as tmp:
            cold = median_seconds(lambda: embed_cached(embedder, texts, DiskCache(tempfile.mkdtemp(dir=tmp))), repeats)
            warm_cache = DiskCache(tmp)
            embed_cached(embedder, texts, warm_cache)
            cached = median_seconds(lambda: embed_cached(embedder, texts, warm_cache), repeats)
        print(f"rag-openai embeddings via the OpenAI client, local llama.cpp server, {len(texts)} texts: "
              f"cold {len(texts) / cold:.1f}/s, cached {len(texts) / cached:.0f}/s ({cold / cached:.0f}x)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    generation(args.prompts, args.repeats)
    embeddings(args.repeats)


if __name__ == "__main__":
    main()
