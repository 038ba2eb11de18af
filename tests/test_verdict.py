"""The verdict, its statistics, and the rule that renderers show what the RunReport holds."""
from __future__ import annotations

import random
from html import escape
import shutil
from pathlib import Path

import numpy as np
import pytest
from synthetic_run import run_report, sampled_reviews
from statsmodels.stats.contingency_tables import mcnemar as statsmodels_mcnemar

from harness.render.html import render_html
from harness.render.scorecard import render_scorecard
from harness.render.terminal import summary_lines
from harness.results.model import JudgeOpinion, Row
from harness.results.stats import detectable_difference, mcnemar_power, paired_difference, questions_needed
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


def _rejections(n: int, p10: float, p01: float, runs: int, seed: int) -> float:
    """The share of simulated paired runs in which McNemar's exact test (statsmodels) rejects at 5%."""
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=runs)
    return float(np.mean([statsmodels_mcnemar([[0, b], [c, 0]], exact=True).pvalue < 0.05 for b, c, _ in cells]))


@pytest.mark.parametrize("p10, p01", [(0.20, 0.08), (0.12, 0.03), (0.30, 0.18)])
def test_the_stated_number_of_questions_reaches_80_percent_power(p10, p01):
    n = questions_needed(p10 + p01, p10 - p01)
    assert 0.77 <= _rejections(n, p10, p01, 3000, seed=n) <= 0.85
    assert _rejections(max(10, n // 2), p10, p01, 3000, seed=1) < 0.7  # half as many questions fall well short


def test_the_detectable_difference_is_where_power_reaches_80_percent():
    delta = detectable_difference(58, 0.3)
    assert mcnemar_power(58, 0.3, delta) >= 0.8 > mcnemar_power(58, 0.3, delta - 0.01)
    p10 = (0.3 + delta) / 2
    assert 0.77 <= _rejections(58, p10, 0.3 - p10, 3000, seed=7) <= 0.86
    assert detectable_difference(58, 0.0) is None and questions_needed(0.3, 0.0) is None


def test_the_paired_difference_interval_covers_95_percent():
    rng = np.random.default_rng(3)
    for n, p10, p01 in ((40, 0.15, 0.05), (58, 0.3, 0.25), (200, 0.04, 0.01)):
        covered = 0
        for b, c, _ in rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=2000):
            _, (low, high) = paired_difference(int(b), int(c), n)
            covered += low <= p10 - p01 <= high
        assert covered / 2000 >= 0.93, (n, p10, p01, covered / 2000)


SUITE = ROOT / "fixtures" / "touch_rugby"


def _rows(suite, accuracy: dict[str, float], seed: int = 0, seeds: dict[str, int] | None = None) -> list[Row]:
    """Made-up answers through the real report: each system right at its accuracy (every seed likewise)."""
    rng = random.Random(seed)
    rows = []
    for name, rate in accuracy.items():
        for s in range((seeds or {}).get(name, 1)):
            for q in suite.questions:
                right = rng.random() < rate
                rows.append(Row(system=name, id=q.id, answer=q.answer if right else "Not stated.", correct=right,
                                evidence_rank=None, retrieved=[], explanation="", seconds=0.4,
                                verdict_source="judge", certain=True, judge=None,
                                seed=s if (seeds or {}).get(name) else None))
    return rows


@pytest.fixture(scope="module")
def suite():
    return load_suite(SUITE)


def test_a_clear_winner_is_named_with_its_family_margins_and_power(suite):
    report = run_report(suite, _rows(suite, {"baseline": 0.05, "rag-minilm": 0.25, "lora": 0.2, "raft": 0.75}))
    v = report.analysis.verdict
    assert (v.winner, v.family, v.best) == ("raft", "both", {"both": "raft", "fine-tuning": "lora",
                                                             "retrieval": "rag-minilm", "none": "baseline"})
    assert v.headline.startswith("Fine-tuning + retrieval wins: raft answers ")
    assert [m.other for m in v.margins if m.holds] == ["lora", "rag-minilm", "baseline", "answer bias"]
    assert "Training variance was not measured: raft, lora trained with one seed" in v.details[0]
    assert v.power.a == "raft" and v.power.needed is not None and v.power.detectable is not None


def test_a_close_call_is_not_settled_and_says_how_many_questions_would_settle_it(suite):
    report = run_report(suite, _rows(suite, {"rag-minilm": 0.40, "lora": 0.36}, seed=4))
    v = report.analysis.verdict
    assert v.headline.startswith("Not settled: ") and "cannot tell it from" in v.headline \
        and f"n = {len(suite.questions)}" in v.headline
    power = next(line for line in v.details if line.startswith("Power:"))
    assert f"would need about {v.power.needed} questions" in power and v.power.needed > len(suite.questions)


def test_with_seeds_a_margin_holds_only_in_every_seed(suite):
    rows = _rows(suite, {"rag-minilm": 0.2, "raft": 0.8}, seeds={"raft": 3})
    v = run_report(suite, rows).analysis.verdict
    margin = next(m for m in v.margins if m.other == "rag-minilm")
    assert (margin.seeds, margin.seeds_held, margin.holds) == (3, 3, True)
    assert "in 3 of 3 seeds" in v.headline and "raft trained with 3 seeds" in v.details[0]
    # one seed barely better than retrieval: the margin no longer holds in every seed
    weak = [r.model_copy(update={"correct": r.correct and r.id < "q15"}) if r.system == "raft" and r.seed == 2 else r
            for r in rows]
    margin = next(m for m in run_report(suite, weak).analysis.verdict.margins if m.other == "rag-minilm")
    assert margin.seeds_held == 2 and not margin.holds


def test_a_system_is_not_credited_for_an_answer_bias(tmp_path):
    """Eight of ten questions are "No": a system that always says "No." answers 80% and beats nothing."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "rules.md").write_text("# Rules\n\nNo dogs. No cats. Birds may play.\n")
    questions = [f'- {{id: y{i}, question: "Is thing {i} allowed?", answer: "{"No" if i < 8 else "Yes"}"}}'
                 for i in range(10)]
    (tmp_path / "questions.yaml").write_text("\n".join(questions) + "\n")
    (tmp_path / "suite.yaml").write_text("examples: [{question: \"What colour is grass?\", answer: Green.}]\n")
    suite = load_suite(tmp_path)
    rows = [Row(system=name, id=q.id, answer=say(q), correct=say(q).rstrip(".") == q.answer, evidence_rank=None,
                retrieved=[], explanation="", seconds=0.1, verdict_source="judge", certain=True, judge=None)
            for name, say in (("baseline", lambda q: "Green."), ("rag-minilm", lambda q: "No."))
            for q in suite.questions]
    report = run_report(suite, rows)
    assert (report.analysis.answer_bias.accuracy, report.analysis.answer_bias.by_type) == (0.8, {"yes/no": ("no", 8, 10)})
    assert report.analysis.verdict.headline.startswith("No system beats the answer-bias floor: the best, rag-minilm")
    assert "rag-minilm: 10 of 10 of its answers are 'No.'" in " ".join(report.analysis.warnings)
    assert "baseline: 10 of 10 of its answers are 'Green.'" in " ".join(report.analysis.warnings)
    assert "10 answers repeat a worked example's answer" in " ".join(report.analysis.warnings)


def test_every_renderer_shows_the_stored_figures_not_its_own(suite):
    """Alter the analysis of a report: the scorecard, report.html and the terminal follow the altered figures."""
    report = run_report(suite, _rows(suite, {"baseline": 0.1, "rag-minilm": 0.3}))
    systems = dict(report.analysis.systems)
    systems["rag-minilm"] = systems["rag-minilm"].model_copy(update={
        "accuracy": 0.777, "correct": 45, "cost": systems["rag-minilm"].cost.model_copy(update={"prompt_tokens": 4321})})
    verdict = report.analysis.verdict.model_copy(update={"headline": "A planted verdict.", "details": ["Planted."]})
    altered = report.model_copy(update={"analysis": report.analysis.model_copy(
        update={"systems": systems, "verdict": verdict, "judge_status": "Planted judge status."})})
    card, html = render_scorecard(altered), render_html(altered, [])
    terminal = "\n".join(summary_lines(altered, {True: 0, False: 0}))
    for text in (card, html, terminal):
        assert "A planted verdict." in text and "Planted judge status." in text
        assert "45/" in text and "77.7%" in text and "4321" in text
    assert card.index("A planted verdict.") < card.index("## Accuracy and retrieval")
    assert html.index("A planted verdict.") < html.index("<h2>Summary</h2>")
    assert terminal.startswith("verdict: A planted verdict.")


def test_a_run_without_a_fine_tuning_side_says_so_and_drafted_questions_are_counted(suite):
    questions = tuple(q.model_copy(update={"drafted": "edited" if i < 2 else "unchanged"}) if i < 5 else q
                      for i, q in enumerate(suite.questions))
    drafted = suite.__class__(**{**suite.__dict__, "questions": questions})
    rows = _rows(drafted, {"baseline": 0.1, "rag-minilm": 0.4})
    report = run_report(drafted, rows, skipped={"lora": "the suite has no train.yaml"})
    details = report.analysis.verdict.details
    assert "The comparison has no fine-tuning side: no such system ran. `--systems lora-docs` fine-tunes on the " \
           "documents alone." in details
    assert f"5 of the {len(drafted.questions)} questions were drafted by a model (`harness draft`) and accepted by " \
           "a reviewer, 2 of them with the gold answer edited." in details


def test_the_charts_draw_systems_at_0_and_100_percent(tmp_path):
    from harness.render.chart import accuracy_chart, cost_chart, pareto

    # Wilson bounds a rounding error inside the value: the error bars must not go negative
    accuracy_chart(tmp_path / "a.png", [("all", 1.0, (0.57, 1.0 - 1e-16)), ("none", 0.0, (1e-16, 0.43))], "t")
    cost_chart(tmp_path / "c.png", [("all", "both", 1.0, 0.5, 100.0), ("none", "none", 0.0, None, 0.0)], "t")
    assert (tmp_path / "a.png").stat().st_size and (tmp_path / "c.png").stat().st_size
    assert pareto([(1.0, 0.2), (2.0, 0.1), (3.0, 0.5), (0.5, 0.2)]) == [3, 2]


def test_on_a_suite_without_labels_every_renderer_says_the_judge_is_unvalidated(tmp_path, suite):
    shutil.copytree(SUITE / "corpus", tmp_path / "corpus")
    shutil.copy(SUITE / "questions.yaml", tmp_path / "questions.yaml")
    bare = load_suite(tmp_path)  # no calibration or real-answer labels, no reviews
    report = run_report(bare, _rows(bare, {"baseline": 0.1, "rag-minilm": 0.3}))
    line = report.analysis.judge_status
    assert line.startswith("The judge match/5 is unvalidated on this suite: it has no labelled answers. Measured "
                           "elsewhere: 96.7%") and "`harness review --sample 60`" in line
    terminal = "\n".join(summary_lines(report, {True: 0, False: 0}))
    assert line in render_scorecard(report) and line in terminal
    html = escape(line).replace("`harness review --sample 60`", "<code>harness review --sample 60</code>")
    assert html in render_html(report, [])
    labelled = run_report(suite, _rows(suite, {"baseline": 0.1}))  # labels, but evals/test_judge.py did not run
    assert labelled.analysis.judge_status.startswith("The judge match/5 was not checked in this run")


def _reviewed(rows: list[Row], system: str, every: int, judge_wrong_on: set[str] = frozenset()) -> list[Row]:
    """Every ``every``-th answer of ``system`` reviewed at random; the reviews find the judge wrong on those of
    ``judge_wrong_on`` (where unreviewed, the judge's verdict stands in the judged accuracy)."""
    out, seen = [], 0
    for r in rows:
        if r.system == system:
            truth = (not r.correct) if r.id in judge_wrong_on else r.correct
            if seen % every == 0:
                r = r.model_copy(update={"correct": truth, "verdict_source": "human", "sampled": True,
                                         "judge": JudgeOpinion(correct=r.correct, explanation="")})
            seen += 1
        out.append(r)
    return out


def test_with_random_sample_reviews_the_verdict_is_computed_again_on_corrected_accuracies(suite):
    rows = _rows(suite, {"baseline": 0.05, "rag-minilm": 0.25, "lora": 0.2, "raft": 0.75})
    assert run_report(suite, rows).analysis.verdict.corrected is None  # no reviews, no corrected verdict
    for name in ("rag-minilm", "lora", "raft"):
        rows = _reviewed(rows, name, every=2)
    v = run_report(suite, rows, sampled_reviews(rows)).analysis.verdict  # the baseline has no reviews: not confirmed
    assert (v.corrected.winner, v.corrected.agreement, v.corrected.uncorrected) == ("raft", "unconfirmed", ["baseline"])
    assert "its margin over baseline is not confirmed" in v.corrected.line
    assert "Not corrected, no random-sample reviews: baseline" in v.corrected.line
    rows = _reviewed(rows, "baseline", every=2)
    v = run_report(suite, rows, sampled_reviews(rows)).analysis.verdict
    assert (v.corrected.winner, v.corrected.agreement, v.corrected.uncorrected) == ("raft", "agrees", [])
    assert v.corrected.line in v.details and v.corrected.line.endswith("The judged verdict agrees.")
    assert "above rag-minilm's" in v.corrected.line and "above lora's" in v.corrected.line


def test_a_judge_that_passed_wrong_answers_of_the_winner_turns_the_corrected_verdict(suite):
    rows = _rows(suite, {"rag-minilm": 0.3, "raft": 0.7}, seed=2)
    rng = random.Random(0)
    passed = {r.id for r in rows if r.system == "raft" and r.correct and rng.random() < 0.5}
    failed = {r.id for r in rows if r.system == "rag-minilm" and not r.correct and rng.random() < 0.5}
    # Half of each system reviewed: the judge passed raft's answers it should have failed, and failed
    # rag-minilm's it should have passed. Only the reviewed half is overruled in the judged accuracy.
    rows = _reviewed(_reviewed(rows, "raft", every=2, judge_wrong_on=passed), "rag-minilm", every=2,
                     judge_wrong_on=failed)
    report = run_report(suite, rows, sampled_reviews(rows))
    v = report.analysis.verdict
    assert v.winner == "raft"
    assert (v.corrected.winner, v.corrected.family, v.corrected.agreement) == ("rag-minilm", "retrieval", "disagrees")
    assert "This disagrees with the judged verdict" in v.corrected.line
    html = escape(v.corrected.line).replace("`harness review --sample 120`", "<code>harness review --sample 120</code>")
    assert v.corrected.line in render_scorecard(report) and html in render_html(report, [])
    assert v.corrected.line in "\n".join(summary_lines(report, {True: 0, False: 0}))


def test_a_margin_the_reviews_cannot_confirm_is_unconfirmed(suite):
    rows = _rows(suite, {"rag-minilm": 0.3, "raft": 0.62}, seed=5)
    rows = _reviewed(_reviewed(rows, "raft", every=29), "rag-minilm", every=29)  # two reviews each: wide bounds
    v = run_report(suite, rows, sampled_reviews(rows)).analysis.verdict
    assert [m.other for m in v.margins if m.holds][:1] == ["rag-minilm"]
    assert (v.corrected.winner, v.corrected.agreement) == ("raft", "unconfirmed")
    assert "cannot be told from rag-minilm's" in v.corrected.line
