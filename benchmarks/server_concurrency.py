"""Requests in flight to a server: baseline on the default suite, one at a time against the default
``generation.max_concurrency``.

A loopback stand-in OpenAI-compatible server takes a fixed wall time per request (``--seconds``,
0.5 by default) and serves requests concurrently, as vLLM does; each variant starts from an empty
answer cache. It prints the wall time, the speed-up and the most requests in flight. With
``--llamacpp`` it also serves the packaged Gemma GGUF with llama-cpp-python's server and checks
that answers asked concurrently are the ones asked one at a time.

    .venv/bin/python benchmarks/server_concurrency.py [--seconds 0.5] [--llamacpp]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness.inputs.config import Generation  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from openai_standin import StandIn  # noqa: E402

SUITE = ROOT / "fixtures" / "touch_rugby"


def baseline_answers(generator: str, concurrency: int, style: str = "chat") -> tuple[list[str], float]:
    """baseline's answers to every question of the default suite, from an empty cache, and the wall time."""
    suite = load_suite(SUITE).with_generation(max_concurrency=concurrency, prompt_style=style)
    with tempfile.TemporaryDirectory() as cache:
        run = EvalRun(suite, [suite.system("baseline")], generator=generator, cache_dir=cache)
        start = time.perf_counter()
        answers = run.system("baseline").answer(list(suite.questions))
        return [a.text for a in answers], time.perf_counter() - start


def stand_in(seconds: float) -> None:
    default = Generation().max_concurrency
    with StandIn() as server:
        server.seconds_per_request = seconds
        spec = f"openai:stand-in@{server.url}"
        rows = []
        for concurrency in (1, default):
            server.peak_in_flight = 0
            answers, wall = baseline_answers(spec, concurrency)
            rows.append((concurrency, wall, server.peak_in_flight, answers))
    (_, serial, _, first), (_, fast, peak, second) = rows
    print(f"stand-in server, {seconds} s per request, baseline on the default suite ({len(first)} questions):")
    for concurrency, wall, in_flight, _ in rows:
        print(f"  max_concurrency {concurrency:>2}: {wall:6.2f} s wall, at most {in_flight} requests in flight")
    print(f"  speed-up {serial / fast:.1f}x; answers identical: {first == second}")


def llamacpp() -> None:
    from harness.models.embedded import embedded_gguf
    from harness.models.llamacpp_server import llama_server

    with tempfile.TemporaryDirectory() as tmp:
        gguf = embedded_gguf(Path(tmp))
        with llama_server(gguf, Path(tmp) / "server.log") as url:
            spec = f"openai:gemma@{url}"
            one, serial = baseline_answers(spec, 1, style="completion")
            many, fast = baseline_answers(spec, 4, style="completion")
    differ = sum(a != b for a, b in zip(one, many))
    print(f"llama-cpp-python server, packaged Gemma, completions: one at a time {serial:.1f} s, "
          f"4 in flight {fast:.1f} s; {differ} of {len(one)} answers differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="wall time of each stand-in request")
    parser.add_argument("--llamacpp", action="store_true", help="also the real llama.cpp server")
    args = parser.parse_args()
    stand_in(args.seconds)
    if args.llamacpp:
        llamacpp()


if __name__ == "__main__":
    main()
