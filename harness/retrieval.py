"""Index a corpus with an embedder and retrieve the top-k chunks for each query.

Chunk boundaries are cached per (embedder, chunking, corpus); every embedding, of a chunk or a
query, per (embedder, text). A rerun over the same corpus and questions loads no model and sends
no request.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Sequence

from harness.cache import DiskCache, cache_key
from harness.chunking import chunk_corpus
from harness.corpus import Document
from harness.embedders import Embedder
from harness.errors import HarnessError
from harness.evidence import Span
from harness.system import Hit

CHUNKER_VERSION = 1


@dataclass(frozen=True)
class Index:
    chunks: list[Span]
    texts: list[str]
    matrix: object  # float32 (n_chunks, dim), unit rows when similarity is cosine


def embed_cached(embedder: Embedder, texts: Sequence[str], cache: DiskCache):
    """One row per text; each text is embedded once per embedder, ever (cached on disk). Nothing is
    cached unless the embedder returned every vector asked for."""
    import numpy as np

    keys = [cache_key("embedding", embedder.identity, t) for t in texts]
    vectors = [cache.get_array("embedding", key) for key in keys]
    missing = [i for i, v in enumerate(vectors) if v is None]
    if missing:
        fresh = embedder.embed([texts[i] for i in missing])
        if len(fresh) != len(missing):
            raise HarnessError(f"{embedder.identity} returned {len(fresh)} embeddings for {len(missing)} texts")
        for i, vector in zip(missing, fresh):
            cache.put_array("embedding", keys[i], vector)
            vectors[i] = vector
    return np.stack(vectors)


def _unit(matrix):
    import numpy as np

    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


class Retriever:
    def __init__(self, embedder: Embedder, docs: Sequence[Document], corpus_hash: str, cache: DiskCache, *,
                 k: int, similarity: Literal["dot", "cosine"], chunk_tokens: int, chunk_overlap: int):
        self.embedder = embedder
        self.docs = {d.source: d for d in docs}
        self.corpus_hash = corpus_hash
        self.cache = cache
        self.k, self.similarity = k, similarity
        self.chunk_tokens, self.chunk_overlap = chunk_tokens, chunk_overlap

    def _chunks(self) -> list[Span]:
        limit = self.embedder.max_tokens
        if limit is not None and self.chunk_tokens > limit:
            raise HarnessError(f"chunk size {self.chunk_tokens} tokens exceeds what {self.embedder.identity} "
                               f"reads ({limit}); lower chunk_tokens")
        return chunk_corpus(list(self.docs.values()), self.embedder.token_spans, self.chunk_tokens,
                            self.chunk_overlap)

    def _text(self, chunk: Span) -> str:
        return self.docs[chunk.source].text[chunk.start:chunk.end]

    @cached_property
    def index(self) -> Index:
        key = cache_key("chunks", CHUNKER_VERSION, self.embedder.identity, self.chunk_tokens,
                        self.chunk_overlap, self.corpus_hash)
        meta = self.cache.get("chunks", key)
        if meta is None:
            chunks = self._chunks()
            self.cache.put("chunks", key, [[c.source, c.start, c.end] for c in chunks])
        else:
            chunks = [Span(*row) for row in meta]
        texts = [self._text(c) for c in chunks]
        matrix = embed_cached(self.embedder, texts, self.cache)  # per text: an edit re-embeds one chunk
        if self.similarity == "cosine":
            matrix = _unit(matrix)
        return Index(chunks, texts, matrix)

    def embed_queries(self, queries: Sequence[str]):
        matrix = embed_cached(self.embedder, queries, self.cache)
        return _unit(matrix) if self.similarity == "cosine" else matrix

    def retrieve(self, queries: Sequence[str]) -> list[tuple[Hit, ...]]:
        import numpy as np

        index = self.index
        scores = self.embed_queries(queries) @ index.matrix.T
        results = []
        for row in scores:
            top = np.argsort(-row, kind="stable")[: self.k]
            results.append(tuple(Hit(index.chunks[i].source, index.chunks[i].start, index.chunks[i].end,
                                     index.texts[i], round(float(row[i]), 6)) for i in top))
        return results
