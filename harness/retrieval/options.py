"""A RAG system's retrieval settings, validated: chunking, first-stage retriever(s), rerank, k."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from harness.inputs.config import Strict
from harness.retrieval.base import RERANKERS, RETRIEVERS
from harness.retrieval.chunking import CHUNKERS


class Stage(Strict):
    """One first-stage retriever. Fields a kind does not use are ignored by it."""

    retriever: str = "dense"
    embedder: str = "minilm"  # dense: the embedder; late: whose token embeddings (or a ColBERT id)
    similarity: Literal["dot", "cosine"] = "cosine"  # dense
    stemmer: Optional[str] = "english"  # bm25: a PyStemmer language, or null
    stopwords: Optional[str] = "en"  # bm25: a bm25s stopword list, or null
    k1: float = Field(1.5, gt=0)  # bm25: term-frequency saturation
    b: float = Field(0.75, ge=0, le=1)  # bm25: length normalisation (0: none, 1: full)
    retrievers: list["Stage"] = []  # hybrid: the retrievers it fuses
    weight: float = Field(1.0, gt=0)  # this retriever's weight when a hybrid fuses it
    rrf_k: int = Field(60, gt=0)  # hybrid: the RRF constant

    _known_retriever = field_validator("retriever")(lambda cls, name: RETRIEVERS.check(name))

    @model_validator(mode="after")
    def _hybrid_fuses_two(self):
        if self.retriever == "hybrid" and len(self.retrievers) < 2:
            raise ValueError(f"a hybrid retriever fuses two or more retrievers; it has {len(self.retrievers)}")
        return self

    def embedders(self) -> set[str]:
        """The embedders whose input limit the chunks must fit."""
        own = {self.embedder} if self.retriever in ("dense", "late") else set()
        return own.union(*(part.embedders() for part in self.retrievers))


class Rerank(Strict):
    kind: str = "cross-encoder"  # a reranker kind from harness.retrieval.RERANKERS
    model: str  # the kind's model: for cross-encoder, an id (local HF cache) or path
    candidates: int = Field(20, gt=0)  # first-stage chunks the reranker rescores

    _known_kind = field_validator("kind")(lambda cls, name: RERANKERS.check(name))


class RetrievalOptions(Stage):
    k: int = Field(gt=0)
    chunking: str = "tokens"
    chunk_tokens: int = Field(gt=0)
    chunk_overlap: int = Field(ge=0)
    section_titles: bool = False  # sections: index each chunk after its heading (the prompt gets the span)
    rerank: Optional[Rerank] = None

    _known_chunking = field_validator("chunking")(lambda cls, name: CHUNKERS.check(name))

    @model_validator(mode="after")
    def _consistent(self):
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        if self.rerank and self.rerank.candidates < self.k:
            raise ValueError(f"rerank.candidates ({self.rerank.candidates}) must be at least k ({self.k})")
        return self


def retrieval_defaults(config) -> dict:
    """A suite's top_k and chunking, for RAG systems that do not set their own."""
    return {"k": config.top_k, "chunk_tokens": config.chunking.tokens, "chunk_overlap": config.chunking.overlap}
