from harness.core.cache import DiskCache
from harness.inputs.config import Example, Generation
from harness.models.answering import Answerer
from harness.models.prompts import PromptParts, chat_messages, completion_prompt


class Counting:
    identity = "counting"

    def __init__(self):
        self.prompts = []

    def generate(self, prompts, done=None):
        self.prompts += prompts
        return [f"answer {len(self.prompts) - len(prompts) + i}" for i in range(len(prompts))]


def answerer(tmp_path, gen, instructions="Be brief.", max_new_tokens=24):
    return Answerer(lambda: gen, gen.identity, Generation(max_new_tokens=max_new_tokens), instructions, [],
                    DiskCache(tmp_path))


def test_identical_rerun_makes_no_model_call(tmp_path):
    gen = Counting()
    first = answerer(tmp_path, gen).answer(["q1", "q2"], [["ctx a"], ["ctx b"]])
    assert len(gen.prompts) == 2 and not any(a.cached for a in first)

    loaded = []
    second = Answerer(lambda: loaded.append(1), "counting", Generation(), "Be brief.", [], DiskCache(tmp_path))
    again = second.answer(["q1", "q2"], [["ctx a"], ["ctx b"]])
    assert [a.text for a in again] == [a.text for a in first]
    assert all(a.cached for a in again) and loaded == []  # the generator was never even built


def test_new_question_costs_one_generation(tmp_path):
    gen = Counting()
    answerer(tmp_path, gen).answer(["q1", "q2"])
    answerer(tmp_path, gen).answer(["q1", "q2", "q3"])
    assert [p.question for p in gen.prompts] == ["q1", "q2", "q3"]


def test_everything_that_changes_the_answer_changes_the_key(tmp_path):
    gen = Counting()
    answerer(tmp_path, gen).answer(["q"], [["ctx"]])
    answerer(tmp_path, gen).answer(["q"], [["other ctx"]])
    answerer(tmp_path, gen).answer(["q"])
    answerer(tmp_path, gen, instructions="Be verbose.").answer(["q"], [["ctx"]])
    answerer(tmp_path, gen, max_new_tokens=8).answer(["q"], [["ctx"]])
    assert len(gen.prompts) == 5


def test_prompt_layouts():
    parts = PromptParts("Be brief.", (Example(question="Q0?", answer="A0."),), ("fact one", "fact two"), "Q?")
    text = completion_prompt(parts)
    assert text.index("Q0?") < text.index("[1] fact one") < text.index("[2] fact two") < text.index("Question: Q?")
    assert text.endswith("Question: Q?\nAnswer:")
    messages = chat_messages(parts)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"].startswith("Be brief.") and "[2] fact two" in messages[-1]["content"]


def test_answer_time_leaves_the_model_load_out(tmp_path, monkeypatch):
    import harness.models.answering as generators

    events = []
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(generators, "perf_counter", lambda: events.append("clock") or next(clock))

    class LoadsLazily(Counting):
        def load(self):
            events.append("load")

        def generate(self, prompts, done=None):
            events.append("generate")
            return super().generate(prompts, done)

    answers = answerer(tmp_path, LoadsLazily()).answer(["q1", "q2"])
    assert events == ["load", "clock", "generate", "clock"]
    assert [a.seconds for a in answers] == [5, 5]  # 10 s on the clock, shared by the two answers


def test_a_prompt_another_worker_answered_just_before_this_one_claims_it_is_read_not_generated(tmp_path, monkeypatch):
    """The other worker read, claimed, answered and let go of q2 between this worker's read and its claim."""
    other, mine, real_claim = Counting(), Counting(), DiskCache.claim
    meanwhile = [lambda: answerer(tmp_path, other).answer(["q2"])]

    def claim(cache, namespace, keys):
        if meanwhile:
            meanwhile.pop()()
        return real_claim(cache, namespace, keys)

    monkeypatch.setattr(DiskCache, "claim", claim)
    answers = answerer(tmp_path, mine).answer(["q1", "q2", "q3"])
    assert [p.question for p in other.prompts] == ["q2"]
    assert [p.question for p in mine.prompts] == ["q1", "q3"] and answers[1].text == "answer 0"


def test_workers_sharing_a_cache_generate_each_prompt_once(tmp_path, monkeypatch):
    """Two workers (threads here; processes under -n) ask for the same prompts at the same time."""
    import threading

    from harness.core.cache import DiskCache

    other_asked = threading.Event()  # a worker found a prompt claimed by the other
    try_lock = DiskCache._try_lock
    monkeypatch.setattr(DiskCache, "_try_lock", lambda *a: try_lock(*a) or other_asked.set())

    class Slow(Counting):
        def generate(self, prompts, done=None):
            assert other_asked.wait(timeout=60)  # generating until the other worker has asked meanwhile
            return super().generate(prompts, done)

    generators = [Slow(), Slow()]
    answers = [None, None]

    def work(i):
        answers[i] = [a.text for a in answerer(tmp_path, generators[i]).answer(["q1", "q2", "q3"])]

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(g.prompts) for g in generators) == 3
    assert answers[0] == answers[1]
