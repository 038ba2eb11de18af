"""The OpenAI-compatible paths against a real llama.cpp server on 127.0.0.1, and the in-process backend.

The server is started and stopped by one fixture; it serves the packaged Gemma GGUF with
embeddings on. Skips with one line when llama-cpp-python is not installed.
"""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="needs `pip install llama-cpp-python` (the Makefile installs it)")

from harness.config import Generation  # noqa: E402
from harness.embedders import make_embedder  # noqa: E402
from harness.generators import EMBEDDED, embedded_gguf, make_generator  # noqa: E402
from harness.prompts import PromptParts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "harness"  # the GGUF is assembled once, beside the converted model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A llama.cpp server on loopback for this module's tests; stopped however they end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"  # a file: a full pipe would block it
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf(CACHE)),
                             "--host", "127.0.0.1", "--port", str(port), "--embedding", "true",
                             "--n_ctx", "2048", "--n_threads", str(os.cpu_count())],
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"llama.cpp server did not start: {log.read_text()[-500:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


PROMPTS = [PromptParts("Answer in at most ten words.", (), ("A try is worth one point.",), "How many points is a try?"),
           PromptParts("Answer in at most ten words.", (), None, "What is the capital of France?")]


def test_rag_openai_embeddings_through_the_real_client(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    embedder = make_embedder("openai:gemma", None)
    embedder.check_available()
    texts = ["six players on the field", "a try is worth one point"]
    vectors = embedder.embed(texts)
    assert vectors.shape[0] == 2 and vectors.shape[1] == 640  # Gemma's per-token vectors, mean-pooled
    assert not (vectors[0] == vectors[1]).all()
    assert (embedder.embed(texts) == vectors).all()
    # (llama-cpp-python's server does not isolate the inputs of one batch for a model with no pooling
    # layer, so the same text in another batch may differ: serve a real embedding model for RAG.)


def test_openai_compatible_generator_against_the_server(server):
    generator = make_generator(f"openai:gemma@{server}", Generation(prompt_style="completion", max_new_tokens=16), CACHE)
    first = generator.generate(PROMPTS)
    assert first == generator.generate(PROMPTS)  # greedy: the same answers again
    assert all(answer and "\n" not in answer for answer in first)


def test_in_process_llamacpp_answers_like_the_server(server):
    local = make_generator(f"llamacpp:{EMBEDDED}", Generation(max_new_tokens=16), CACHE)
    local.check_available()
    remote = make_generator(f"openai:gemma@{server}", Generation(prompt_style="completion", max_new_tokens=16), CACHE)
    assert local.generate(PROMPTS) == remote.generate(PROMPTS)
    assert local.identity.startswith("llamacpp:gemma3-270m@sha256:")
