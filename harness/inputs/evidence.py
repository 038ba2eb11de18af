"""Where evidence spans occur in the corpus, and at which retrieval rank they are hit.

Spans match case- and whitespace-insensitively. A retrieved list hits a span at rank r when
the chunks at ranks 1..r together cover one occurrence of it and chunk r overlaps it, so a
span cut by a chunk border still counts when overlapping chunks cover it fully.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

from harness.inputs.corpus import Document


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int


@functools.cache  # report.html looks for a question's spans in each chunk retrieved for it
def _pattern(span: str) -> re.Pattern:
    return re.compile(r"\s+".join(re.escape(word) for word in span.split()), re.IGNORECASE)


def find_span(docs: Sequence[Document], span: str) -> list[Span]:
    pattern = _pattern(span)
    return [Span(doc.source, m.start(), m.end()) for doc in docs for m in pattern.finditer(doc.text)]


def _covered(occurrence: Span, chunks: Sequence[Span]) -> bool:
    """Whether the union of ``chunks`` covers ``occurrence`` without a gap."""
    reach = occurrence.start
    for chunk in sorted((c for c in chunks if c.source == occurrence.source), key=lambda c: c.start):
        if chunk.start > reach:
            break
        reach = max(reach, chunk.end)
        if reach >= occurrence.end:
            return True
    return False


def evidence_rank(occurrences: Sequence[Span], retrieved: Sequence[Span]) -> int | None:
    """1-based rank at which any occurrence becomes covered, or None if the list never covers one."""
    for rank in range(1, len(retrieved) + 1):
        if any(_covered(occ, retrieved[:rank]) for occ in occurrences):
            return rank
    return None
