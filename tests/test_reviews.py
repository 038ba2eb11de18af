"""Human reviews: loading reviews.yaml, overruling the judge, sampling, and `harness review` fed on stdin."""
import io
import json
import re
from pathlib import Path

import pytest
from synthetic_run import run_report, synthetic_rows
from test_plugin import project, results, run  # noqa: F401  (the pytester project fixture)

from harness.cli import main
from harness.core.errors import HarnessError
from harness.judges import Verdict
from harness.judges.replay import ReplayJudge
from harness.judges.reviews import (
    REVIEWS_FILE,
    append_review,
    load_reviews,
    review_line,
    review_queue,
    stratified_sample,
)
from harness.results.model import read_results_file
from harness.run import Case, EvalRun
from harness.suite import load_suite
from systems.base import Answer


def reviews_file(suite_dir, text):
    (suite_dir / REVIEWS_FILE).write_text(text)
    return suite_dir / REVIEWS_FILE


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
])
def test_bad_reviews_are_one_line_with_file_and_line(tiny_suite, text, message):
    path = reviews_file(tiny_suite, text)
    with pytest.raises(HarnessError) as err:
        load_reviews(path, load_suite(tiny_suite).questions)
    assert re.search(message, str(err.value)) and "\n" not in str(err.value)


def test_a_review_decides_and_the_judge_verdict_is_kept_beside_it(tiny_suite, tmp_path):
    reviews_file(tiny_suite, '- {q: t1, answer: "Nine  players", label: false, note: "they field ten"}\n')
    suite = load_suite(tiny_suite)
    eval_run = EvalRun(suite, [], cache_dir=tmp_path / "cache")
    case = Case("baseline", suite.questions[0])
    reviewed = eval_run.grade(case, Answer(" Nine players "))  # whitespace-normalised match; case kept
    assert reviewed.source == "human" and reviewed.correct is False
    assert reviewed.explanation == "human review: they field ten"
    assert reviewed.judge.correct is True and reviewed.judge.source == "judge"
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
    append_review(path, review_line("t 3", "Orange.", False, "a note"))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# human verdicts")
    assert lines[1:] == ['- {q: t1, answer: "She said \\"6\\"", label: true}', '- {q: t2, answer: "x", label: false}',
                         '- {q: "t 3", answer: "Orange.", label: false, note: "a note"}']


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
    flags = [r.certain is False for r in unsampled]
    assert flags == sorted(flags, reverse=True) and flags[0]
    path = reviews_file(tiny_suite, review_line(rows[2].id, rows[2].answer, True) + "\n")
    queue = review_queue(rows, load_reviews(path, suite.questions), None, 0)
    assert rows[2] not in queue and len(queue) == len(unsampled) - 1


def _results_json(suite, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(run_report(suite, _rows(suite)).to_json())
    return str(path)


def test_harness_review_reads_stdin_and_appends_to_reviews_yaml(tiny_suite, tmp_path, monkeypatch, capsys):
    suite = load_suite(tiny_suite)
    results_path = _results_json(suite, tmp_path)
    args = ["review", "--suite", str(tiny_suite), "--results-json", results_path, "--sample", "4", "--seed", "1"]
    queue = review_queue(read_results_file(Path(results_path)).results,
                         load_reviews(tiny_suite / REVIEWS_FILE, suite.questions), 4, 1)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn the gold says nine\nskip\n"))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"[1/{len(queue)}] {queue[0].system} · {queue[0].id}:" in out and "  gold:     " in out
    assert "2 verdict(s) appended" in out
    lines = (tiny_suite / REVIEWS_FILE).read_text().splitlines()[1:]
    assert lines == [review_line(queue[0].id, queue[0].answer, True),
                     review_line(queue[1].id, queue[1].answer, False, "the gold says nine")]
    assert len(load_reviews(tiny_suite / REVIEWS_FILE, suite.questions)) == 2
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
    (project.path / "suite" / REVIEWS_FILE).write_text(
        '- {q: t1, answer: "unknown", label: true, note: "generous"}\n- {q: t2, answer: "unknown", label: false}\n')
    run(project)
    data = results(project)
    t1 = next(r for r in data["results"] if (r["system"], r["id"]) == ("baseline", "t1"))
    assert t1["verdict_source"] == "human" and t1["correct"] is True and t1["explanation"] == "human review: generous"
    assert t1["judge"] == {"correct": False, "explanation": "no accepted form found"}
    assert {r["verdict_source"] for r in data["results"] if r["id"] not in ("t1", "t2") or r["system"] != "baseline"} \
        == {"judge"}
    assert data["systems"]["baseline"]["correct"] == 1
    assert data["systems"]["baseline"]["corrected_accuracy"]["reviewed"] == 2
    assert "corrected_accuracy" not in data["systems"]["rag-bow"]
    card = (project.path / "reports" / "scorecard.md").read_text()
    assert "| baseline | 2 | 1/2 | 0.0% | 50.0% [0–100%] |" in card  # 0 + mean(1 - 0, 0 - 0)
    assert "judge agreement on this run's reviewed answers: 1/2 (50.0%)" in card
    assert "on the calibration set: 6/6 (100.0%)" in card
    assert '"human review: generous"' in (project.path / "reports" / "report.html").read_text()
