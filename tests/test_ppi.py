"""Judge-corrected accuracy (PPI): the arithmetic against ppi_py, the coverage of its interval (exact enumeration,
and runs whose truth is known), and that only random-sample reviews of a system's current answers enter it."""
from pathlib import Path

import pytest
from synthetic_run import SYSTEMS, ppi_coverage, regrade, review_with_truth, synthetic_rows

from harness.judges.reviews import REVIEWS_FILE
from harness.results.model import JudgeOpinion, Row
from harness.results.ppi import corrected_accuracy, estimate, reviewed_agreement, stale_samples
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


def row(judge, human=None, system="a", sampled=True):
    reviewed = human is not None
    return Row(system=system, id="q", answer="x", correct=human if reviewed else judge, evidence_rank=None,
               retrieved=[], explanation="", seconds=0.0, verdict_source="human" if reviewed else "judge",
               certain=True, judge=JudgeOpinion(correct=judge, explanation="") if reviewed else None,
               sampled=reviewed and sampled or None)


# (N, answers the judge passed, answers whose human verdict differs, the reviewed sample) and ppi_py's point
# estimate on them: ppi_mean_pointestimate(Y, Yhat, Yhat_unlabeled, lam=1) of ppi-python 0.2.3, run once in a
# scratch venv (it needs numba and statsmodels, too heavy for the test extra).
PPI_PY = [
    (58, range(12), [0, 1, 20, 30, 40], [32, 30, 28, 54, 43, 10, 42, 20, 36, 52, 34, 8, 44, 0, 40, 45, 55, 26, 57, 13,
                                         6, 25, 2, 19, 41, 24, 51, 15, 1, 46], 0.2402298851),
    (20, range(0, 20, 2), [4, 7, 11], [3, 4, 5, 6, 7, 11, 17], 0.6428571429),
    (9, [], [8], [1, 8], 0.5),
]


@pytest.mark.parametrize("size, passed, flipped, sample, reference", PPI_PY)
def test_the_point_estimate_is_ppi_py_s_and_the_interval_is_never_a_point(size, passed, flipped, sample, reference):
    judge = [i in passed for i in range(size)]
    human = [j != (i in flipped) for i, j in enumerate(judge)]
    rows = [row(judge[i], human[i] if i in sample else None) for i in range(size)]
    c = corrected_accuracy(rows)["a"]
    assert c.value == pytest.approx(reference, abs=1e-9) and c.reviewed == len(sample)
    assert c.low <= c.value <= c.high and c.low < c.high  # a sample never pins the accuracy to a point


def test_judged_accuracy_plus_the_mean_correction_with_exact_bounds():
    rows = [row(True, True), row(True), row(False, True), row(None)]  # unscored counts as 0 for the judge
    c = corrected_accuracy(rows)["a"]
    assert c.judged == 0.5 and c.reviewed == 2
    assert c.value == 1.0  # 0.5 + mean(0, 1)
    # Of the 2 the judge passed, 1 was reviewed and right: 0 to 1 of them are wrong. Of the 2 it failed, the one
    # reviewed is right: 1 to 2 of them are right. So 2 to 4 of 4.
    assert (c.low, c.high) == (0.5, 1.0)
    assert corrected_accuracy([row(True), row(False)]) == {}  # no reviews: nothing to correct
    agree = reviewed_agreement(rows)
    assert (agree.n, agree.agree) == (2, 1)


def test_the_whole_population_reviewed_is_the_truth():
    rows = [row(True, False), row(True, True), row(False, True)]
    assert (lambda c: (c.value, c.low, c.high))(corrected_accuracy(rows)["a"]) == (2 / 3, 2 / 3, 2 / 3)


def test_hand_picked_verdicts_overrule_but_do_not_correct():
    rows = [row(True, False, sampled=False), row(True), row(False, True, sampled=False)]
    assert corrected_accuracy(rows) == {}
    assert reviewed_agreement(rows).n == 2  # they still measure the judge


