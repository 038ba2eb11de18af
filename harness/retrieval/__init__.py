"""Retrieval: chunk a corpus, rank its chunks for each query, optionally rerank, keep the top k.

A retriever kind ranks chunks and is registered by name (``RETRIEVERS``), like the judges:
``dense`` (an embedder), ``bm25`` (bm25s), ``hybrid`` (reciprocal rank fusion of others) and
``late`` (MaxSim over token embeddings). ``systems.rag.make_retriever`` assembles a system's
chunking, retriever and optional rerank stage into a :class:`Pipeline` with ``.retrieve`` and ``.k``.

Every chunk boundary, embedding and rerank score is cached on disk, so a rerun over the same
corpus and questions loads no model.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from harness.retrieval.base import RETRIEVERS, Chunks, Env, Ranker, build_ranker
from harness.retrieval.embedding import cached_rows, embed_cached
from harness.retrieval.pipeline import Pipeline
from harness.system import Hit

__all__ = ["RETRIEVERS", "Chunks", "Env", "Pipeline", "Ranker", "Retriever", "build_ranker", "cached_rows",
           "embed_cached"]


class Retriever(Protocol):
    k: int

    def retrieve(self, queries: Sequence[str]) -> list[tuple[Hit, ...]]: ...


from harness.retrieval import bm25, dense, hybrid, late  # noqa: E402,F401  (register the kinds)
