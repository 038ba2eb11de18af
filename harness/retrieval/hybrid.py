"""hybrid: reciprocal rank fusion (RRF) of two or more retrievers' rankings.

A chunk's fused score is the sum over retrievers of ``weight / (rrf_k + rank)``, rank counted from
1 in that retriever's full ranking (Cormack et al., 2009). Scores need no calibration across kinds.
"""
from __future__ import annotations

from typing import Sequence

from harness.retrieval.base import RETRIEVERS, Env, Ranker, Ranking, build_ranker


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float], rrf_k: float) -> Ranking:
    """Fuse rankings (chunk indexes, best first) into one, best first; ties keep chunk order."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, index in enumerate(ranking, start=1):
            fused[index] = fused.get(index, 0.0) + weight / (rrf_k + rank)
    return [(i, round(s, 6)) for i, s in sorted(fused.items(), key=lambda item: (-item[1], item[0]))]


class Hybrid:
    def __init__(self, parts: list[Ranker], weights: list[float], rrf_k: int, env: Env):
        self.parts, self.weights, self.rrf_k, self.env = parts, weights, rrf_k, env

    def prepare(self) -> None:
        for part in self.parts:
            part.prepare()

    def rank(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        everything = len(self.env.chunks().spans)  # fuse full rankings: a chunk deep in one list still counts
        per_part = [part.rank(queries, everything) for part in self.parts]
        return [rrf([[i for i, _ in ranked[q]] for ranked in per_part], self.weights, self.rrf_k)[:depth]
                for q in range(len(queries))]


@RETRIEVERS.register("hybrid")
def build(stage, env: Env) -> Hybrid:
    return Hybrid([build_ranker(part, env) for part in stage.retrievers], [part.weight for part in stage.retrievers],
                  stage.rrf_k, env)
