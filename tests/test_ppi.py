"""Judge-corrected accuracy (PPI): the arithmetic, and the coverage of its interval on runs whose truth is known."""
from pathlib import Path

import pytest
from synthetic_run import ppi_coverage

from harness.results.model import JudgeOpinion, Row
from harness.results.ppi import corrected_accuracy, reviewed_agreement
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ["baseline", "rag-minilm", "rag-llama", "lora", "lora-rag"]


def row(judge, human=None, system="a"):
    reviewed = human is not None
    return Row(system=system, id="q", answer="x", correct=human if reviewed else judge, evidence_rank=None,
               retrieved=[], explanation="", seconds=0.0, verdict_source="human" if reviewed else "judge",
               certain=True, judge=JudgeOpinion(correct=judge, explanation="") if reviewed else None)


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


def test_a_system_whose_reviews_all_agree_borrows_the_variance_of_the_others():
    rows = [row(True, True, "a"), row(False, False, "a"), row(True, False, "b"), row(False, False, "b"),
            row(True, system="a"), row(True, system="b")]
    a = corrected_accuracy(rows)["a"]
    assert a.low < a.value < a.high  # not a zero-width interval


def test_interval_covers_the_full_review_accuracy_about_95_percent_of_the_time():
    """60 reviewed answers (stratified) on runs of the default suite's size (5 systems × 58 questions)."""
    coverage, width, n = ppi_coverage(load_suite(ROOT / "fixtures" / "touch_rugby"), SYSTEMS, repeats=200, sample=60)
    assert n == 1000
    assert 0.91 <= coverage <= 0.99, f"coverage {coverage:.3f}, mean width {width:.3f}"
