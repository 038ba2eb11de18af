"""Retrieval: chunk a corpus, rank its chunks for each query, optionally rerank, keep the top k.

Stages, each with a registry: ``chunking`` (``CHUNKERS``: tokens, sections), ``embedders``
(``EMBEDDERS``: minilm, generator, any sentence-transformers id, openai), retriever kinds
(``RETRIEVERS``: dense, bm25, hybrid, late) and rerankers (``RERANKERS``: cross-encoder).
``options`` validates a system's settings; ``build.make_retriever`` assembles them into a
:class:`Pipeline` with ``.retrieve`` and ``.k``. Every chunk boundary, embedding and rerank score is
cached on disk, so a rerun over the same corpus and questions loads no model.

May import harness.core, harness.inputs and harness.models.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from harness.retrieval.base import RERANKERS, RETRIEVERS, Chunks, Env, Hit, Ranker, build_ranker
from harness.retrieval.build import RetrievalContext, chunk_suite, make_retriever
from harness.retrieval.embedders import EMBEDDERS, Embedder, make_embedder
from harness.retrieval.embedding import cached_rows, embed_cached
from harness.retrieval.options import Rerank, RetrievalOptions, Stage, retrieval_defaults
from harness.retrieval.pipeline import Pipeline

__all__ = ["EMBEDDERS", "RERANKERS", "RETRIEVERS", "Chunks", "Embedder", "Env", "Hit", "Pipeline", "Ranker", "Rerank",
           "RetrievalContext", "RetrievalOptions", "Retriever", "Stage", "build_ranker", "cached_rows", "chunk_suite",
           "embed_cached", "make_embedder", "make_retriever", "retrieval_defaults"]


class Retriever(Protocol):
    k: int

    def retrieve(self, queries: Sequence[str]) -> list[tuple[Hit, ...]]: ...


from harness.retrieval import bm25, dense, hybrid, late, rerank  # noqa: E402,F401  (register the kinds)
