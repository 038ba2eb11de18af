"""bm25: lexical ranking with the bm25s library, with its stemmer and stopword lists."""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

from harness.core.errors import Unavailable
from harness.retrieval.base import RETRIEVERS, Env, Ranking, top


class BM25:
    def __init__(self, stemmer: str | None, stopwords: str | None, k1: float, b: float, env: Env):
        self.stemmer_name, self.stopwords, self.k1, self.b, self.env = stemmer, stopwords, k1, b, env

    @cached_property
    def _stemmer(self):
        if self.stemmer_name is None:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.stemmer_name)

    def _tokens(self, texts: Sequence[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(list(texts), stopwords=self.stopwords, stemmer=self._stemmer, return_ids=False,
                              show_progress=False)

    @cached_property
    def index(self):
        import bm25s

        index = bm25s.BM25(k1=self.k1, b=self.b)
        index.index(self._tokens(self.env.chunks().indexed), show_progress=False)
        return index

    def prepare(self) -> None:
        self.index  # noqa: B018

    def rank(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        import numpy as np

        rankings = []
        for tokens in self._tokens(queries):
            scores = self.index.get_scores(tokens) if tokens else np.zeros(len(self.env.chunks().spans))
            rankings.append(top(scores, depth))
        return rankings


@RETRIEVERS.register("bm25")
def build(stage, env: Env) -> BM25:
    try:
        import bm25s  # noqa: F401
        if stage.stemmer is not None:
            import Stemmer  # noqa: F401
    except ImportError as err:
        raise Unavailable(f"the bm25 retriever needs `pip install bm25s PyStemmer` ({err})") from None
    return BM25(stage.stemmer, stage.stopwords, stage.k1, stage.b, env)
