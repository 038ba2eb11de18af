"""Human reviews: loading reviews.yaml, overruling the judge, sampling (recorded as such), and `harness review`
fed on stdin."""
import io
import json
import re
from pathlib import Path

import pytest
from synthetic_run import regrade, run_report, synthetic_rows
from throwaway import results, run

from harness.cli import main
from harness.core.errors import HarnessError
from harness.judges import Verdict
from harness.judges.replay import ReplayJudge
from harness.judges.reviews import (
    REVIEWS_FILE,
    Draw,
    append_review,
    carry_over,
    load_reviews,
    population_digests,
    record_review,
    review_line,
    review_queue,
    stratified_sample,
)
from harness.render.scorecard import render_scorecard
from harness.results.migrate import read_results_file
from harness.run import Case, EvalRun
from harness.suite import load_suite
from systems.base import Answer


def reviews_file(suite_dir, text):
    (suite_dir / REVIEWS_FILE).write_text(text)
    return suite_dir / REVIEWS_FILE


def drawn_for(system):
    return f'sample: {{seed: 0, size: 2, system: {system}, population: "3f2a9c1b04de"}}'


@pytest.mark.parametrize("text, message", [
    ('- {q: t1, answer: "x", label: true}\n- {q: t1, q: t2, answer: "y", label: true}\n',
     r"reviews\.yaml:2: duplicate key 'q' \(first on line 2\)"),
    ('- {q: t9, answer: "x", label: true}\n', r"reviews\.yaml:1: unknown question id 't9' \(did you mean 't\d'\?\)"),
    ('- {q: t1, answer: "x", label: "yes"}\n', r"reviews\.yaml:1: question t1: label must be true or false, not 'yes'"),
    ('- {q: t1, answer: "x", label: 1}\n', r"reviews\.yaml:1: question t1: label must be true or false, not 1"),
    ('- {q: t1, answer: "x"}\n', r"reviews\.yaml:1: question t1: missing field 'label'"),
    ('- {q: t1, answer: "a  b", label: true}\n- {q: t1, answer: " a b", label: false}\n',
     r"reviews\.yaml:2: question t1: duplicate review of this answer \(first on line 1\)"),
    ('- {q: t1, answr: "x", label: true}\n', r"reviews\.yaml:1: question t1: unknown field 'answr'"),
    ('- {q: t1, answer: "x", label: true, sample: {seed: 0, size: 2, system: baseline}}\n',
     r"reviews\.yaml:1: question t1: missing field 'sample\.population'"),
    ('- {q: t1, answer: "x", label: true, sample: {seed: "0", size: 2, system: baseline, population: "p"}}\n',
     r"reviews\.yaml:1: question t1: field 'sample\.seed': Input should be a valid integer"),
    ('- {q: t1, answer: "x", label: true, sample: {seed: 0, size: 2, system: b, population: "p", sytem: a}}\n',
     r"reviews\.yaml:1: question t1: unknown field 'sample\.sytem' \(did you mean 'system'\?\)"),
    (f'- {{q: t1, answer: "x", label: true}}\n- {{q: t1, answer: "x", label: false, {drawn_for("baseline")}}}\n',
     r"reviews\.yaml:2: question t1: label false, but this answer is labelled true on line 1"),
    (f'- {{q: t1, answer: "x", label: true, {drawn_for("a")}}}\n' * 2,
     r"reviews\.yaml:2: question t1: duplicate review of this answer \(first on line 1\)"),
])
def test_bad_reviews_are_one_line_with_file_and_line(tiny_suite, text, message):
    path = reviews_file(tiny_suite, text)
    with pytest.raises(HarnessError) as err:
        load_reviews(path, load_suite(tiny_suite).questions)
    assert re.search(message, str(err.value)) and "\n" not in str(err.value)


def test_a_hand_pick_and_draws_for_several_systems_may_review_one_answer(tiny_suite):
    path = reviews_file(tiny_suite, f'- {{q: t1, answer: "x", label: true}}\n'  # a hand pick: no sample
                                    f'- {{q: t1, answer: " x", label: true, {drawn_for("baseline")}}}\n'
                                    f'- {{q: t1, answer: "x", label: true, {drawn_for("rag-bow")}}}\n'
                                    f'- {{q: t2, answer: "y", label: false}}\n')
    reviews = load_reviews(path, load_suite(tiny_suite).questions)
    assert len(reviews) == 2 and reviews.get("t1", "x").sample is None
    assert set(reviews.drawn_for) == {("baseline", "t1", "x"), ("rag-bow", "t1", "x")}
    assert reviews.drawn("baseline", "t1", " x ", "3f2a9c1b04de") and not reviews.drawn("baseline", "t1", "x", "other")


