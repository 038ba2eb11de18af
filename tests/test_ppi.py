"""Judge-corrected accuracy (PPI): the arithmetic, the coverage of its interval on runs whose truth is known,
and that only random-sample reviews of a system enter it."""
from pathlib import Path

import pytest
from synthetic_run import SYSTEMS, ppi_coverage, regrade, review_with_truth, synthetic_rows

from harness.judges.reviews import REVIEWS_FILE
from harness.results.model import JudgeOpinion, Row
from harness.results.ppi import corrected_accuracy, reviewed_agreement
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


def row(judge, human=None, system="a", sampled=True):
    reviewed = human is not None
    return Row(system=system, id="q", answer="x", correct=human if reviewed else judge, evidence_rank=None,
               retrieved=[], explanation="", seconds=0.0, verdict_source="human" if reviewed else "judge",
               certain=True, judge=JudgeOpinion(correct=judge, explanation="") if reviewed else None,
               sampled=reviewed and sampled or None)


def test_judged_accuracy_plus_the_mean_correction_with_a_finite_population_interval():
    rows = [row(True, True), row(True), row(False, True), row(None)]  # unscored counts as 0 for the judge
    c = corrected_accuracy(rows)["a"]
    assert c.judged == 0.5 and c.reviewed == 2
    assert c.value == 1.0  # 0.5 + mean(0, 1)
    half = 1.959964 * (0.5 * (1 - 2 / 4) / 2) ** 0.5  # sample variance 0.5, fpc 1 - n/N
    assert c.low == pytest.approx(1 - half, abs=1e-5) and c.high == 1.0
    assert corrected_accuracy([row(True), row(False)]) == {}  # no reviews: nothing to correct
    agree = reviewed_agreement(rows)
    assert (agree.n, agree.agree) == (2, 1)


def test_hand_picked_verdicts_overrule_but_do_not_correct():
    rows = [row(True, False, sampled=False), row(True), row(False, True, sampled=False)]
    assert corrected_accuracy(rows) == {}
    assert reviewed_agreement(rows).n == 2  # they still measure the judge


def test_a_system_whose_reviews_all_agree_borrows_the_variance_of_the_others():
    rows = [row(True, True, "a"), row(False, False, "a"), row(True, False, "b"), row(False, False, "b"),
            row(True, system="a"), row(True, system="b")]
    a = corrected_accuracy(rows)["a"]
    assert a.low < a.value < a.high  # not a zero-width interval


def test_interval_covers_the_full_review_accuracy_about_95_percent_of_the_time():
    """60 reviews drawn as `harness review --sample 60` draws them, written to reviews.yaml, loaded and
    matched to the rows, on runs of the default suite's size (5 systems × 58 questions)."""
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    coverage, width, n = ppi_coverage(suite, SYSTEMS, repeats=100, sample=60)[True]
    assert n == 500
    assert 0.91 <= coverage <= 0.99, f"coverage {coverage:.3f}, mean width {width:.3f}"


@pytest.fixture
def touch_rugby(tmp_path):
    return load_suite(ROOT / "fixtures" / "touch_rugby"), tmp_path / REVIEWS_FILE


def test_hand_picks_change_verdicts_not_the_corrected_accuracy(touch_rugby):
    """Uncertain-first hand picks are no random sample: fed into PPI they would bias it."""
    suite, path = touch_rugby
    rows, truth = synthetic_rows(suite, SYSTEMS, seed=1, retrieval=False)
    sampled = regrade(rows, review_with_truth(path, suite, rows, truth, sample=60, seed=1))
    picked = regrade(rows, review_with_truth(path, suite, rows, truth, sample=None, limit=60))
    hand = [r for r in picked if r.verdict_source == "human" and not r.sampled]
    assert len(hand) >= 60 and any(r.correct != r.judge.correct for r in hand)
    assert corrected_accuracy(picked) == corrected_accuracy(sampled)


def test_a_review_drawn_for_one_system_does_not_correct_another_with_the_same_answer(touch_rugby):
    suite, path = touch_rugby
    rows, truth = synthetic_rows(suite, ["baseline", "lora"], seed=2, retrieval=False)
    lora = next(r for r in rows if r.system == "lora" and not truth["lora", r.id])
    baseline = next(r for r in rows if r.system == "baseline" and r.id == lora.id)
    baseline.answer = lora.answer  # the same wrong answer from both
    only_baseline = [r for r in rows if r.system == "baseline"]
    reviews = review_with_truth(path, suite, only_baseline, truth, sample=58, seed=0)  # every baseline answer
    regraded = {(r.system, r.id): r for r in regrade(rows, reviews)}
    assert regraded["baseline", lora.id].sampled and regraded["baseline", lora.id].correct is False
    assert regraded["lora", lora.id].verdict_source == "human" and not regraded["lora", lora.id].sampled
    assert set(corrected_accuracy(list(regraded.values()))) == {"baseline"}
