"""rag-openai's embedder and the OpenAI-compatible generator, against a loopback stand-in that fails on demand."""
import socket

import numpy as np
import pytest
from openai_standin import StandIn, bag_of_words
from throwaway import results, run

import harness.models.openai
import harness.models.openai_api
from harness.core.cache import DiskCache
from harness.core.errors import HarnessError, Unavailable
from harness.inputs.config import Generation
from harness.models import make_generator
from harness.models.openai_api import Endpoint
from harness.models.prompts import TURN_OPENERS, PromptParts, Reply
from harness.retrieval import embed_cached
from harness.retrieval.embedders import OpenAIEmbedder, make_embedder


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with StandIn() as server:
        yield server


@pytest.fixture
def waits(monkeypatch):
    slept = []
    monkeypatch.setattr(harness.models.openai_api, "_pause", slept.append)
    return slept


def embedder(standin, tries=5, timeout=0.5):
    e = OpenAIEmbedder("text-embedding-3-small")
    e.endpoint = Endpoint(standin.url, tries=tries, timeout=timeout, backoff=0.01)
    return e


def test_many_inputs_per_request_in_bounded_batches(standin, tmp_path):
    e = embedder(standin)
    e.batch = 3
    vectors = embed_cached(e, [f"text number {i}" for i in range(7)], DiskCache(tmp_path))
    assert vectors.shape == (7, 32) and list(vectors[6]) == bag_of_words("text number 6")
    assert [len(r["body"]["input"]) for r in standin.requests] == [3, 3, 1]


def test_recovers_from_each_fault_within_the_retry_bound(standin, waits):
    standin.faults = ["429", "500", "hang", "malformed", "short"]
    assert embedder(standin, tries=6).embed(["alpha beta gamma"]).shape == (1, 32)
    assert len(standin.requests) == 6
    assert waits[0] == pytest.approx(0.2, abs=0.05)  # Retry-After honoured, then exponential backoff
    assert waits[1:] == [0.02, 0.04, 0.08, 0.16]


def test_requests_grow_while_quick_and_split_on_timeout_instead_of_resending(standin, waits):
    e = embedder(standin)
    e.size, e.batch = 2, 8
    e.quick = 1.0  # any reply within the timeout counts as quick: no flakiness on a loaded machine
    e.embed([f"text number {i}" for i in range(20)])
    assert [len(r["body"]["input"]) for r in standin.requests] == [2, 4, 8, 6]
    standin.requests.clear()
    standin.faults = ["hang", "hang"]  # the server is too slow for 8 inputs, then for 4
    vectors = e.embed([f"slow text {i}" for i in range(8)])
    assert list(vectors[7]) == bag_of_words("slow text 7")
    assert [len(r["body"]["input"]) for r in standin.requests] == [8, 4, 2, 2, 2, 2]  # halves, never the same again
    assert waits == []  # a split is not a retry: no backoff, no try used up


def test_one_vector_per_token_means_one_input_per_request(standin):
    standin.per_token = True
    texts = ["alpha beta", "gamma delta epsilon", "zeta"]
    vectors = embedder(standin).embed(texts)
    assert [len(r["body"]["input"]) for r in standin.requests] == [3, 1, 1, 1]  # the batch reply is not used
    for text, vector in zip(texts, vectors):
        assert list(vector) == pytest.approx(list(np.mean([bag_of_words(w) for w in text.split()], axis=0)))


def test_a_slow_serial_server_is_not_sent_the_same_work_again(standin, waits):
    """Issue 10, item 7: a server slower than the timeout kept working on abandoned batches while
    the same batch was resent to queue behind them; retrieval on a real rulebook never finished."""
    standin.seconds_per_input = 0.05  # 8 inputs take 0.4 s: longer than the 0.25 s timeout
    e = embedder(standin, timeout=0.25)
    vectors = e.embed([f"chunk number {i}" for i in range(40)])
    assert list(vectors[39]) == bag_of_words("chunk number 39")
    # About 40 + 8 + 4 (the abandoned 8 and 4, then requests it answers in time); resending the
    # whole batch made it compute 5 x 40 and still fail.
    assert standin.inputs_worked <= 60
    assert waits == []


