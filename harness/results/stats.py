"""Intervals, paired tests and power for the scorecard and the verdict (statsmodels and scipy, imported lazily)."""
from __future__ import annotations

import math

from harness.results.model import Paired, Power

Z95 = 1.959963984540054
POWER = 0.8
ALPHA = 0.05
POWER_METHOD = ("power of McNemar's exact test at 5%, enumerated over the number of discordant questions "
                "(binomial in n with the observed discordant share); Connor (1987) gives the first guess")


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """95% Wilson score interval; None when there is nothing to estimate."""
    if n == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def paired_difference(only_a: int, only_b: int, n: int) -> tuple[float, tuple[float, float]] | None:
    """The difference of two paired accuracies, a − b, with a 95% interval: Agresti and Min (2005),
    a Wald interval with half an observation added to each cell of the 2×2 table, which keeps its
    coverage near 95% at small n and when the two systems rarely disagree (tests/test_verdict.py)."""
    if n == 0:
        return None
    b, c, m = only_a + 0.5, only_b + 0.5, n + 2
    centre = (b - c) / m
    half = Z95 * math.sqrt(max((b + c) - (b - c) ** 2 / m, 0.0)) / m
    return (only_a - only_b) / n, (max(-1.0, centre - half), min(1.0, centre + half))


def mcnemar(a: str, b: str, outcomes_a: dict[str, bool], outcomes_b: dict[str, bool]) -> Paired:
    """McNemar's exact test on the questions both systems were scored on."""
    shared = sorted(set(outcomes_a) & set(outcomes_b))
    only_a = sum(outcomes_a[q] and not outcomes_b[q] for q in shared)
    only_b = sum(outcomes_b[q] and not outcomes_a[q] for q in shared)
    if not shared:
        return Paired(a=a, b=b, n=0, only_a=0, only_b=0, p_value=None)
    from statsmodels.stats.contingency_tables import mcnemar as test

    both = sum(outcomes_a[q] and outcomes_b[q] for q in shared)
    neither = len(shared) - both - only_a - only_b
    p = test([[both, only_a], [only_b, neither]], exact=True).pvalue
    difference, interval = paired_difference(only_a, only_b, len(shared))
    return Paired(a=a, b=b, n=len(shared), only_a=only_a, only_b=only_b, p_value=float(p),
                  difference=difference, difference_ci=interval)


def comparisons(accuracy: dict[str, float], outcomes: dict[str, dict[str, bool]],
                baseline: str = "baseline") -> list[Paired]:
    """Each system against the baseline, and the two best systems against each other."""
    pairs = [(name, baseline) for name in outcomes if name != baseline and baseline in outcomes]
    best = sorted(outcomes, key=lambda name: -accuracy[name])[:2]
    if len(best) == 2 and baseline not in best:
        pairs.append((best[0], best[1]))
    return [mcnemar(a, b, outcomes[a], outcomes[b]) for a, b in pairs]


def mcnemar_power(n: int, discordant: float, difference: float, alpha: float = ALPHA) -> float:
    """The power of McNemar's exact two-sided test with ``n`` questions, when a share ``discordant``
    of them has exactly one system right and the accuracies differ by ``difference``.

    Exact: the number of discordant questions D is Binomial(n, discordant); given D = d, the
    questions only the better system gets right are Binomial(d, (discordant + difference) / (2 discordant)),
    and the test rejects where the exact binomial p-value is at most alpha.
    """
    import numpy as np
    from scipy.stats import binom

    if n <= 0 or discordant <= 0 or difference <= 0:
        return 0.0
    d = np.arange(n + 1)
    k = binom.ppf(alpha / 2, d, 0.5)  # the rejection region's edge: P(X <= k) <= alpha / 2
    k = np.where(binom.cdf(k, d, 0.5) > alpha / 2, k - 1, k)
    p = min((discordant + difference) / (2 * discordant), 1.0)
    reject = np.where(k >= 0, binom.cdf(k, d, p) + binom.sf(d - k - 1, d, p), 0.0)
    return float(np.sum(binom.pmf(d, n, discordant) * reject))


def _connor(discordant: float, difference: float) -> int:
    """Connor (1987): questions for 80% power of McNemar's test at 5%, normal approximation."""
    z_power = 0.8416212335729143
    return math.ceil((Z95 * math.sqrt(discordant) + z_power * math.sqrt(discordant - difference ** 2)) ** 2
                     / difference ** 2)


def questions_needed(discordant: float, difference: float, limit: int = 1_000_000) -> int | None:
    """The fewest questions giving ``difference`` 80% power, at this discordant share; None when none can."""
    if difference <= 0 or discordant <= 0 or difference > discordant:
        return None
    n = max(1, _connor(discordant, difference))
    while n > 1 and mcnemar_power(n - 1, discordant, difference) >= POWER:  # exact power decides
        n -= 1
    while mcnemar_power(n, discordant, difference) < POWER:
        n = max(n + 1, math.ceil(n * 1.02))
        if n > limit:
            return None
    return n


def detectable_difference(n: int, discordant: float) -> float | None:
    """The smallest accuracy difference with 80% power at this n and discordant share (bisection)."""
    if n <= 0 or discordant <= 0 or mcnemar_power(n, discordant, discordant) < POWER:
        return None
    low, high = 0.0, discordant
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (low, mid) if mcnemar_power(n, discordant, mid) >= POWER else (mid, high)
    return high


def power(paired: Paired) -> Power:
    """How sure the comparison ``paired`` can be: what it could detect, and what would settle it."""
    discordant = (paired.only_a + paired.only_b) / paired.n if paired.n else 0.0
    observed = (paired.only_a - paired.only_b) / paired.n if paired.n else 0.0
    return Power(a=paired.a, b=paired.b, n=paired.n, discordant=round(discordant, 6), observed=round(observed, 6),
                 detectable=detectable_difference(paired.n, discordant),
                 needed=questions_needed(discordant, abs(observed)), method=POWER_METHOD)
