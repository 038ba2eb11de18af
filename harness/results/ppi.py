"""Judge-corrected accuracy from a few human reviews: prediction-powered inference (PPI).

Angelopoulos et al. 2023: the judged accuracy over all of a system's answers, plus the mean of
(human − judge) over the reviewed ones, is an unbiased estimate of the accuracy a full human
review would give, provided the reviewed answers are a uniform random sample of that system's
answers. So only the rows marked ``sampled`` count (reviews drawn for this system by ``harness
review --sample``); hand-picked reviews, and reviews drawn for another system's identical answer,
overrule the judge on their rows but stay out of the correction. A judge verdict of "unscored"
counts as 0 here; the correction term repairs it.

The interval is for this run's answers (a finite population of N). The judge passed N1 of them
and failed N0; the truth is (N1 − FP + FN) / N, where FP is how many it passed wrongly and FN how
many it failed wrongly. Within each part the reviewed answers are a uniform sample without
replacement, so the wrong verdicts found there are hypergeometric, and the count of wrong verdicts
in a part has an exact upper bound that fails with probability at most α/2. The lower bound takes
the most FP that bound allows and only the FN the reviews found (FN is surely at least that); the
upper bound the mirror. So each bound holds with probability at least 1 − α/2 whatever the counts,
and a sample that leaves any answer unreviewed never gives zero width. A normal interval on
(human − judge) does not hold: with a handful of disagreements it covered 86% for one system with 30
of 58 reviewed, and a sample without disagreement gave it zero width (benchmarks/ppi_coverage.py).
"""
from __future__ import annotations

from typing import Sequence

from harness.judges.calibration import _kappa
from harness.judges.reviews import Reviews, population_digests
from harness.results.model import Corrected, ReviewedAgreement, Row



def judge_said(row: Row) -> bool | None:
    """The judge's verdict on a result row, also when a human review overruled it."""
    if row.verdict_source == "human":
        return row.judge.correct if row.judge else None
    return row.correct


def most_wrong(size: int, drawn: int, found: int, alpha: float) -> int:
    """The most of ``size`` verdicts that can be wrong when ``found`` of the ``drawn`` reviewed at random
    were: the largest count under which finding ``found`` or fewer has probability above ``alpha``.
    At least one more than found while any is unreviewed: that one could be wrong too."""
    import numpy as np
    from scipy.stats import hypergeom

    if drawn == size:
        return found
    wrong = np.arange(found, size + 1)
    plausible = wrong[hypergeom.cdf(found, size, wrong, drawn) > alpha]  # falls as ``wrong`` grows
    return max(int(plausible.max()), found + 1)


def estimate(judged: Sequence[int], reviewed: Sequence[tuple[int, int]], confidence: float = 0.95) -> Corrected:
    """PPI from the judge's 0/1 verdicts on all N answers and the (judge, human) pairs of the reviewed ones."""
    big_n, n = len(judged), len(reviewed)
    passed = sum(judged)
    base = passed / big_n
    value = min(max(base + (sum(h - j for j, h in reviewed) / n if n else 0.0), 0.0), 1.0)
    if not n:
        return Corrected(value=value, low=None, high=None, reviewed=0, judged=base)
    alpha = (1 - confidence) / 2
    found_fp, found_fn = (sum(j == said and h != j for j, h in reviewed) for said in (1, 0))
    drawn_passed = sum(j for j, _ in reviewed)
    most_fp = most_wrong(passed, drawn_passed, found_fp, alpha)
    most_fn = most_wrong(big_n - passed, n - drawn_passed, found_fn, alpha)
    low, high = (passed - most_fp + found_fn) / big_n, (passed - found_fp + most_fn) / big_n
    return Corrected(value=value, low=min(low, value), high=max(high, value), reviewed=n, judged=base)  # never narrower than the point


# Why a system has no corrected accuracy; the scorecard and report.html say it.
NO_SAMPLE = "no random-sample reviews: run `harness review --sample N`"


def corrected_accuracy(rows: Sequence[Row], reviews: Reviews | None = None) -> dict[str, Corrected]:
    """Per system with at least one random-sample review in ``rows``.

    With ``reviews``, only reviews drawn from the system's answers as they are now count: a sample
    drawn before its answers changed is no uniform sample of these (:func:`stale_samples` says so).
    """
    digests = population_digests(rows) if reviews is not None else {}
    judged: dict[str, list[int]] = {}
    pairs: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        if row.answer is None:
            continue
        judge = int(bool(judge_said(row)))
        judged.setdefault(row.system, []).append(judge)
        if row.sampled and (reviews is None or reviews.drawn(row.system, row.id, row.answer, digests[row.system])):
            pairs.setdefault(row.system, []).append((judge, int(row.correct)))
    return {name: estimate(judged[name], pairs[name]) for name in judged if name in pairs}


def current_samples(rows: Sequence[Row], reviews: Reviews) -> tuple[list[Row], dict[str, str]]:
    """The rows with the random-sample mark taken off reviews drawn from other answers of their system than
    these (they still overrule the judge), and per system why: the run records the rows so marked."""
    digests = population_digests(rows)
    stale: dict[str, int] = {}
    out = []
    for row in rows:
        if row.sampled and not reviews.drawn(row.system, row.id, row.answer, digests[row.system]):
            stale[row.system] = stale.get(row.system, 0) + 1
            row = row.model_copy(update={"sampled": None})
        out.append(row)
    return out, {name: f"{count} random-sample review(s) were drawn from other answers of {name} than this run's, so "
                       "they overrule the judge but correct nothing: draw again with `harness review --sample N --seed "
                       "S` (answers already labelled are recorded without asking)" for name, count in stale.items()}


def stale_samples(rows: Sequence[Row], reviews: Reviews) -> dict[str, str]:
    """Per system, why some of its random-sample reviews no longer count: its answers changed since the draw."""
    return current_samples(rows, reviews)[1]


def reviewed_agreement(rows: Sequence[Row]) -> ReviewedAgreement:
    """The judge against the human verdicts on this run's reviewed answers."""
    confusion = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    n = agree = 0
    for row in rows:
        if row.verdict_source != "human":
            continue
        n += 1
        judge, human = judge_said(row), row.correct
        if judge is None:
            continue
        agree += judge == human
        confusion[("t" if judge == human else "f") + ("p" if judge else "n")] += 1
    return ReviewedAgreement(n=n, agree=agree, kappa=_kappa(confusion) if n else None)
