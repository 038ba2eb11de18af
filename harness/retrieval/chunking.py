"""Split documents into chunks counted in the embedder's tokens. Strategies, chosen per system:

- ``tokens``: overlapping windows of ``size`` tokens;
- ``sections``: the document's own pieces (markdown headings, numbered rules, list items,
  paragraphs; for PDFs, the lines and paragraphs pypdf gives) packed up to ``size`` tokens without
  crossing a heading. A piece longer than that is cut into overlapping windows.

A chunk is always an exact character span of its document. With ``titles``, a sections chunk also
carries its heading, which the retrievers index in front of the text (the prompt gets the span
alone); the room for the heading is taken from the budget, so the indexed text never exceeds it.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from harness.core.registry import Registry
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span

# text -> (start, end) character offsets of each token
TokenSpans = Callable[[str], list[tuple[int, int]]]


@dataclass(frozen=True)
class Chunk(Span):
    title: str = ""  # the section heading indexed in front of the span ("" for none)


def indexed_text(chunk: Chunk, text: str) -> str:
    """What retrievers index for a chunk whose span holds ``text``."""
    return f"{chunk.title}\n{text}" if chunk.title else text


# name -> chunker(doc, token_spans, size, overlap, titles) -> list[Chunk]
CHUNKERS: Registry[Callable[..., list[Chunk]]] = Registry("chunking strategy")


def _offsets(doc: Document, token_spans: TokenSpans) -> list[tuple[int, int]]:
    return [(s, e) for s, e in token_spans(doc.text) if e > s]


def _windows(n: int, size: int, overlap: int) -> Iterator[tuple[int, int]]:
    """[first, last) token index ranges of overlapping windows over n tokens."""
    for first in range(0, n, size - overlap):
        yield first, min(first + size, n)
        if first + size >= n:
            break


@CHUNKERS.register("tokens")
def chunk_tokens(doc: Document, token_spans: TokenSpans, size: int, overlap: int, titles: bool = False) -> list[Chunk]:
    offsets = _offsets(doc, token_spans)
    return [Chunk(doc.source, offsets[a][0], offsets[b - 1][1]) for a, b in _windows(len(offsets), size, overlap)]


chunk_document = chunk_tokens  # the default strategy

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# A line that starts a piece of its own: a list item, or a numbered rule such as "**1.2**" or "3.4".
_ITEM = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|(?:\*\*)?\d+(?:\.\d+)+)")


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    heading: str  # the heading of the section it lies in


def _pieces(text: str) -> list[_Piece]:
    """Headings, list items, numbered rules and paragraphs, in order, with their section's heading."""
    pieces: list[_Piece] = []
    heading, start, pos = "", None, 0

    def close(end: int) -> None:
        nonlocal start
        if start is not None and re.search(r"\w", text[start:end]):
            pieces.append(_Piece(start, len(text[:end].rstrip()), heading))
        start = None

    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        found = _HEADING.match(stripped)
        if not stripped or found or _ITEM.match(line):
            close(pos)
        if found:
            heading = re.sub(r"[*_`]", "", found.group(1)).strip()
        if stripped and start is None:
            start = pos + len(line) - len(line.lstrip())
        if found:
            close(pos + len(line))  # a heading is a piece of its own section
        pos += len(line)
    close(pos)
    return pieces


@CHUNKERS.register("sections")
def chunk_sections(doc: Document, token_spans: TokenSpans, size: int, overlap: int, titles: bool = False) -> list[Chunk]:
    offsets = _offsets(doc, token_spans)
    starts = [s for s, _ in offsets]
    chunks: list[Chunk] = []
    group: list[tuple[int, int]] = []  # [first, last) token indexes of the pieces packed so far
    title, heading, room = "", None, size

    def flush() -> None:
        if group:
            chunks.append(Chunk(doc.source, offsets[group[0][0]][0], offsets[group[-1][1] - 1][1], title))
            group.clear()

    for piece in _pieces(doc.text):
        if piece.heading != heading:  # a new section: never packed with the last one
            flush()
            heading = piece.heading
            title = heading if titles else ""
            room = size - (len(token_spans(title + "\n")) if title else 0)
            if room < 1:  # a heading as long as the budget: index the span alone
                title, room = "", size
        first, last = bisect.bisect_left(starts, piece.start), bisect.bisect_left(starts, piece.end)
        if last <= first:
            continue
        if group and last - group[0][0] > room:
            flush()
        if last - first > room:  # too long for one chunk: windows of its own
            chunks += [Chunk(doc.source, offsets[first + a][0], offsets[first + b - 1][1], title)
                       for a, b in _windows(last - first, room, min(overlap, room - 1))]
        else:
            group.append((first, last))
    flush()
    return chunks


def chunk_corpus(docs: Sequence[Document], token_spans: TokenSpans, size: int, overlap: int,
                 strategy: str = "tokens", titles: bool = False) -> list[Chunk]:
    chunker = CHUNKERS.get(strategy)
    return [chunk for doc in docs for chunk in chunker(doc, token_spans, size, overlap, titles)]