def test_a_review_decides_and_the_judge_verdict_is_kept_beside_it(tiny_suite, tmp_path):
    reviews_file(tiny_suite, '- {q: t1, answer: "Nine  players", label: false, note: "they field ten"}\n')
    suite = load_suite(tiny_suite)
    eval_run = EvalRun(suite, [], cache_dir=tmp_path / "cache")
    case = Case("baseline", suite.questions[0])
    reviewed = eval_run.grade(case, Answer(" Nine players "))  # whitespace-normalised match; case kept
    assert reviewed.source == "human" and reviewed.correct is False
    assert reviewed.explanation == "human review: they field ten"
    assert reviewed.judge.correct is True and reviewed.judge.source == "judge" and not reviewed.sampled
    assert eval_run.grade(case, Answer("Nine players")).source == "human"
    other = eval_run.grade(case, Answer("Nine"))
    assert other.source == "judge" and other.correct is True and other.judge is None


def test_replay_replays_the_judge_not_the_review(tiny_suite, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"results": [{"id": "t1", "answer": "x", "correct": True, "verdict_source": "human",
                                             "judge": {"correct": False, "explanation": "no match"}}]}))
    question = load_suite(tiny_suite).questions[0]
    assert ReplayJudge(path).grade(question, "x") == Verdict(False, "replayed: no match")


def test_review_lines_append_to_a_file_with_or_without_a_final_newline(tmp_path):
    path = tmp_path / REVIEWS_FILE
    append_review(path, review_line("t1", 'She said "6"', True))
    path.write_text(path.read_text() + '- {q: t2, answer: "x", label: false}')  # no final newline
    append_review(path, review_line("t 3", "Orange.", False, "a note",
                                    Draw(seed=3, size=60, system="rag bow", population="012345678901")))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# human verdicts") and lines[1].startswith("# ")
    assert lines[2:] == ['- {q: t1, answer: "She said \\"6\\"", label: true}', '- {q: t2, answer: "x", label: false}',
                         '- {q: "t 3", answer: "Orange.", label: false, note: "a note", '
                         'sample: {seed: 3, size: 60, system: "rag bow", population: "012345678901"}}']


def _rows(suite, seed=0):
    return synthetic_rows(suite, ["baseline", "rag-bow"], seed, uncertain=0.3)[0]


def test_stratified_sample_covers_every_system_and_repeats_with_its_seed(tiny_suite):
    suite = load_suite(tiny_suite)
    rows = _rows(suite)
    sample = stratified_sample(rows, 3, seed=7)
    assert len(sample) == 3 and {r.system for r in sample} == {"baseline", "rag-bow"}
    assert sample == stratified_sample(rows, 3, seed=7)
    assert any(stratified_sample(rows, 3, seed=s) != sample for s in range(5))
    assert len(stratified_sample(rows, 1, seed=0)) == 2  # at least one per system


def test_queue_puts_uncertain_verdicts_first_only_when_not_sampling_and_skips_reviewed_answers(tiny_suite):
    suite = load_suite(tiny_suite)
    rows = _rows(suite)
    rows[1].answer = rows[0].answer = "same"
    rows[2].certain = False
    unsampled = review_queue(rows, load_reviews(tiny_suite / REVIEWS_FILE, suite.questions), None, 0)
    flags = [p.row.certain is False for p in unsampled]
    assert flags == sorted(flags, reverse=True) and flags[0]
    assert all(p.draws == () and p.known is None for p in unsampled)  # hand picks
    path = reviews_file(tiny_suite, review_line(rows[2].id, rows[2].answer, True) + "\n")
    queue = review_queue(rows, load_reviews(path, suite.questions), None, 0)
    assert rows[2] not in [p.row for p in queue] and len(queue) == len(unsampled) - 1


def test_a_sample_records_every_drawn_answer_for_its_system_also_one_reviewed_before(tiny_suite):
    suite = load_suite(tiny_suite)
    rows = _rows(suite)
    every = len(rows)  # the sample draws every answer
    mine, theirs = rows[0], next(r for r in rows if r.system == "rag-bow" and r.id == rows[0].id)
    theirs.answer = mine.answer  # both systems gave this answer
    picked = next(r for r in rows if r.system == "rag-bow" and r.id != mine.id)
    path = reviews_file(tiny_suite, review_line(picked.id, picked.answer, False) + "\n")  # a hand pick, earlier
    queue = review_queue(rows, load_reviews(path, suite.questions), every, 0)
    shared = next(p for p in queue if p.row.id == mine.id and p.row.answer == mine.answer)
    assert {d.system for d in shared.draws} == {"baseline", "rag-bow"} and shared.known is None
    assert next(p for p in queue if p.row.id == picked.id and p.row.answer == picked.answer).known is False
    asks = carry_over(path, queue)  # the hand-picked answer is recorded for the sample without asking
    assert len(asks) == len(queue) - 1 and all(p.known is None for p in asks)
    for pending in asks:
        record_review(path, pending, True)
    reviews = load_reviews(path, suite.questions)
    assert set(reviews.drawn_for) == {(r.system, r.id, r.answer) for r in rows}
    assert reviews.get(picked.id, picked.answer).label is False  # carried over, not asked again
    assert review_queue(rows, reviews, every, 0) == []  # all recorded: a rerun resumes with nothing left


