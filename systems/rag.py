"""rag: retrieve the top-k chunks, put them in the prompt, then answer.

How it retrieves is set per system: the chunking strategy and size, a retriever kind from
``harness.retrieval.RETRIEVERS`` (dense, bm25, hybrid, late) and an optional rerank stage.
"""
from __future__ import annotations

import functools
from typing import Literal, Optional, Sequence

from pydantic import Field, field_validator, model_validator

from harness.cache import cache_key
from harness.chunking import CHUNKERS, Chunk, chunk_corpus, indexed_text
from harness.config import Question, Strict
from harness.errors import HarnessError
from harness.retrieval import RETRIEVERS, Chunks, Env, Pipeline, build_ranker
from harness.retrieval.rerank import Reranker
from harness.system import Answer
from systems import system_kind

CHUNKER_VERSION = 2


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
    model: str  # a cross-encoder id (local HF cache) or path
    candidates: int = Field(20, gt=0)  # first-stage chunks the cross-encoder rescores


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
    return {"k": config.top_k, "chunk_tokens": config.chunking.tokens, "chunk_overlap": config.chunking.overlap}


def _chunks_key(options: RetrievalOptions, ctx) -> str:
    return cache_key("chunks", CHUNKER_VERSION, ctx.embedder(options.embedder).identity, options.chunking,
                     options.chunk_tokens, options.chunk_overlap, options.section_titles, ctx.suite.corpus_hash)


def check_chunk_size(options: RetrievalOptions, ctx) -> None:
    """Chunks must fit what every embedder involved reads (its model is loaded to know)."""
    for name in sorted(options.embedders()):
        limit = ctx.embedder(name).max_tokens
        if limit is not None and options.chunk_tokens > limit:
            raise HarnessError(f"chunk size {options.chunk_tokens} tokens exceeds what {ctx.embedder(name).identity} "
                               f"reads ({limit}); lower chunk_tokens")


def chunk_suite(options: RetrievalOptions, ctx) -> Chunks:
    """The suite's chunks for these options, counted in the tokens of ``options.embedder`` (cached)."""
    counter = ctx.embedder(options.embedder)
    docs = {d.source: d for d in ctx.suite.documents}
    key = _chunks_key(options, ctx)
    rows = ctx.cache.get("chunks", key)
    if rows is None:
        check_chunk_size(options, ctx)
        spans = chunk_corpus(list(docs.values()), counter.token_spans, options.chunk_tokens, options.chunk_overlap,
                             options.chunking, options.section_titles)
        ctx.cache.put("chunks", key, [[c.source, c.start, c.end, c.title] for c in spans])
    else:
        spans = [Chunk(*row) for row in rows]
    texts = [docs[c.source].text[c.start:c.end] for c in spans]
    return Chunks(spans, texts, [indexed_text(c, t) for c, t in zip(spans, texts)])


def make_retriever(options: RetrievalOptions, ctx) -> Pipeline:
    """The retrieval a system's options describe; nothing is chunked, embedded or loaded until it is used."""
    for name in options.embedders() | {options.embedder}:
        ctx.embedder(name).check_available()
    if ctx.cache.get("chunks", _chunks_key(options, ctx)) is None:  # cached chunks passed this check already
        check_chunk_size(options, ctx)
    chunks = functools.cache(lambda: chunk_suite(options, ctx))
    ranker = build_ranker(options, Env(chunks, ctx.embedder, ctx.cache))
    reranker = Reranker(options.rerank.model, ctx.cache) if options.rerank else None
    return Pipeline(chunks, ranker, options.k, reranker, options.rerank.candidates if options.rerank else 0)


class Rag:
    def __init__(self, name: str, retriever: Pipeline, answerer):
        self.name = name
        self.retriever = retriever
        self.answerer = answerer

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        hits = self.retriever.retrieve([q.question for q in questions])
        generated = self.answerer.answer([q.question for q in questions],
                                         [[h.text for h in row] for row in hits])
        return [Answer(g.text, row, g.seconds, g.cached) for g, row in zip(generated, hits)]


@system_kind("rag", options=RetrievalOptions, retrieves=True, defaults=retrieval_defaults)
def build(name: str, options: RetrievalOptions, ctx) -> Rag:
    ctx.generator.check_available()
    return Rag(name, make_retriever(options, ctx), ctx.answerer)
