"""Generator backends on the same RAG prompts, and rag-openai's embedding throughput.

Times, on the same RAG prompts: the harness with the llama.cpp backend, the harness with
transformers (the default, in the dtype `auto` chose on this machine, and forced to float32), bare
llama.cpp one prompt at a time, and bare transformers one at a time; then how far the default is
from this machine's matmul peak in its dtype (benchmarks/flops.py); then embeddings through the OpenAI client against a local llama.cpp server, cold and cached.
Contenders run interleaved for ROUNDS rounds (see benchmarks/interleave.py); each line gives the
median, the range and the speed against bare llama.cpp (or cold embedding) from the same run, and
a warning names any contender too noisy for its ratio to be trusted.

    .venv/bin/python benchmarks/backends.py [--prompts 10] [--rounds 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.flops import generation_flops, limit_line, matmul_peak  # noqa: E402
from benchmarks.interleave import Summary, interleave, report  # noqa: E402
from harness.core.cache import DEFAULT_DIR, DiskCache  # noqa: E402
from harness.inputs.config import Generation  # noqa: E402
from harness.models import EMBEDDED, embedded_gguf, make_generator  # noqa: E402
from harness.models.llamacpp_server import llama_server  # noqa: E402
from harness.models.prompts import PromptParts, completion_prompt  # noqa: E402
from harness.retrieval import embed_cached  # noqa: E402
from harness.retrieval.embedders import make_embedder  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402

CACHE = ROOT / DEFAULT_DIR


def rag_prompts(n: int) -> list[PromptParts]:
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    rag = EvalRun(suite, suite.systems, cache_dir=CACHE).system("rag-minilm")
    questions = suite.questions[:n]
    hits = rag.retriever.retrieve([q.question for q in questions])
    return [PromptParts(suite.config.instructions, tuple(suite.config.examples), tuple(h.text for h in row),
                        q.question) for q, row in zip(questions, hits)]


def generation(n: int, rounds: int) -> None:
    import torch

    parts = rag_prompts(n)
    texts = [completion_prompt(p) for p in parts]
    settings = Generation()
    hf = make_generator(EMBEDDED, settings, CACHE)
    hf32 = make_generator(EMBEDDED, Generation(dtype="float32"), CACHE)
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

    default = f"harness, transformers backend (default: {hf.dtype}; batches of 8)"
    forced = "harness, transformers backend, float32 forced"
    contenders = {"bare llama.cpp, one at a time": bare_llamacpp,
                  "harness, llamacpp backend (stops at newline)": lambda: cpp.generate(parts),
                  default: lambda: hf.generate(parts),
                  forced: lambda: hf32.generate(parts),
                  "bare transformers, one at a time": bare_transformers}
    seconds = interleave(contenders, rounds)
    print(f"generation, {n} RAG prompts, max_new_tokens={settings.max_new_tokens}, {rounds} interleaved rounds; "
          f"generation.dtype auto: {hf.dtype_decision}:")
    print("\n".join(report(seconds, "bare llama.cpp, one at a time", work=n, unit="answers")))
    prompt_tokens = sum(len(hf._tokens(hf.render(p))) for p in parts)
    answer_tokens = sum(len(tok(r.text, add_special_tokens=False).input_ids) + 1 for r in hf.generate(parts))
    flops = generation_flops(model, prompt_tokens, answer_tokens, n)
    print(f"how far from the limit ({prompt_tokens} prompt and {answer_tokens} answer tokens, "
          f"{flops / 1e9:.0f} GFLOP useful):")
    with hf._cpu_turn():  # the threads generation runs on
        peaks = {dtype: matmul_peak(dtype, 2 * rounds) for dtype in {hf.dtype, "float32"}}
    for label, generator in ((default, hf), (forced, hf32)):
        print(limit_line(label, flops, Summary.of(seconds[label]).median, generator.dtype, peaks[generator.dtype]))


def embeddings(rounds: int) -> None:
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    texts = [q.question for q in suite.questions]
    with tempfile.TemporaryDirectory() as tmp, \
            llama_server(embedded_gguf(CACHE), Path(tmp) / "server.log") as url:
        embedder = make_embedder(f"openai:gemma@{url}", None)
        warm_cache = DiskCache(Path(tmp) / "warm")
        seconds = interleave({"cold (a new cache each time)":
                              lambda: embed_cached(embedder, texts, DiskCache(tempfile.mkdtemp(dir=tmp))),
                              "cached": lambda: embed_cached(embedder, texts, warm_cache)}, rounds)
    print(f"rag-openai embeddings via the OpenAI client, local llama.cpp server, {len(texts)} texts, "
          f"{rounds} interleaved rounds:")
    print("\n".join(report(seconds, "cold (a new cache each time)", work=len(texts), unit="texts")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    generation(args.prompts, args.rounds)
    embeddings(args.rounds)


if __name__ == "__main__":
    main()
