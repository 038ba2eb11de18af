"""late: late interaction. A chunk's score is the sum, over the query's tokens, of each token's best
cosine similarity with any of the chunk's tokens (MaxSim, as ColBERT scores).

By default the tokens are the packaged MiniLM's contextual token embeddings. Any other model id or
path is a ColBERT checkpoint, loaded with pylate from a local path or the local Hugging Face cache.
"""
from __future__ import annotations

from functools import cached_property
from typing import Sequence

from harness.core.errors import Unavailable
from harness.models import hub_unavailable_reason
from harness.retrieval.base import RETRIEVERS, Env, Ranking, top
from harness.retrieval.embedders import EMBEDDERS, SentenceTransformerEmbedder
from harness.retrieval.embedding import cached_rows, unit


class SentenceTransformerTokens:
    """Per-token output embeddings of a sentence-transformers model (before pooling)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.identity = f"tokens:{embedder.identity}"

    def check_available(self) -> None:
        self.embedder.check_available()

    def embed(self, texts: list[str], query: bool) -> list:
        rows = self.embedder.model.encode(texts, output_value="token_embeddings", batch_size=32,
                                          convert_to_numpy=False)
        return [row.float().numpy() for row in rows]


class ColBERT:
    """A ColBERT checkpoint through pylate, which adds its query and document markers."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        self.identity = f"colbert:{model_id}"

    def check_available(self) -> None:
        try:
            import pylate  # noqa: F401
        except ImportError:
            raise Unavailable(f"the late retriever with {self.model_id} needs `pip install pylate`") from None
        reason = hub_unavailable_reason(self.model_id)
        if reason:
            raise Unavailable(f"ColBERT model {reason}")

    @cached_property
    def model(self):
        from pylate import models

        return models.ColBERT(model_name_or_path=self.model_id, device="cpu")

    def embed(self, texts: list[str], query: bool) -> list:
        return [row.astype("float32") for row in
                self.model.encode(texts, is_query=query, batch_size=32, convert_to_numpy=True, show_progress_bar=False)]


class Late:
    def __init__(self, tokens, env: Env):
        self.tokens, self.env = tokens, env

    def _embed(self, texts: Sequence[str], query: bool) -> list:
        # Stored as float16: token matrices are ~100x the size of one pooled vector.
        identity = f"{self.tokens.identity}|{'query' if query else 'document'}"
        rows = cached_rows(identity, lambda batch: [unit(r).astype("float16") for r in self.tokens.embed(batch, query)],
                           texts, self.env.cache, namespace="token-embedding")
        return [r.astype("float32") for r in rows]

    @cached_property
    def index(self):
        """All chunks' token rows stacked, and where each chunk's rows start."""
        import numpy as np

        rows = self._embed(self.env.chunks().indexed, query=False)
        starts = np.cumsum([0] + [len(r) for r in rows[:-1]])
        return np.concatenate(rows), starts

    def prepare(self) -> None:
        self.index  # noqa: B018

    def rank(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        import numpy as np

        matrix, starts = self.index
        return [top(np.maximum.reduceat(q @ matrix.T, starts, axis=1).sum(axis=0), depth)
                for q in self._embed(queries, query=True)]


@RETRIEVERS.register("late")
def build(stage, env: Env) -> Late:
    if stage.embedder in EMBEDDERS:
        embedder = env.embedder(stage.embedder)
        if not isinstance(embedder, SentenceTransformerEmbedder):  # (checked without loading its model)
            raise Unavailable(f"the late retriever needs token embeddings, which {stage.embedder!r} does not give")
        tokens = SentenceTransformerTokens(embedder)
    else:
        tokens = ColBERT(stage.embedder)
    tokens.check_available()
    return Late(tokens, env)
