"""The suite an edit is drafted from and checked against, and the corpus read as text: paragraphs,
sentences, content words, defined terms."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from harness.inputs.config import Question
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span
from harness.inputs.trainset import OFFSETS, SOURCE, TrainPair
from harness.training.changes_draft.values import Value

STOPWORDS = frozenset("the a an and or of to in on at by for with from is are be is was were this that it its as "
                      "any all not no may must shall will should their they them which who when where".split())
# a defined term: capitalised words on one line (an inner "of" allowed), as a rulebook writes them
TERM = re.compile(r"\b(?!(?:A|An|The)\b)[A-Z][\w'-]*(?:[ \t]+(?:of[ \t]+)?[A-Z][\w'-]*)*")


def enclosing(text: str, at: int, stops: str) -> tuple[int, int]:
    start = max(text.rfind(s, 0, at) for s in stops)
    ends = [e for e in (text.find(s, at) for s in stops) if e >= 0]
    return (start + 1 if start >= 0 else 0), (min(ends) if ends else len(text))


def paragraph(text: str, at: int) -> str:
    start, end = enclosing(text, at, ("\n\n",))
    return text[start:end]


def sentence(text: str, at: int) -> str:
    start = max(text.rfind(s, 0, at) for s in (". ", "\n", "; ", "? ", "! "))
    ends = [e for e in (text.find(s, at) for s in (". ", ".\n", "\n", "; ")) if e >= 0]
    return text[start + 1 if start >= 0 else 0:min(ends) if ends else len(text)]


def content_words(text: str, leave_out: str = "") -> set[str]:
    skip = set(re.findall(r"[a-z]+", leave_out.lower()))
    return {w for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in STOPWORDS and w not in skip}


def head(term: str) -> str:
    """A term's head noun: "Field of Play" → field, "Dead Ball Line" → line."""
    words = term.lower().split()
    return words[words.index("of") - 1] if "of" in words[1:] else words[-1]


def corpus_terms(docs: Sequence[Document]) -> list[str]:
    """Defined terms: capitalised phrases the corpus writes inside sentences, not only at their start."""
    found: Counter[str] = Counter()
    for doc in docs:
        for m in TERM.finditer(doc.text):
            before = doc.text[max(0, m.start() - 2):m.start()]
            if before.strip() and not re.search(r"[.!?:*#>\-]\s*$", before):
                found[m.group(0)] += 1
    return sorted(t for t in found if len(t) > 2 and t.lower() not in STOPWORDS)


@dataclass
class Material:
    """What an edit is checked against: the suite's documents, questions, evidence and training pairs."""

    documents: tuple[Document, ...]
    questions: tuple[Question, ...]
    evidence: dict[str, tuple[Span, ...]]
    pairs: tuple[TrainPair, ...] | None
    terms: list[str] = field(default_factory=list)

    def text(self, source: str) -> str:
        return next(d.text for d in self.documents if d.source == source)

    def boundaries(self, source: str) -> set[int]:
        """Offsets a find must not straddle: evidence bounds, and the @START-END sources of questions and
        pairs (a find across one leaves no new offset that means the same)."""
        out = {b for spans in self.evidence.values() for s in spans if s.source == source for b in (s.start, s.end)}
        for where in [q.source for q in self.questions] + [p.source for p in self.pairs or ()]:
            name, sep, rest = SOURCE.fullmatch(where).groups(default="")
            m = OFFSETS.fullmatch(rest) if sep == "@" and name == source else None
            if m:
                out |= {int(m.group(1)), int(m.group(2) or int(m.group(1)) + 1)}
        return out


@dataclass(frozen=True)
class Hit:
    """A value where the corpus states it."""

    source: str
    start: int
    end: int
    value: Value