@pytest.mark.parametrize("fault, why", [
    ("500", r"HTTP 500 \(InternalServerError\)"),
    ("429", r"HTTP 429 \(RateLimitError\)"),
    ("hang", r"APITimeoutError"),
    ("malformed", r"APIResponseValidationError|JSONDecodeError"),
    ("short", r"Malformed: 1 embeddings for 2 inputs"),
])
def test_gives_up_with_one_line_and_caches_nothing(standin, waits, tmp_path, fault, why):
    standin.faults = [fault] * 4  # a timeout first splits the two inputs, then is retried for the first
    with pytest.raises(HarnessError) as err:
        embed_cached(embedder(standin, tries=3), ["alpha beta gamma", "delta epsilon"], DiskCache(tmp_path))
    message = str(err.value)
    assert message.startswith(f"embeddings (text-embedding-3-small) at {standin.url} failed after 3 tries: ")
    assert __import__("re").search(why, message) and "\n" not in message
    assert not list(tmp_path.rglob("*.npy"))


def test_an_endpoint_that_gave_up_fails_at_once_for_the_rest_of_the_run(standin, waits):
    e = embedder(standin, tries=3)
    standin.faults = ["500"] * 3
    with pytest.raises(HarnessError, match="failed after 3 tries"):
        e.embed(["alpha"])
    with pytest.raises(HarnessError) as again:
        e.embed(["beta"])
    assert str(again.value) == (f"embeddings (text-embedding-3-small) at {standin.url} not tried: it failed "
                                "earlier in this run (3 tries: HTTP 500 (InternalServerError))")
    assert len(standin.requests) == 3 and len(waits) == 2  # one retry cycle, not two


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_an_unreachable_server_costs_one_retry_cycle_per_run(project, monkeypatch, waits):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "  - baseline\n", "  - baseline\n  - {name: rag-openai, kind: rag, embedder: 'openai:text-embedding-3-small'}\n"))
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    outcome = run(project)
    outcome.assert_outcomes(passed=13, failed=15)  # rag-openai's 10 tests fail, the others run as usual
    assert waits == [1.0, 2.0, 4.0, 8.0]  # one cycle of 5 tries in the whole run, not one per test
    output = outcome.stdout.str()
    # the one answer batch (5 tests), and the CRASHED line of the harness summary
    assert output.count(f"at {url} failed after 5 tries: APIConnectionError") == 6
    assert output.count(f"at {url} not tried: it failed earlier in this run") == 5  # each retrieval test
    assert {"baseline", "rag-bow"} <= set(results(project)["analysis"]["systems"])  # still reported


def test_auto_with_an_unreachable_server_keeps_chat_at_the_cost_of_one_retry_cycle(waits):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    auto = make_generator(f"openai:served-model@{url}", Generation(), None)
    assert auto.identity == f"openai:served-model@{url}:chat"  # no evidence against chat
    with pytest.raises(HarnessError, match="not tried: it failed earlier in this run"):
        auto.generate([PromptParts("", (), None, "Players?")])
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_client_errors_are_not_retried(standin, waits):
    standin.faults = ["401"]
    with pytest.raises(HarnessError, match=r"was refused: HTTP 401 \(AuthenticationError\)"):
        embedder(standin).embed(["x"])
    assert len(standin.requests) == 1 and waits == []


def test_without_key_or_url_it_is_unavailable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(Unavailable, match=r"set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL"):
        make_embedder("openai:text-embedding-3-small", None).check_available()


