"""Assemble a system's retrieval from its options: chunk the suite's corpus, build the ranker, add a rerank stage."""
from __future__ import annotations

import functools
from typing import Protocol

from harness.core.cache import DiskCache, cache_key
from harness.core.errors import HarnessError
from harness.retrieval.base import RERANKERS, Chunks, Env, build_ranker
from harness.retrieval.chunking import Chunk, chunk_corpus, indexed_text
from harness.retrieval.embedders import Embedder
from harness.retrieval.options import RetrievalOptions
from harness.retrieval.pipeline import Pipeline

CHUNKER_VERSION = 2


class RetrievalContext(Protocol):
    """What retrieval needs from a run: the suite's documents, embedders by name, the cache."""

    suite: object  # .documents and .corpus_hash
    cache: DiskCache

    def embedder(self, name: str) -> Embedder: ...


def _chunks_key(options: RetrievalOptions, ctx: RetrievalContext) -> str:
    return cache_key("chunks", CHUNKER_VERSION, ctx.embedder(options.embedder).identity, options.chunking,
                     options.chunk_tokens, options.chunk_overlap, options.section_titles, ctx.suite.corpus_hash)


def retrieval_identity(options: RetrievalOptions, ctx: RetrievalContext) -> str:
    """Everything a retrieval's results depend on: its options, the identity of each embedder they name (a
    name may stand for other weights elsewhere, or for the generator's table in another dtype) and the corpus."""
    names = sorted(options.embedders() | {options.embedder})
    return cache_key("retrieval", options.model_dump(mode="json"), [ctx.embedder(n).identity for n in names],
                     ctx.suite.corpus_hash)


def check_chunk_size(options: RetrievalOptions, ctx: RetrievalContext) -> None:
    """Chunks must fit what every embedder involved reads (its model is loaded to know)."""
    for name in sorted(options.embedders()):
        limit = ctx.embedder(name).max_tokens
        if limit is not None and options.chunk_tokens > limit:
            raise HarnessError(f"chunk size {options.chunk_tokens} tokens exceeds what {ctx.embedder(name).identity} "
                               f"reads ({limit}); lower chunk_tokens")


def chunk_suite(options: RetrievalOptions, ctx: RetrievalContext) -> Chunks:
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


def make_retriever(options: RetrievalOptions, ctx: RetrievalContext) -> Pipeline:
    """The retrieval a system's options describe; nothing is chunked, embedded or loaded until it is used."""
    for name in options.embedders() | {options.embedder}:
        ctx.embedder(name).check_available()
    if ctx.cache.get("chunks", _chunks_key(options, ctx)) is None:  # cached chunks passed this check already
        check_chunk_size(options, ctx)
    chunks = functools.cache(lambda: chunk_suite(options, ctx))
    ranker = build_ranker(options, Env(chunks, ctx.embedder, ctx.cache))
    reranker = RERANKERS.get(options.rerank.kind)(options.rerank.model, ctx.cache) if options.rerank else None
    return Pipeline(chunks, ranker, options.k, reranker, options.rerank.candidates if options.rerank else 0,
                    retrieval_identity(options, ctx))
