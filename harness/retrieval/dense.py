"""dense: cosine or dot-product similarity between the query's and each chunk's embedding."""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

from harness.retrieval.base import RETRIEVERS, Env, Ranking, top
from harness.retrieval.embedding import embed_cached, unit


class Dense:
    def __init__(self, embedder, similarity: str, env: Env):
        self.embedder, self.similarity, self.env = embedder, similarity, env

    def _embed(self, texts: Sequence[str]):
        matrix = embed_cached(self.embedder, texts, self.env.cache)  # per text: an edit re-embeds one chunk
        return unit(matrix) if self.similarity == "cosine" else matrix

    @cached_property
    def matrix(self):
        return self._embed(self.env.chunks().indexed)

    def prepare(self) -> None:
        self.matrix  # noqa: B018

    def rank(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        if not queries:
            return []
        return [top(row, depth) for row in self._embed(queries) @ self.matrix.T]


@RETRIEVERS.register("dense")
def build(stage, env: Env) -> Dense:
    embedder = env.embedder(stage.embedder)
    embedder.check_available()
    return Dense(embedder, stage.similarity, env)