def _results_json(suite, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(run_report(suite, _rows(suite)).to_json())
    return str(path)


def test_harness_review_reads_stdin_and_appends_to_reviews_yaml(tiny_suite, tmp_path, monkeypatch, capsys):
    suite = load_suite(tiny_suite)
    results_path = _results_json(suite, tmp_path)
    args = ["review", "--suite", str(tiny_suite), "--results-json", results_path, "--sample", "4", "--seed", "1"]
    results = read_results_file(Path(results_path)).results
    queue = [p.row for p in review_queue(results, load_reviews(tiny_suite / REVIEWS_FILE, suite.questions), 4, 1)]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn the gold says nine\nskip\n"))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"[1/{len(queue)}] {queue[0].system} · {queue[0].id}:" in out and "  gold:     " in out
    assert "2 verdict(s) appended" in out
    reviews = load_reviews(tiny_suite / REVIEWS_FILE, suite.questions)
    assert [(r.q, r.answer, r.label, r.note, r.sample.system) for r in reviews.by_key.values()] == [
        (queue[0].id, queue[0].answer, True, "", queue[0].system),
        (queue[1].id, queue[1].answer, False, "the gold says nine", queue[1].system)]
    # Each entry names its draw: the same seed and size over the same answers draw it again.
    answered = [r for r in results if r.answer is not None]
    for review in reviews.by_key.values():
        assert (review.sample.seed, review.sample.size, review.sample.population) == \
            (1, 4, population_digests(answered)[review.sample.system])
        drawn = stratified_sample(answered, review.sample.size, review.sample.seed)
        assert (review.sample.system, review.q, review.answer) in {(r.system, r.id, r.answer) for r in drawn}
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))  # the same seed resumes after what was reviewed
    main(args)
    assert f"[1/{len(queue) - 2}] {queue[2].system} · {queue[2].id}:" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["review", "report"])
def test_a_file_that_is_not_the_harness_results_json_is_one_line(tiny_suite, tmp_path, capsys, command):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"suite": "tiny", "systems": {}, "results": [{"system": "a"}], "run": {}}))
    args = [command, "--results-json", str(bad)] + (["--suite", str(tiny_suite)] if command == "review" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"error: .*r\.json: not a harness results\.json: results\.0\.id: field required\n", err)


def test_reviews_flow_into_results_scorecard_and_html(project):  # noqa: F811
    from types import SimpleNamespace

    from harness.judges.reviews import population_digests

    # drawn from baseline's answers as this run gives them ("unknown" to all five)
    answers = [SimpleNamespace(system="baseline", id=f"t{i}", seed=None, answer="unknown") for i in range(1, 6)]
    drawn = drawn_for("baseline").replace("3f2a9c1b04de", population_digests(answers)["baseline"])
    (project.path / "suite" / REVIEWS_FILE).write_text(
        f'- {{q: t1, answer: "unknown", label: true, note: "generous", {drawn}}}\n'
        f'- {{q: t2, answer: "unknown", label: false, {drawn}}}\n'
        '- {q: t3, answer: "unknown", label: true}\n')  # a hand pick: it overrules, and corrects nothing
    run(project)
    data = results(project)
    row = {(r["system"], r["id"]): r for r in data["results"]}
    t1 = row["baseline", "t1"]
    assert t1["verdict_source"] == "human" and t1["correct"] is True and t1["explanation"] == "human review: generous"
    assert t1["judge"] == {"correct": False, "explanation": "no accepted form found"} and t1["sampled"] is True
    assert row["baseline", "t3"]["verdict_source"] == "human" and "sampled" not in row["baseline", "t3"]
    assert {r["verdict_source"] for key, r in row.items() if key[1] not in ("t1", "t2", "t3") or key[0] != "baseline"} \
        == {"judge"}
    assert data["analysis"]["systems"]["baseline"]["correct"] == 2
    assert data["analysis"]["systems"]["baseline"]["corrected"]["reviewed"] == 2
    assert data["analysis"]["systems"]["rag-bow"]["corrected"] is None
    card = (project.path / "reports" / "scorecard.md").read_text()
    # 0 + mean(1 - 0, 0 - 0); of the 5 answers the judge failed, 1 or more and 4 or fewer are right (exact bounds)
    assert "| baseline | 3 | 2 | 1/3 | 0.0% | 50.0% [20–80%] |" in card
    assert "judge agreement on this run's reviewed answers: 1/3 (33.3%)" in card
    assert "on the calibration set: 6/6 (100.0%)" in card
    html = (project.path / "reports" / "report.html").read_text()
    assert '"human review: generous"' in html and "from 2 random-sample reviews" in html
    assert "no random-sample reviews: run <code>harness review --sample N</code>" in html  # rag-bow


def test_with_hand_picks_only_the_scorecard_says_why_there_is_no_corrected_accuracy(tiny_suite):
    suite = load_suite(tiny_suite)
    rows = _rows(suite)
    path = reviews_file(tiny_suite, review_line(rows[0].id, rows[0].answer, not rows[0].correct) + "\n")
    reviews = load_reviews(path, suite.questions)
    report = run_report(suite, regrade(rows, reviews), reviews)
    assert all(s.corrected is None for s in report.analysis.systems.values())
    card = render_scorecard(report)
    assert "| baseline | 1 | 0 | 0/1 | – | – (no random-sample reviews: run `harness review --sample N`) |" in card
