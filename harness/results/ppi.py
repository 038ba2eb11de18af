"""Judge-corrected accuracy from a few human reviews: prediction-powered inference (PPI).

Angelopoulos et al. 2023: the judged accuracy over all of a system's answers, plus the mean of
(human − judge) over the reviewed ones, is an unbiased estimate of the accuracy a full human
review would give, provided the reviewed answers are a uniform random sample of that system's
answers. So only the rows marked ``sampled`` count (reviews drawn for this system by ``harness
review --sample``); hand-picked reviews, and reviews drawn for another system's identical answer,
overrule the judge on their rows but stay out of the correction. A judge verdict of "unscored"
counts as 0 here; the correction term repairs it.

The interval is for this run's answers (a finite population): the judged term is known exactly,
so only the correction is uncertain, with the finite-population factor 1 − n/N. With ~12 reviews
per system and a judge that is right ~95% of the time, a system's sample often holds no
disagreement at all, and the textbook CLT interval collapses to zero width (coverage 59% in the
simulation of tests/test_ppi.py). The judge is the same for every system, so the variance of
(human − judge) is also estimated from all systems' reviews pooled, and the larger of the
pooled and the system's own estimate is used: coverage 94–95% on the same simulation.
"""
from __future__ import annotations

from typing import Sequence

from harness.judges.calibration import _kappa
from harness.results.model import Corrected, ReviewedAgreement, Row


def judge_said(row: Row) -> bool | None:
    """The judge's verdict on a result row, also when a human review overruled it."""
    if row.verdict_source == "human":
        return row.judge.correct if row.judge else None
    return row.correct


def _variance(diffs: Sequence[float]) -> float | None:
    if len(diffs) < 2:
        return None
    mean = sum(diffs) / len(diffs)
    return sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)


def estimate(judged: Sequence[int], diffs: Sequence[int], pooled_variance: float | None,
             confidence: float = 0.95) -> Corrected:
    """PPI from the judge's 0/1 verdicts on all N answers and (human − judge) on the n reviewed."""
    from scipy.stats import norm

    big_n, n = len(judged), len(diffs)
    base = sum(judged) / big_n
    value = base + (sum(diffs) / n if n else 0.0)
    own = _variance(diffs)
    variances = [v for v in (own, pooled_variance) if v is not None]
    if not n or not variances:
        return Corrected(value=min(max(value, 0.0), 1.0), low=None, high=None, reviewed=n, judged=base)
    half = float(norm.ppf(0.5 + confidence / 2)) * (max(variances) * (1 - n / big_n) / n) ** 0.5
    clip = lambda x: min(max(x, 0.0), 1.0)  # noqa: E731
    return Corrected(value=clip(value), low=clip(value - half), high=clip(value + half), reviewed=n, judged=base)


# Why a system has no corrected accuracy; the scorecard and report.html say it.
NO_SAMPLE = "no random-sample reviews: run `harness review --sample N`"


def corrected_accuracy(rows: Sequence[Row], pool_variance: bool = True) -> dict[str, Corrected]:
    """Per system with at least one random-sample review in ``rows``.

    ``pool_variance=False`` gives the textbook per-system interval (benchmarks/ppi_coverage.py).
    """
    judged: dict[str, list[int]] = {}
    diffs: dict[str, list[int]] = {}
    for row in rows:
        if row.answer is None:
            continue
        judge = int(bool(judge_said(row)))
        judged.setdefault(row.system, []).append(judge)
        if row.sampled:
            diffs.setdefault(row.system, []).append(int(row.correct) - judge)
    centred = [d - sum(ds) / len(ds) for ds in diffs.values() for d in ds]
    dof = len(centred) - len(diffs)
    pooled = sum(c * c for c in centred) / dof if dof > 0 and pool_variance else None
    return {name: estimate(judged[name], diffs[name], pooled) for name in judged if name in diffs}


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
