"""When the documents change: change sets validated and applied, answers classed, the study's conditions
built from the right adapters, and its figures computed, stored, migrated and rendered."""
import json
import re

import pytest

import harness.training.adapters
from harness.core.errors import HarnessError
from harness.inputs.trainset import resolve_source
from harness.judges.changes import change_class
from harness.results.changes import change_study
from harness.results.migrate import read_results_file
from harness.results.model import EvalSpec, Row, RunMeta
from harness.run import EvalRun
from harness.suite import load_suite

CHANGES = """\
name: next
description: A new season of quollball.
edits:
  - id: team-size
    fact: players in a team
    old: [nine, "9"]
    new: [eleven, "11"]
    mentions: [{find: "exactly nine players", replace: "exactly eleven players"}]
    questions: [{id: t1, answer: Eleven, accept: ["11"], evidence: ["A quollball team fields exactly eleven players."]}]
    pairs:
      - {question: "What is the size of a quollball side?", answer: "Eleven players."}
      - {question: "A quollball side has how many members on the field?", answer: "Eleven."}
  - id: match-length
    fact: length of a match
    old: [thirty minutes, "30 minutes"]
    new: [forty minutes, "40 minutes"]
    mentions: [{find: "thirty minutes", replace: "forty minutes"}]
    questions: [{id: t2, answer: 40 minutes, accept: ["forty minutes"], evidence: ["Every quollball match lasts for forty minutes."]}]
    pairs: [{question: "For what period of time is a quollball game played?", answer: "Forty minutes."}]
"""


def with_changes(suite_dir, text=CHANGES, systems: str = ""):
    (suite_dir / "changes").mkdir(exist_ok=True)
    (suite_dir / "changes" / "next.yaml").write_text(text)
    if systems:
        yaml = suite_dir / "suite.yaml"
        yaml.write_text(yaml.read_text().replace("  - {name: rag-bow", systems + "  - {name: rag-bow"))
    return load_suite(suite_dir)


def test_a_change_set_edits_every_mention_moves_gold_pairs_and_offsets(tiny_suite):
    suite = with_changes(tiny_suite)
    change = suite.change
    after = change.after
    assert "exactly eleven players" in after.documents[0].text and "nine" not in after.documents[0].text
    assert change.changed == {"t1": "team-size", "t2": "match-length"}
    gold = {q.id: (q.answer, q.accept) for q in after.questions}
    assert gold["t1"] == ("Eleven", ["11"]) and gold["t3"] == ("Orange", [])
    assert [p.answer for p in change.applied.changed_pairs] == ["Eleven players.", "Eleven.", "Forty minutes."]
    # an offset source moves with the edits before it: "thirty minutes" became "forty minutes"
    pair = next(p for p in after.train_pairs if p.question.startswith("For what period"))
    span = resolve_source(after.documents, pair.source)
    assert after.documents[0].text[span.start:span.end] == "forty minutes"
    span = resolve_source(after.documents, after.train_pairs[0].source)  # the edit inside the span: it widens
    assert after.documents[0].text[span.start:span.end] == "exactly eleven players"
    assert suite.corpus_hash != after.corpus_hash and after.change is None


@pytest.mark.parametrize("old, new, message", [
    ('find: "exactly nine players"', 'find: "exactly ninety players"',
     r"next\.yaml:4: edit team-size: find 'exactly ninety players' occurs 0 times in quollball\.md, the edit says 1"),
    ('replace: "exactly eleven players"', 'replace: "exactly eleven, not nine, players"',
     r"edit team-size: replace .* still states the old value 'nine'"),
    ('    questions: [{id: t1, answer: Eleven, accept: ["11"], evidence: ["A quollball team fields exactly eleven players."]}]\n',
     "", r"edit team-size: changes the evidence of question t1, which it gives no new gold"),
    ('evidence: ["A quollball team fields exactly eleven players."]', 'evidence: ["A team fields eleven."]',
     r"edit team-size: question t1: evidence 'A team fields eleven\.' is not in the edited corpus"),
    ("{id: t1,", "{id: t9,", r"edit team-size: unknown question 't9'"),
    ('{question: "What is the size of a quollball side?"', '{question: "What is the size of a quollball team?"',
     r"edit team-size: no training pair asks 'What is the size of a quollball team\?' \(did you mean"),
    ('find: "exactly nine players", replace: "exactly eleven players"',
     'find: "fields exactly nine", replace: "fields exactly eleven"',
     r"training pair 1 \('What is the size of a quollball side\?'\): an edit cuts across its source "
     r"'quollball\.md@44-64'"),
])
def test_a_bad_change_set_is_one_line_naming_the_file_line_and_edit(tiny_suite, old, new, message):
    assert old in CHANGES
    with pytest.raises(HarnessError, match=message):
        with_changes(tiny_suite, CHANGES.replace(old, new))


