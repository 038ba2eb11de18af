"""Intervals and paired tests for the scorecard, from statsmodels (imported lazily)."""
from __future__ import annotations

from dataclasses import dataclass


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """95% Wilson score interval; None when there is nothing to estimate."""
    if n == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return float(low), float(high)


@dataclass(frozen=True)
class Paired:
    a: str
    b: str
    n: int  # questions both systems answered and the judge scored
    only_a: int  # a right, b wrong
    only_b: int
    p_value: float | None

    @property
    def verdict(self) -> str:
        if self.p_value is None:
            return "no paired questions"
        if self.p_value < 0.05:
            better = self.a if self.only_a > self.only_b else self.b
            return f"{better} is better (significant at 5%, n={self.n})"
        return f"not significant at n={self.n}"


def mcnemar(a: str, b: str, outcomes_a: dict[str, bool], outcomes_b: dict[str, bool]) -> Paired:
    """McNemar's exact test on the questions both systems were scored on."""
    shared = sorted(set(outcomes_a) & set(outcomes_b))
    only_a = sum(outcomes_a[q] and not outcomes_b[q] for q in shared)
    only_b = sum(outcomes_b[q] and not outcomes_a[q] for q in shared)
    if not shared:
        return Paired(a, b, 0, 0, 0, None)
    from statsmodels.stats.contingency_tables import mcnemar as test

    both = sum(outcomes_a[q] and outcomes_b[q] for q in shared)
    neither = len(shared) - both - only_a - only_b
    p = test([[both, only_a], [only_b, neither]], exact=True).pvalue
    return Paired(a, b, len(shared), only_a, only_b, float(p))


def comparisons(accuracy: dict[str, float], outcomes: dict[str, dict[str, bool]],
                baseline: str = "baseline") -> list[Paired]:
    """Each system against the baseline, and the two best systems against each other."""
    pairs = [(name, baseline) for name in outcomes if name != baseline and baseline in outcomes]
    best = sorted(outcomes, key=lambda name: -accuracy[name])[:2]
    if len(best) == 2 and baseline not in best:
        pairs.append((best[0], best[1]))
    return [mcnemar(a, b, outcomes[a], outcomes[b]) for a, b in pairs]
