"""Split documents into overlapping windows of tokens, counted with the embedder's tokenizer."""
from __future__ import annotations

from typing import Callable, Sequence

from harness.corpus import Document
from harness.evidence import Span

# text -> (start, end) character offsets of each token
TokenSpans = Callable[[str], list[tuple[int, int]]]


def chunk_document(doc: Document, token_spans: TokenSpans, size: int, overlap: int) -> list[Span]:
    offsets = [(s, e) for s, e in token_spans(doc.text) if e > s]
    stride = size - overlap
    chunks = []
    for first in range(0, max(len(offsets), 1), stride):
        window = offsets[first:first + size]
        if not window:
            break
        chunks.append(Span(doc.source, window[0][0], window[-1][1]))
        if first + size >= len(offsets):
            break
    return chunks


def chunk_corpus(docs: Sequence[Document], token_spans: TokenSpans, size: int, overlap: int) -> list[Span]:
    return [chunk for doc in docs for chunk in chunk_document(doc, token_spans, size, overlap)]