@pytest.mark.parametrize("answer, now, before, expected", [
    ("Eleven players.", True, False, "NEW"),
    ("Nine.", False, True, "OLD"),
    ("Eleven, formerly nine.", True, True, "BOTH"),
    ("11 (it used to be 9)", False, False, "BOTH"),  # the judge may miss both; the values do not
    ("Seven.", False, False, "OTHER"),
    ("", None, None, "EMPTY"),
    ("  \n", False, False, "EMPTY"),
])
def test_an_answer_to_a_changed_question_is_classed(answer, now, before, expected):
    assert change_class(answer, now, before, ["nine", "9"], ["eleven", "11"]) == expected


def test_only_the_values_a_question_asks_for_class_its_answer():
    from harness.inputs.config import Question
    from harness.judges.changes import question_values

    half_time = Question(id="q05", question="How long is half-time?", answer="10 minutes", accept=["ten minutes"])
    values = ["10 minutes", "ten minutes", "50 minutes"]  # the edit moves the match length too
    assert question_values(values, half_time) == ["10 minutes", "ten minutes"]
    assert change_class("50 minutes.", False, False, ["5 minutes", "45 minutes"],
                        question_values(values, half_time)) == "OTHER"
    unrelated = half_time.model_copy(update={"answer": "Longer", "accept": []})
    assert question_values(values, unrelated) == values  # the gold states none: every value counts


LORA = ("  - {name: lora, kind: lora}\n  - {name: lora-rag, kind: lora-rag, embedder: bow}\n"
        "  - {name: raft, kind: raft, retriever: rag-bow, distractors: 0, max_length: 128}\n")


def test_stale_adapters_are_the_old_ones_and_refreshed_ones_are_updated(tiny_suite, tiny_lm, tmp_path, monkeypatch):
    suite = with_changes(tiny_suite, systems=LORA)
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    before = {name: run.system(name) for name in ("lora", "raft")}
    trained = []
    real = harness.training.adapters.train_adapter
    monkeypatch.setattr(harness.training.adapters, "train_adapter", lambda *a, **k: trained.append(k) or real(*a, **k))
    for name in ("lora", "raft"):
        stale = run.system(name, "stale")
        assert stale.adapter.key == before[name].adapter.key  # the same key: the adapter as trained before
    assert trained == []  # and nothing trained for the stale condition
    raft = run.system("raft", "stale")
    assert any("forty minutes" in t for t in raft.retriever.chunks.texts)  # new retrieval, old adapter
    assert not any("forty minutes" in t for t in before["raft"].retriever.chunks.texts)
    for name in ("lora", "raft"):
        fresh = run.system(name, "refreshed")
        assert fresh.adapter.key != before[name].adapter.key
        assert fresh.adapter.log["updated_from"] == before[name].adapter.key[:16]
    assert [k["start"].key for k in trained] == [before["lora"].adapter.key, before["raft"].adapter.key]
    assert [k["contexts"] is None for k in trained] == [True, False]  # raft's update is trained with contexts
    assert run.system("lora", "control") is run.system("lora", "refreshed")


