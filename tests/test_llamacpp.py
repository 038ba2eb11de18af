"""The OpenAI-compatible paths against a real llama.cpp server on 127.0.0.1, and the in-process backend.

The server is started by one fixture and killed after a short grace period however the tests end;
it serves the packaged Gemma GGUF with embeddings on. Those tests skip with one line when
llama-cpp-python is not installed. Gemma 3 270M is a base model: prompted through the server's chat
API, it writes the server's fallback chat template (llama-2's) as text and runs on into a next turn.
"""
import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from throwaway import results, run

import harness.models.openai
from harness.inputs.config import Example, Generation
from harness.models import EMBEDDED, embedded_gguf, make_generator
from harness.models.llamacpp_server import llama_server, stop
from harness.models.prompts import TEMPLATE_MARKERS, PromptParts, chat_messages, clean_reply
from harness.retrieval.embedders import make_embedder

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "harness"  # the GGUF is assembled once, beside the converted model
needs_llama_cpp = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                     reason="needs `pip install llama-cpp-python` (the Makefile installs it)")
pytestmark = pytest.mark.must_run_in_ci  # CI installs llama-cpp-python: no skipping there


def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period():
    code = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
            "time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"  # SIGTERM is ignored from here on
    began = time.monotonic()
    stop(proc, grace=0.5)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL and time.monotonic() - began < 5


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
def test_a_server_dies_with_the_process_that_started_it(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent = ("import subprocess, sys, time; from harness.models.llamacpp_server import die_with_parent; "
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], "
              f"preexec_fn=die_with_parent); open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", parent], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert proc.poll() is None, "the parent died before starting its child"
        assert time.monotonic() < deadline, "the parent never wrote its child's pid"
        time.sleep(0.1)
    child = int(pid_file.read_text())
    proc.kill()  # no cleanup code runs in the parent
    proc.wait()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A llama.cpp server on loopback for this module's tests; killed however they end."""
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(embedded_gguf(CACHE), log, "--n_ctx", "2048") as url:
        yield url


PROMPTS = [PromptParts("Answer in at most ten words.", (), ("A try is worth one point.",), "How many points is a try?"),
           PromptParts("Answer in at most ten words.", (), None, "What is the capital of France?")]
# The default suite's worked examples, which the chat API sends as earlier turns.
EXAMPLES = (Example(question="How many players does a soccer team have on the pitch?", answer="Eleven."),
            Example(question="What does a basketball team score for a shot from behind the arc?",
                    answer="Three points."))
FEW_SHOT = PromptParts("Answer in at most ten words.", EXAMPLES, None, "How many points is a try worth?")