def test_identity_names_model_and_url_never_the_key(standin, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
    e = make_embedder("openai:text-embedding-3-small", None)
    assert e.identity == f"openai:text-embedding-3-small@{standin.url}" and "sk-test" not in e.identity


def test_openai_compatible_generator_chat_and_completion(standin, waits):
    standin.faults = ["429"]
    chat = make_generator(f"openai:served-model@{standin.url}", Generation(prompt_style="chat"), None)
    chat.endpoint = Endpoint(standin.url, tries=3, timeout=0.5, backoff=0.01)
    out = chat.generate([PromptParts("Be brief.", (), ("some context",), "How many players?")])
    assert out == [Reply("echo: How many players?")]  # first line only
    body = standin.requests[-1]["body"]
    assert body["temperature"] == 0 and body["stop"] == list(TURN_OPENERS) and waits == [pytest.approx(0.2, abs=0.05)]
    completion = make_generator(f"openai:served-model@{standin.url}", Generation(prompt_style="completion"), None)
    assert completion.complete(["Question: x\nAnswer:"]) == ["completed"]
    assert standin.requests[-1]["path"] == "/v1/completions" and standin.requests[-1]["body"]["stop"][0] == "\n"
    assert len(standin.requests[-1]["body"]["stop"]) <= 4  # the OpenAI API's limit
    assert chat.identity == f"openai:served-model@{standin.url}:chat"


def test_requests_run_concurrently_up_to_the_setting_and_answers_keep_their_order(standin):
    standin.hold_until = 16  # the first requests wait until 16 are in flight (or 10 s, and the test fails)
    chat = make_generator(f"openai:m@{standin.url}", Generation(prompt_style="chat", max_concurrency=16), None)
    prompts = [PromptParts("", (), None, f"Question {i}?") for i in range(40)]
    arrived = []
    out = chat.generate(prompts, done=lambda indices, answers: arrived.extend(indices))
    assert [r.text for r in out] == [f"echo: Question {i}?" for i in range(40)]  # in order, however they arrived
    assert standin.peak_in_flight == 16 and sorted(arrived) == list(range(40))
    standin.peak_in_flight = 0
    one = make_generator(f"openai:m@{standin.url}", Generation(prompt_style="chat", max_concurrency=1), None)
    assert one.generate(prompts[:3]) == out[:3] and standin.peak_in_flight == 1


def test_a_retry_after_holds_every_request_to_that_endpoint(standin, waits):
    standin.faults = ["429"]
    endpoint = Endpoint(standin.url, tries=3, timeout=0.5, backoff=0.01)
    chat = make_generator(f"openai:m@{standin.url}", Generation(prompt_style="chat"), None)
    chat.endpoint = endpoint
    chat.generate([PromptParts("", (), None, "first?")])
    assert endpoint.paused_until > 0 and len(waits) == 1  # the request told to wait waited
    endpoint.paused_until += 100  # as if the server had said so to another request in flight
    chat.generate([PromptParts("", (), None, "second?")])
    assert waits[-1] > 99  # a request that was never refused waits too


def test_chat_replies_are_cut_at_template_markers_and_say_so(standin):
    standin.chat_tail = " </s><s>[INST] What is a try?"
    chat = make_generator(f"openai:served-model@{standin.url}", Generation(prompt_style="chat"), None)
    assert chat.generate([PromptParts("", (), None, "Players?")]) == [Reply("echo: Players?", "</s>")]
    assert chat.complete(["Players?"]) == ["echo: Players?"]  # a judge's reply is cut too


def test_auto_probes_once_and_uses_completions_when_chat_runs_on(standin, monkeypatch):
    said = []
    monkeypatch.setattr(harness.models.openai, "notice", said.append)
    standin.chat_tail = " </s><s>[INST] What is a try?"
    auto = make_generator(f"openai:served-model@{standin.url}", Generation(), None)
    for _ in range(2):
        assert auto.generate([PromptParts("", (), None, "Players?")]) == [Reply("completed")]
    assert auto.identity == f"openai:served-model@{standin.url}:completion"
    assert [r["path"] for r in standin.requests] == ["/v1/chat/completions"] + ["/v1/completions"] * 2
    assert len(said) == 1 and said[0].startswith(f"openai:served-model at {standin.url}: its chat reply ran on "
                                                 "into '</s>', a chat template it does not know")


def test_auto_keeps_chat_when_the_probe_reply_is_clean(standin, monkeypatch):
    said = []
    monkeypatch.setattr(harness.models.openai, "notice", said.append)
    auto = make_generator(f"openai:served-model@{standin.url}", Generation(), None)
    assert auto.generate([PromptParts("", (), None, "Players?")]) == [Reply("echo: Players?")]
    assert auto.identity == f"openai:served-model@{standin.url}:chat"
    assert [r["path"] for r in standin.requests] == ["/v1/chat/completions"] * 2 and said == []


def test_an_llm_judge_on_a_server_grades_a_batch_with_requests_in_flight_together(standin, tmp_path):
    from types import SimpleNamespace

    from harness.inputs.config import JudgeConfig, Question
    from harness.judges import JUDGES

    standin.hold_until = 4
    generator = make_generator(f"openai:judge@{standin.url}", Generation(prompt_style="chat", max_concurrency=4), None)
    ctx = SimpleNamespace(cache=DiskCache(tmp_path), generator_spec="unused", generator_for=lambda spec: generator)
    judge = JUDGES.get("llm")(JudgeConfig(name="llm"), ctx)
    questions = [Question(id=f"q{i}", question=f"Question {i}?", answer="Six") for i in range(8)]
    judge.prefetch([(q, "Six.") for q in questions])
    assert standin.peak_in_flight == 4
    sent = len(standin.requests)
    judge.grade(questions[3], "Six.")
    assert len(standin.requests) == sent  # graded from the verdicts cached by the batch
