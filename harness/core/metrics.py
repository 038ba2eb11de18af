"""The metrics a threshold can name, in one registry: suite.yaml's validation and the gate read the
names, the analysis and the sweep compute the retrieval ones from evidence ranks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from harness.core.registry import Registry

Ranks = Sequence["int | None"]  # per question: the rank at which its evidence was first covered, or None


@dataclass(frozen=True)
class Metric:
    name: str
    retrieval: bool  # only a system that retrieves has it
    of_ranks: Callable[[Ranks], float] | None = None  # computed from evidence ranks (retrieval metrics)


METRICS: Registry[Metric] = Registry("metric")


def _add(metric: Metric) -> Metric:
    return METRICS.register(metric.name)(metric)


def recall(ranks: Ranks) -> float:
    """The share of questions whose evidence is in the top k."""
    return sum(r is not None for r in ranks) / len(ranks)


def mrr(ranks: Ranks) -> float:
    """Mean reciprocal rank of the evidence (0 where it was missed)."""
    return sum(1 / r for r in ranks if r) / len(ranks)


ANSWER_ACCURACY = _add(Metric("answer_accuracy", retrieval=False))
RECALL = _add(Metric("recall", retrieval=True, of_ranks=recall))
MRR = _add(Metric("mrr", retrieval=True, of_ranks=mrr))