@needs_llama_cpp
def test_rag_openai_embeddings_through_the_real_client(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    embedder = make_embedder("openai:gemma", None)
    embedder.check_available()
    texts = ["six players on the field", "a try is worth one point"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (2, 640)
    assert not (vectors[0] == vectors[1]).all()
    assert (embedder.embed(texts[::-1]) == vectors[::-1]).all()  # one input per request: batches do not mix
    assert embedder.per_token  # Gemma's GGUF has no pooling layer: one vector per token, mean-pooled here


@needs_llama_cpp
def test_openai_compatible_generator_against_the_server(server):
    generator = make_generator(f"openai:gemma@{server}", Generation(prompt_style="completion", max_new_tokens=16), CACHE)
    first = generator.generate(PROMPTS)
    assert first == generator.generate(PROMPTS)  # greedy: the same answers again
    assert all(r.text and "\n" not in r.text and r.debris is None for r in first)


@needs_llama_cpp
def test_a_chat_reply_runs_on_into_template_debris_and_is_cut_at_it(server):
    from openai import OpenAI

    chat = make_generator(f"openai:gemma@{server}", Generation(prompt_style="chat", max_new_tokens=16), CACHE)
    [reply] = chat.generate([FEW_SHOT])
    raw = OpenAI(api_key="not-needed", base_url=server).chat.completions.create(  # no stop sequences
        model="gemma", messages=chat_messages(FEW_SHOT), temperature=0, max_tokens=16).choices[0].message.content
    marker = reply.debris
    assert marker in TEMPLATE_MARKERS and raw.index(marker) > 0 and raw.split(marker, 1)[1].strip()  # it ran on
    assert reply.text and not any(m in reply.text for m in TEMPLATE_MARKERS)
    assert clean_reply(raw) == reply  # stopping at a next turn's opening keeps the answer as cut


@needs_llama_cpp
def test_auto_probes_the_server_and_answers_with_completions(server, monkeypatch):
    said = []
    monkeypatch.setattr(harness.models.openai, "notice", said.append)
    auto = make_generator(f"openai:gemma@{server}", Generation(max_new_tokens=16), CACHE)
    assert auto.identity == f"openai:gemma@{server}:completion"  # part of every answer's cache key
    [reply] = auto.generate([FEW_SHOT])
    assert reply.text and reply.debris is None
    assert said == [f"openai:gemma at {server}: its chat reply ran on into '</s>', a chat template it does not "
                    "know; prompt_style auto uses completions (generation.prompt_style: chat keeps chat)"]


@needs_llama_cpp
def test_a_run_against_the_server_warns_about_the_debris_it_cut(server, project):
    suite_yaml = project.path / "suite" / "suite.yaml"
    examples = "".join(f"  - question: {e.question}\n    answer: {e.answer}\n" for e in EXAMPLES)
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "generation: {dtype: float32}", "generation: {prompt_style: chat, max_new_tokens: 16}\nexamples:\n" + examples))
    outcome = run(project, "--systems", "baseline", "--generator", f"openai:gemma@{server}", "-k", "t1 or t2 or t3")
    rows = results(project)["results"]
    cut = sum(r.get("debris") in TEMPLATE_MARKERS for r in rows)
    assert len(rows) == 3 and cut >= 2  # nearly every answer ran on
    assert not any(m in r["answer"] for r in rows for m in TEMPLATE_MARKERS)
    warning = f"baseline: {sum(bool(r.get('debris')) for r in rows)} of 3 answers ran on into chat-template debris ("
    outcome.stdout.fnmatch_lines([f"warning: {warning}*); the model likely does not know its chat template (answers "
                                  "are cut at its markers). Fix: generation.prompt_style: completion, or a chat model"])
    assert warning in (project.path / "reports" / "scorecard.md").read_text()
    assert f'<p class="warning">warning: {warning}' in (project.path / "reports" / "report.html").read_text()


@needs_llama_cpp
def test_in_process_llamacpp_answers_like_the_server(server):
    local = make_generator(f"llamacpp:{EMBEDDED}", Generation(max_new_tokens=16), CACHE)
    local.check_available()
    remote = make_generator(f"openai:gemma@{server}", Generation(prompt_style="completion", max_new_tokens=16), CACHE)
    assert local.generate(PROMPTS) == remote.generate(PROMPTS)
    assert local.identity.startswith("llamacpp:gemma3-270m@sha256:")


BOTH_BACKENDS = """
import sys
from pathlib import Path
from harness.inputs.config import Generation
from harness.models import EMBEDDED, make_generator
from harness.models.prompts import PromptParts

cache = Path(sys.argv[1])
chunks = ("A try is worth one point.", "Each team fields six players.", "A match lasts forty minutes.")
prompts = [PromptParts("Answer in at most ten words.", (), chunks[i:] + chunks[:i], q)
           for i, q in enumerate(["How many points is a try?", "How many players?", "How long is a match?"])]
cpp = make_generator(f"llamacpp:{EMBEDDED}", Generation(max_new_tokens=8), cache)
hf = make_generator(EMBEDDED, Generation(max_new_tokens=8, dtype="bfloat16", batch_size=3), cache)
first = cpp.generate(prompts)
for _ in range(2):  # torch's bfloat16 kernels, then llama.cpp again, on the same OpenMP threads
    hf.generate(prompts)
    assert cpp.generate(prompts) == first
print("ok")
"""


@needs_llama_cpp
def test_both_backends_take_turns_in_one_process():
    """llama.cpp built with -march=native used AMX tiles that torch's bfloat16 kernels had released
    on the shared OpenMP threads: SIGILL. Its own process, so a crash fails this test only."""
    proc = subprocess.run([sys.executable, "-c", BOTH_BACKENDS, str(CACHE)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"rc {proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.stdout.strip().endswith("ok")