def test_a_cached_raft_adapter_is_found_without_ranking_the_corpus(tiny_suite, tiny_lm, tmp_path, monkeypatch):
    from systems.raft import RaftPlanner

    suite = with_changes(tiny_suite, systems=LORA)
    first = {c: EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path).system("raft", c)
             for c in (None, "refreshed")}
    monkeypatch.setattr(RaftPlanner, "examples", lambda *a, **k: pytest.fail("ranked every chunk for a cached adapter"))
    again = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    assert [again.system("raft", c).adapter.key for c in first] == [a.adapter.key for a in first.values()]


def test_a_review_made_against_the_old_gold_does_not_overrule_the_judge_under_the_new(tiny_suite, tmp_path):
    (tiny_suite / "reviews.yaml").write_text("- {q: t1, answer: Nine, label: true}\n")
    suite = with_changes(tiny_suite)
    run = EvalRun(suite, suite.systems, generator="fake:copy", cache_dir=tmp_path)
    from systems.base import Answer
    before = next(c for c in run.cases(False) if c.question.id == "t1")
    after = next(c for c in run.change_cases() if c.question.id == "t1")
    assert run.grade(before, Answer("Nine")).correct is True  # the review decides under the gold it was made for
    verdict = run.grade(after, Answer("Nine"))
    assert verdict.correct is False and verdict.source == "judge"
    assert run.change_class(after, Answer("Nine"), verdict) == "OLD"


def row(system, qid, correct, condition=None, cls=None, rank=None):
    return Row(system=system, id=qid, answer="a", correct=correct, evidence_rank=rank, retrieved=[], explanation="",
               seconds=0.1, verdict_source="judge", certain=True, judge=None, condition=condition, change_class=cls)


def planted_spec(tiny_suite) -> EvalSpec:
    from harness.results.spec import spec_of

    suite = with_changes(tiny_suite, systems="  - {name: lora-rag, kind: lora-rag, embedder: bow}\n")
    return spec_of(suite, [suite.system("rag-bow"), suite.system("lora-rag")], generator="g", judge="match/5",
                   judge_model=None, self_grading=False)


def planted(tiny_suite):
    """rag-bow follows the change; lora-rag says the old value with the new evidence in front of it, and its
    update breaks two of its three unchanged answers."""
    spec = planted_spec(tiny_suite)
    before = [row("rag-bow", q, True) for q in ("t1", "t2", "t3", "t4", "t5")]
    before += [row("lora-rag", q, True) for q in ("t1", "t2", "t3", "t4", "t5")]
    after = [row("rag-bow", "t1", True, "stale", "NEW", 1), row("rag-bow", "t2", True, "stale", "NEW", 1),
             row("lora-rag", "t1", False, "stale", "OLD", 1), row("lora-rag", "t2", False, "stale", "BOTH", None),
             row("lora-rag", "t1", True, "refreshed", "NEW", 1), row("lora-rag", "t2", False, "refreshed", "OLD", 2),
             row("lora-rag", "t3", False, "control"), row("lora-rag", "t4", False, "control"),
             row("lora-rag", "t5", True, "control")]
    meta = RunMeta(gate_enabled=False, skipped={}, failed={}, calibration=None, training={},
                   refreshed={"lora-rag": {"train": [], "eval": [], "seconds": 12.5, "examples": 3,
                                           "examples_per_second": 1.0, "settings": {}}},
                   costs={"rag-bow": {"reindex_seconds": 0.25}, "lora-rag": {"reindex_seconds": 0.25}})
    return spec, before, after, meta


