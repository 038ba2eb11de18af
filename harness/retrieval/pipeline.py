"""A system's retrieval: its chunks, a ranker, an optional rerank stage, and the top k as Hits."""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Sequence

from harness.core.errors import HarnessError
from harness.retrieval.base import Chunks, Hit, Ranker


class Pipeline:
    def __init__(self, chunks: Callable[[], Chunks], ranker: Ranker, k: int, reranker=None, candidates: int = 0,
                 identity: str = ""):
        self._chunks, self.ranker, self.k = chunks, ranker, k
        self.reranker, self.candidates = reranker, candidates
        self.identity = identity  # everything its results depend on (build.retrieval_identity)

    @cached_property
    def chunks(self) -> Chunks:
        chunks = self._chunks()
        if self.k > len(chunks.spans):  # every chunk in every prompt: minutes per answer, and no ranking
            raise HarnessError(f"k={self.k} is more than the corpus's {len(chunks.spans)} chunks; "
                               "lower k (top_k in suite.yaml)")
        return chunks

    def prepare(self) -> None:
        """Chunk and index the corpus now (it happens on the first query otherwise)."""
        self.ranker.prepare()

    def retrieve(self, queries: Sequence[str]) -> list[tuple[Hit, ...]]:
        chunks = self.chunks
        depth = self.candidates if self.reranker else self.k
        rankings = self.ranker.rank(list(queries), depth)
        if self.reranker:
            rankings = [self._rerank(query, ranking) for query, ranking in zip(queries, rankings)]
        return [tuple(Hit(chunks.spans[i].source, chunks.spans[i].start, chunks.spans[i].end, chunks.texts[i], score)
                      for i, score in ranking[:self.k]) for ranking in rankings]

    def _rerank(self, query: str, ranking):
        scores = self.reranker.scores(query, [self.chunks.indexed[i] for i, _ in ranking])
        order = sorted(range(len(ranking)), key=lambda j: -scores[j])  # stable: ties keep the first stage's order
        return [(ranking[j][0], round(scores[j], 6)) for j in order]