def exact_coverage(passed: int, false_pos: int, failed: int, false_neg: int, sample: int) -> tuple[float, float]:
    """The exact probability that the interval covers the truth over every uniform sample of ``sample`` answers
    (the counts in each judge part are hypergeometric), and the probability of a zero-width interval."""
    from scipy.stats import hypergeom

    size = passed + failed
    truth = (passed - false_pos + false_neg) / size
    covered = zero = 0.0
    for n1 in range(max(0, sample - failed), min(sample, passed) + 1):
        for x1 in range(min(n1, false_pos) + 1):
            for x0 in range(min(sample - n1, false_neg) + 1):
                p = (hypergeom.pmf(n1, size, passed, sample) * hypergeom.pmf(x1, passed, false_pos, n1)
                     * hypergeom.pmf(x0, failed, false_neg, sample - n1))
                judged = [1] * passed + [0] * failed
                pairs = [(1, 0)] * x1 + [(1, 1)] * (n1 - x1) + [(0, 1)] * x0 + [(0, 0)] * (sample - n1 - x0)
                c = estimate(judged, pairs)
                covered += p * (c.low <= truth <= c.high)
                zero += p * (c.high == c.low)
    return covered, zero


@pytest.mark.parametrize("passed, false_pos, false_neg", [(12, 1, 4), (12, 0, 5), (3, 2, 1), (30, 4, 0), (8, 0, 0)])
def test_the_interval_covers_for_every_sample_of_30_of_58(passed, false_pos, false_neg):
    """The issue's case (one system, 30 of 58 reviewed, 5 wrong verdicts: the normal interval covered 86%), and rare
    or lopsided disagreements, by exact enumeration of the samples."""
    covered, zero = exact_coverage(passed, false_pos, 58 - passed, false_neg, 30)
    assert covered >= 0.95 and zero == 0.0, (covered, zero)


def test_a_sample_without_disagreement_has_an_interval():
    rows = [row(i < 20, i < 20 if i % 2 else None) for i in range(58)]  # 29 reviewed, the judge right on each
    c = corrected_accuracy(rows)["a"]
    assert c.value == 20 / 58 and c.low < c.value < c.high


def test_interval_covers_the_full_review_accuracy_at_least_95_percent_of_the_time():
    """60 reviews drawn as `harness review --sample 60` draws them, written to reviews.yaml, loaded and
    matched to the rows, on runs of the default suite's size (5 systems × 58 questions)."""
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    coverage, width, zero, n = ppi_coverage(suite, SYSTEMS, repeats=40, sample=60)["harness"]
    assert n == 200 and zero == 0
    assert coverage >= 0.95, f"coverage {coverage:.3f}, mean width {width:.3f}"


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


def test_a_sample_drawn_before_a_system_s_answers_changed_no_longer_corrects_it(touch_rugby):
    suite, path = touch_rugby
    rows, truth = synthetic_rows(suite, ["baseline", "lora"], seed=3, retrieval=False)
    reviews = review_with_truth(path, suite, rows, truth, sample=30, seed=0)
    assert set(corrected_accuracy(regrade(rows, reviews), reviews)) == {"baseline", "lora"}
    drawn = {(r.system, r.id) for r in regrade(rows, reviews) if r.sampled}
    changed = next(r for r in rows if r.system == "lora" and (r.system, r.id) not in drawn)
    changed.answer = "A new answer."  # lora rerun: its sample is no longer uniform over its answers
    regraded = regrade(rows, reviews)
    assert sum(r.sampled is True for r in regraded if r.system == "lora") == 15  # the reviews still overrule
    assert set(corrected_accuracy(regraded, reviews)) == {"baseline"}
    assert list(stale_samples(regraded, reviews)) == ["lora"]
    assert "15 random-sample review(s) were drawn from other answers of lora" in stale_samples(regraded, reviews)["lora"]
    redrawn = review_with_truth(path, suite, rows, truth, sample=30, seed=0)  # the same draw, over the answers now
    assert set(corrected_accuracy(regrade(rows, redrawn), redrawn)) == {"baseline", "lora"}
    assert stale_samples(regrade(rows, redrawn), redrawn) == {}
