"""Chat-template debris: answers cut at the first marker, what was cut recorded, and a warning when
many of a system's answers had it (the real llama.cpp server's case is in test_llamacpp.py)."""
import math
from html import escape

import pytest
from synthetic_run import run_report, synthetic_rows
from throwaway import results, run

from conftest import ROOT
from harness.core.cache import DiskCache
from harness.inputs.config import Generation
from harness.models.answering import Answerer
from harness.models.prompts import (
    SECOND_QUESTION,
    TEMPLATE_MARKERS,
    TURN_OPENERS,
    PromptParts,
    Reply,
    clean_reply,
    stop_sequences,
)
from harness.render.html import render_html
from harness.render.scorecard import render_scorecard
from harness.render.terminal import summary_lines
from harness.results.analysis import DEBRIS_SHARE, template_debris
from harness.results.model import Row, RunReport
from harness.suite import load_suite


@pytest.mark.parametrize("raw, kept, debris", [
    ("Three. </s><s>[INST]What is the difference between a goal and a try?", "Three.", "</s>"),
    ("\n\nHow many players?  [/INST]\n\n[INST]Answer in ten words.", "How many players?", "[/INST]"),
    ("Nine.<|im_end|>\n<|im_start|>user", "Nine.", "<|im_end|>"),
    ("Nine.<end_of_turn>\n<start_of_turn>user", "Nine.", "<end_of_turn>"),
    ("Nine.<|eot_id|><|start_header_id|>user", "Nine.", "<|eot_id|>"),
    ("Nine.<|endoftext|>", "Nine.", "<|endoftext|>"),
    ("Nine.\n\nWhat else? </s>", "Nine.", "</s>"),  # past the first line: the raw reply still had it
    ("</s>\n\n[User 0003]", "", "</s>"),
    ("Eleven.\n\nQuestion: How long is a match?", "Eleven.", SECOND_QUESTION),
    ("Three. What is a goal?", "Three. What is a goal?", SECOND_QUESTION),  # no marker to cut at: kept
    ("7.5 metres. The defender retires.\nQuestion", "7.5 metres. The defender retires.", None),
    ("Is it a try? Yes.", "Is it a try? Yes.", None),
])
def test_a_reply_ends_at_its_first_template_marker(raw, kept, debris):
    assert clean_reply(raw) == Reply(kept, debris)
    assert clean_reply(kept).text == kept  # idempotent: cached answers are cut again on read


def test_stop_sequences_fit_the_api_and_are_markers():
    assert [len(stop_sequences(chat)) for chat in (True, False)] == [4, 4]  # the OpenAI API takes at most 4
    assert stop_sequences(chat=False)[0] == "\n" and set(TURN_OPENERS) <= set(TEMPLATE_MARKERS)


class RunsOn:
    identity = "runs-on"

    def __init__(self, reply):
        self.reply, self.calls = reply, 0

    def generate(self, prompts, done=None):
        self.calls += len(prompts)
        return [self.reply] * len(prompts)  # plain strings: a backend of your own


def answerer(tmp_path, gen):
    return Answerer(lambda: gen, gen.identity, Generation(), "Be brief.", [], DiskCache(tmp_path))


def test_what_was_cut_is_cached_with_the_answer(tmp_path):
    gen = RunsOn("Nine. </s><s>[INST] What else?")
    first = answerer(tmp_path, gen).answer(["q"])[0]
    again = answerer(tmp_path, gen).answer(["q"])[0]
    assert (first.text, first.debris, first.cached) == ("Nine.", "</s>", False)
    assert (again.text, again.debris, again.cached) == ("Nine.", "</s>", True) and gen.calls == 1


def test_an_answer_cached_before_cutting_is_cut_on_read(tmp_path):
    gen = RunsOn("never asked")
    stale = answerer(tmp_path, gen)
    stale.cache.put("answer", stale._key(PromptParts("Be brief.", (), None, "q")),
                    {"text": "Three. </s><s>[INST]What is a goal?", "seconds": 1.0})  # no "debris": the old format
    got = answerer(tmp_path, gen).answer(["q"])[0]
    assert (got.text, got.debris, got.cached) == ("Three.", "</s>", True) and gen.calls == 0


@pytest.fixture(scope="module")
def suite():
    return load_suite(ROOT / "fixtures" / "touch_rugby")


def report_with_debris(suite, cut: dict[str, int]):
    """A run whose first cut[system] answers of each system ran on into '</s>'."""
    rows, _ = synthetic_rows(suite, list(cut), seed=0, retrieval=False)
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        seen[r.system] = seen.get(r.system, 0) + 1
        if seen[r.system] <= cut[r.system]:
            rows[i] = r.model_copy(update={"debris": "</s>" if seen[r.system] > 1 else SECOND_QUESTION})
    return run_report(suite, rows)


def test_a_warning_from_a_share_of_the_answers_in_every_rendering(suite):
    n = len(suite.questions)
    least = math.ceil(n * DEBRIS_SHARE)  # the fewest answers with debris that warn
    report = report_with_debris(suite, {"baseline": least, "lora": least - 1, "rag-minilm": 0})
    line = (f"baseline: {least} of {n} answers ran on into chat-template debris (</s> in {least - 1}, "
            "a second question in 1); the model likely does not know its chat template (answers are cut at "
            "its markers). Fix: generation.prompt_style: completion, or a chat model")
    assert [w for w in report.analysis.warnings if "debris" in w] == [line]
    assert report.analysis.systems["lora"].template_debris is None
    assert f"warning: {line}" in summary_lines(report, {True: 0, False: 0})
    assert f"## Warnings\n\n- {line}\n" in render_scorecard(report)
    assert f'<p class="warning">warning: {escape(line)}</p>' in render_html(report, [])
    stored = RunReport.model_validate_json(report.to_json())  # results.json keeps each answer's debris
    assert stored.analysis.warnings == report.analysis.warnings
    assert stored.analysis.systems["baseline"].template_debris.answers == least


@pytest.mark.parametrize("n, cut, warned", [(10, 1, True), (11, 1, False), (30, 3, True), (31, 3, False)])
def test_the_warning_starts_at_a_tenth_of_the_answers(n, cut, warned):
    rows = [Row(system="s", id=f"q{i}", answer="a", correct=None, evidence_rank=None, retrieved=[], explanation=None,
                seconds=None, verdict_source=None, certain=None, judge=None, debris="</s>" if i < cut else None)
            for i in range(n)]
    assert ("s" in template_debris(rows)) == warned


def test_a_run_on_backend_end_to_end(project):
    outcome = run(project, "--generator", "runon:copy")
    outcome.assert_outcomes(passed=13, failed=5)  # as fake:copy: the debris is cut before the judge sees it
    rag_t2 = next(r for r in results(project)["results"] if (r["system"], r["id"]) == ("rag-bow", "t2"))
    assert rag_t2["answer"] == "Every quollball match lasts for thirty minutes" and rag_t2["debris"] == "</s>"
    outcome.stdout.fnmatch_lines(["warning: baseline: 5 of 5 answers ran on into chat-template debris (</s> in 5)*",
                                  "warning: rag-bow: 5 of 5 answers*"])
    assert "## Warnings" in (project.path / "reports" / "scorecard.md").read_text()