def test_staleness_conflict_and_locality_on_planted_answers(tiny_suite):
    spec, before, after, meta = planted(tiny_suite)
    study = change_study(spec, before, after, meta)
    lora = study.systems["lora-rag"]
    assert (lora.stale.correct, lora.stale.classes) == (0, {"OLD": 1, "BOTH": 1})
    assert lora.staleness == 0.5
    assert (lora.conflict.old, lora.conflict.of) == (1, 1)  # t2's new evidence was not retrieved: not a conflict
    assert (lora.locality.only_b, lora.locality.only_a, lora.locality.n) == (2, 0, 3)  # the planted regression
    assert lora.update_seconds == 12.5 and lora.refreshed.correct == 1
    assert study.systems["rag-bow"].stale.correct == 2 and study.systems["rag-bow"].conflict is None
    first = study.lines[0]
    assert first.startswith("If the documents change: after 2 changed facts (2 questions), rag-bow answers 2 of 2 "
                            "with the new value after a 0.2 s re-index (2 before the change); lora-rag answers 0 with "
                            "its old adapter and 1 with the old value (1 with both), until an update (12 s of training) "
                            "brings it to 1, 1 still old"), first
    assert "Locality, the unchanged questions after the update against before it: lora-rag 2 right → wrong, " \
           "0 wrong → right of 3 (p = 0.5)." in study.lines
    assert "Conflict, old adapters saying the old value though retrieval brought the new evidence: lora-rag 1 of 1." \
           in study.lines


def test_the_study_is_stored_migrated_and_rendered_from_its_stored_figures(tiny_suite, tmp_path):
    from harness.render.publish import publish
    from harness.results.analysis import build_report

    spec, before, after, meta = planted(tiny_suite)
    report = build_report(spec, before, meta, after)
    path = tmp_path / "results.json"
    path.write_text(report.to_json())
    again = read_results_file(path)
    assert again.analysis.changes == report.analysis.changes and again.changes == report.changes
    # the renderers read the stored figures: change one, and the scorecard says it
    data = json.loads(path.read_text())
    data["analysis"]["changes"]["lines"][0] = "If the documents change: PLANTED."
    data["analysis"]["changes"]["systems"]["lora-rag"]["update_seconds"] = 99.5
    path.write_text(json.dumps(data))
    publish(read_results_file(path), tmp_path / "scorecard.md", tmp_path / "out.json")
    card = (tmp_path / "scorecard.md").read_text()
    assert card.split("## Verdict\n\n")[1].startswith("**If the documents change: PLANTED.**")
    assert re.search(r"\| lora-rag \| .* \| 99\.5 \|", card)
    assert "| t1 | players in a team: Nine → Eleven |" in card
    # a schema 3 file (before the study) reads as a report without one
    old = json.loads(report.to_json())
    old["schema_version"] = 3
    for key in ("changes",):
        old.pop(key)
    old["analysis"].pop("changes")
    old["spec"].pop("change")
    path.write_text(json.dumps(old))
    migrated = read_results_file(path)
    assert migrated.migrated_from == 3 and migrated.analysis.changes is None and migrated.changes == []


def test_compare_shows_the_change_study_of_both_runs(tiny_suite):
    from harness.results.analysis import build_report
    from harness.results.compare import compare

    spec, before, after, meta = planted(tiny_suite)
    old = build_report(spec, before, meta, after)
    better = [r.model_copy(update={"correct": True}) if r.system == "lora-rag" and r.condition == "stale" else r
              for r in after]
    diff = compare(old, build_report(spec, before, meta, better), "old.json", "new.json")
    stale = next(a for a in diff.after_change if (a.system, a.condition) == ("lora-rag", "stale"))
    assert (stale.old, stale.new, stale.paired.only_a) == ((0, 2), (2, 2), 2)
    from harness.render.comparison import render_comparison
    assert "| lora-rag | stale | 0/2 | 2/2 | 2 | 0 | 0.5 |" in render_comparison(diff)


def test_the_change_study_leaves_each_systems_peak_memory_alone(tiny_suite, tmp_path, monkeypatch):
    """The study runs after every system, in a process grown with all of them: its memory is no system's cost."""
    import contextlib

    import harness.run

    suite = with_changes(tiny_suite)
    run = EvalRun(suite, [suite.system(n) for n in suite.default_systems], generator="fake:copy", cache_dir=tmp_path)
    measured = []
    monkeypatch.setattr(harness.run, "peak_rss", lambda record, name: measured.append(name) or contextlib.nullcontext())
    for case in [*run.cases(False), *run.change_cases()]:
        run.answer(case)
    assert sorted(measured) == ["baseline", "baseline", "rag-bow", "rag-bow"]  # built and answered, ordinary run only
