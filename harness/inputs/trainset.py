"""Training pairs for fine-tuning: a YAML list of {question, answer, source}.

A pair's ``source`` names the passage of the corpus its fact comes from, and must resolve:
``file`` (the whole document), ``file#2.1`` (the markdown section numbered 2.1, up to the next
heading of the same or a higher level), or ``file@START[-END]`` (character offsets, as
``harness synth`` writes them). RAFT puts the chunk holding that passage in the prompt, and
``phrasings: N`` keeps at most N pairs per source.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Sequence

from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.config import Strict, Text
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span
from harness.inputs.validation import validate
from harness.inputs.yamlfile import load_yaml

HEADING = re.compile(r"^(#+)[ \t]+(\d+(?:\.\d+)*)\.?[ \t]", re.MULTILINE)
SOURCE = re.compile(r"([^#@]*)(?:([#@])(.*))?")
OFFSETS = re.compile(r"(\d+)(?:-(\d+))?")


class TrainPair(Strict):
    question: Text
    answer: Text
    source: Text = ""
    fact: Text | None = None  # the fact it states (harness.training.facts): pairs of one fact share an id
    drafted: Literal["unchanged", "edited"] | None = None  # set by `harness review --drafts`


def _section(doc: Document, number: str) -> Span | None:
    headings = list(HEADING.finditer(doc.text))
    for i, h in enumerate(headings):
        if h.group(2) == number:
            level = len(h.group(1))
            end = next((n.start() for n in headings[i + 1:] if len(n.group(1)) <= level), len(doc.text))
            return Span(doc.source, h.start(), end)
    return None


def resolve_source(docs: Sequence[Document], source: str) -> Span:
    """The passage a pair's ``source`` names; HarnessError (one line, without location) when it names none."""
    name, sep, where = SOURCE.fullmatch(source).groups(default="")
    by_name = {d.source: d for d in docs}
    doc = by_name.get(name)
    if doc is None:
        raise HarnessError(f"source {source!r}: no document {name!r} in the corpus{did_you_mean(name, by_name)}")
    if not sep:
        return Span(doc.source, 0, len(doc.text))
    if sep == "#":
        span = _section(doc, where)
        if span is None:
            raise HarnessError(f"source {source!r}: {name} has no section numbered {where!r}")
        return span
    m = OFFSETS.fullmatch(where)
    start, end = (int(m.group(1)), int(m.group(2) or int(m.group(1)) + 1)) if m else (-1, -1)
    if not 0 <= start < end <= len(doc.text):
        raise HarnessError(f"source {source!r}: expected @START or @START-END within {name}'s "
                           f"{len(doc.text)} characters")
    return Span(doc.source, start, end)


def load_train_pairs(path: Path, docs: Sequence[Document]) -> tuple[TrainPair, ...]:
    raw = load_yaml(path)
    if not isinstance(raw, list) or not raw:
        raise HarnessError("expected a non-empty list of {question, answer, source} pairs", path=path)
    pairs = []
    for i, entry in enumerate(raw, 1):
        pair = validate(TrainPair, entry, path, item=f"pair {i}")
        line = getattr(entry, "line", None)
        if not pair.question.strip() or not pair.answer.strip():
            raise HarnessError("question and answer must not be empty", path=path, line=line, item=f"pair {i}")
        if pair.source:
            try:
                resolve_source(docs, pair.source)
            except HarnessError as err:
                raise HarnessError(f"{err} ({pair.question!r})", path=path, line=line, item=f"pair {i}") from None
        pairs.append(pair)
    return tuple(pairs)


def cap_phrasings(pairs: Sequence[TrainPair], phrasings: int | None) -> tuple[TrainPair, ...]:
    """At most ``phrasings`` pairs per source, the first ones in file order; a pair with no source is its own fact."""
    if phrasings is None:
        return tuple(pairs)
    seen: dict[str, int] = {}
    kept = []
    for i, pair in enumerate(pairs):
        fact = pair.source or f"\0{i}"
        seen[fact] = seen.get(fact, 0) + 1
        if seen[fact] <= phrasings:
            kept.append(pair)
    return tuple(kept)
