"""LLM and hybrid judges on scripted replies; third-party judges through entry points; replay."""
import json
from importlib.metadata import EntryPoint

import fakes
import pytest

import harness.judges
from harness.core.errors import HarnessError
from harness.inputs.config import JudgeConfig, Question
from harness.judges import make_judge
from harness.judges.llm import parse_verdict
from harness.judges.replay import ReplayJudge
from harness.run import EvalRun
from harness.suite import load_suite

Q = Question(id="t1", question="How many players?", answer="Nine", accept=["9"])


@pytest.fixture
def run(tiny_suite, tmp_path):
    fakes.ScriptedGenerator.REPLIES.clear()
    fakes.ScriptedGenerator.PROMPTS.clear()
    suite = load_suite(tiny_suite)
    return EvalRun(suite, suite.systems, cache_dir=tmp_path / "cache")


def llm(run, name="llm"):
    return make_judge(JudgeConfig(name=name, model="scripted:judge"), run.models)


@pytest.mark.parametrize("reply, expected", [
    ('{"verdict": "correct"}', True),
    ('Sure. {"verdict": "incorrect"} because it says ten', False),
    ('{"correct": true}', True),
    ("Incorrect.", False),
    ("correct", True),
    ("It is correct... no wait, incorrect", None),  # both verdict words: not clear
    ("The answer mentions nine players", None),
    ("", None),
])
def test_parse_verdict(reply, expected):
    assert parse_verdict(reply) is expected


def test_llm_judge_parses_and_caches(run):
    fakes.ScriptedGenerator.REPLIES[:] = ['{"verdict": "correct"}']
    verdict = llm(run).grade(Q, "nine of them")
    assert verdict.correct is True and verdict.raw == '{"verdict": "correct"}'
    prompt = fakes.ScriptedGenerator.PROMPTS[0]
    assert "Gold answer: Nine (also accepted: 9)\nCandidate answer: nine of them\nVerdict:" in prompt
    assert llm(run).grade(Q, "nine of them") == verdict  # from the cache: no reply left to pop
    assert len(fakes.ScriptedGenerator.PROMPTS) == 1


def test_llm_judge_retries_a_malformed_reply_once(run):
    fakes.ScriptedGenerator.REPLIES[:] = ["hmm, let me think", "incorrect"]
    verdict = llm(run).grade(Q, "ten")
    assert verdict.correct is False and "retry: incorrect" in verdict.raw
    assert "Reply with exactly one word" in fakes.ScriptedGenerator.PROMPTS[1]


def test_llm_judge_unscored_after_two_malformed_replies(run):
    fakes.ScriptedGenerator.REPLIES[:] = ["hmm", "still thinking"]
    verdict = llm(run).grade(Q, "ten")
    assert verdict.correct is None and verdict.explanation.startswith("unscored")


def test_hybrid_asks_the_llm_only_when_the_matcher_is_unsure(run):
    judge = llm(run, "hybrid")
    assert judge.grade(Q, "9").correct is True  # certain match
    assert judge.grade(Q, "8 or 9").correct is False  # certain hedge
    assert fakes.ScriptedGenerator.PROMPTS == []
    fakes.ScriptedGenerator.REPLIES[:] = ['{"verdict": "correct"}']
    verdict = judge.grade(Q, "a full side of players, as many as a baseball team")  # no form: unsure
    assert verdict.correct is True and verdict.explanation.startswith("match unsure")
    assert len(fakes.ScriptedGenerator.PROMPTS) == 1


def test_self_grading_is_detected(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite)
    same = EvalRun(suite, suite.systems, judge="llm", cache_dir=tmp_path)  # judge model = generator (fake:copy)
    assert same.self_grading
    assert not EvalRun(suite, suite.systems, cache_dir=tmp_path).self_grading  # match has no model


def test_third_party_judge_through_entry_points(monkeypatch):
    eps = [EntryPoint("always", "fakes:AlwaysRight", "harness.judges")]
    monkeypatch.setattr(harness.judges, "entry_points", lambda group: eps if group == "harness.judges" else [])
    monkeypatch.setattr(harness.judges.JUDGES, "_entries", dict(harness.judges.JUDGES._entries))
    assert make_judge("always").grade(Q, "anything").correct is True


def test_broken_judge_plugin_names_the_entry_point(monkeypatch):
    eps = [EntryPoint("broken", "no_such_module:Judge", "harness.judges")]
    monkeypatch.setattr(harness.judges, "entry_points", lambda group: eps)
    with pytest.raises(HarnessError, match=r"judge plugin entry point 'broken' \(no_such_module:Judge\) "
                                           r"failed to load: ModuleNotFoundError: No module named 'no_such_module'"):
        make_judge("broken")


def test_replay_grades_from_a_verdict_file(tmp_path):
    path = tmp_path / "verdicts.json"
    path.write_text(json.dumps({"results": [{"system": "s", "id": "t1", "answer": "Nine.", "correct": True}]}))
    judge = ReplayJudge(path)
    assert judge.grade(Q, "Nine.").correct is True
    with pytest.raises(HarnessError, match=r"verdicts\.json: no verdict for question t1 with answer 'Ten.'"):
        judge.grade(Q, "Ten.")
