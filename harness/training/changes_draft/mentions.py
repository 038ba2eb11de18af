"""Where the corpus states a value: a question's value in its evidence, every restatement of the same fact,
and for each a find that is unique and keeps the offsets questions and pairs depend on."""
from __future__ import annotations

import re
from typing import Sequence

from harness.inputs.changes import states
from harness.inputs.config import Question
from harness.inputs.evidence import Span
from harness.training.changes_draft.material import TERM, Hit, Material, content_words, enclosing, sentence
from harness.training.changes_draft.values import COLOURS, NUMBER, Value, number_value, numbers_in, unit_stem

CONTEXT_WORDS = 6  # at most this many words each side of a value in a mention's find
SAME_STATEMENT = 0.5  # share of the evidence sentence's content words that makes another sentence restate it
COMMON_TERM = 80  # a term the corpus writes more often than this is its vocabulary, not one fact's value


def occurrences(material: Material, value: Value) -> list[Hit]:
    hits = []
    for doc in material.documents:
        if value.number is None:
            for m in re.finditer(rf"(?<![\w]){re.escape(value.text)}(?![\w])", doc.text, re.IGNORECASE):
                hits.append(Hit(doc.source, m.start(), m.end(), value))
            continue
        for m, number, unit, unit_end in numbers_in(doc.text):
            if number == value.number:
                value = number_value(doc.text, m, number, unit, unit_end)
                hits.append(Hit(doc.source, m.start(), m.start() + len(value.text), value))
    return hits


def same_fact(material: Material, hit: Hit, seed: Hit) -> bool:
    """Whether ``hit`` states the fact ``seed`` states: the same unit after a number, and a sentence sharing
    most of the seed sentence's content words (a restatement, a summary line)."""
    if hit == seed:
        return True
    if _in_term(material.text(hit.source), hit) != _in_term(material.text(seed.source), seed):
        return False  # "Seven Metre Zone" names a zone; "seven (7) metre line" states a distance
    if seed.value.number is not None and unit_stem(hit.value.unit) != unit_stem(seed.value.unit):
        return False
    theirs = content_words(sentence(material.text(seed.source), seed.start), seed.value.text)
    ours = content_words(sentence(material.text(hit.source), hit.start), seed.value.text)
    return bool(theirs) and len(theirs & ours) / len(theirs) >= SAME_STATEMENT


def _in_term(text: str, hit: Hit) -> bool:
    m = TERM.match(text, hit.start)
    return bool(m) and len(m.group(0).split()) > 1 and m.end() > hit.end


def _windows(text: str, hit: Hit) -> list[tuple[int, int]]:
    """Candidate finds around a value, fewest words first, a word after it before one before it, the value
    alone last (a bare number reads badly in review); never across a line."""
    line_start, line_end = enclosing(text, hit.start, ("\n",))
    left = [line_start + m.start() for m in re.finditer(r"\S+", text[line_start:hit.start])][::-1]
    right = [hit.end + m.end() for m in re.finditer(r"\S+", text[hit.end:line_end])]
    sizes = sorted(((l, r) for l in range(min(CONTEXT_WORDS, len(left)) + 1)
                    for r in range(min(CONTEXT_WORDS, len(right)) + 1) if l + r), key=lambda lr: (sum(lr), lr[0]))
    windows = [(left[l - 1] if l else hit.start, right[r - 1] if r else hit.end) for l, r in sizes]
    return windows + [(hit.start, hit.end)]


def find_for(material: Material, hit: Hit, mentions: Sequence[Hit]) -> tuple[str, int] | None:
    """A find for one mention: every place it occurs is a mention (so its count is exact and no other
    statement changes), and none straddles an offset a question or pair depends on."""
    text, bounds = material.text(hit.source), material.boundaries(hit.source)
    starts = {m.start for m in mentions if m.source == hit.source}
    for s, e in _windows(text, hit):
        find = text[s:e].strip()
        s = text.index(find, s)
        e = s + len(find)
        places = [p for p in positions(text, find)]
        if not all(p + (hit.start - s) in starts for p in places):
            continue
        if any(p < b < p + len(find) for p in places for b in bounds):
            continue
        return find, len(places)
    return None


def positions(text: str, find: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(find), text)]


def _all_ci(material: Material, term: str) -> list[Hit]:
    return occurrences(material, Value("term", term))


def question_value(q: Question, material: Material) -> Hit | None:
    """The typed value of a question's gold where its evidence states it: a number first, then a colour,
    then a defined term. The gold answer itself must state it (an accepted form alone is not the fact)."""
    for span in material.evidence.get(q.id, ()):
        text = material.text(span.source)
        chunk = text[span.start:span.end]
        hit = _number_in(q.answer, chunk, span, text) or _colour_in(q.answer, chunk, span) or \
            _term_in(q.answer, chunk, span, material)
        if hit:
            return hit
    return None


def _number_in(answer: str, chunk: str, span: Span, text: str) -> Hit | None:
    """The evidence's statement of a number the answer states; of several, the one followed by the answer's
    own words ("seven (7) metre line", not "Seven Metre Zone", for "the seven metre line")."""
    said_after = {num: _next_words(answer, m.end()) for m, num, _, _ in numbers_in(answer)}
    found = [(m, num, unit, end) for m, num, unit, end in numbers_in(chunk) if num in said_after]
    if not found:
        return None
    m, number, unit, end = max(found, key=lambda f: len(_next_words(chunk, f[0].end()) & said_after[f[1]]))
    at = span.start + m.start()
    value = number_value(text, NUMBER.match(text, at), number, unit, span.start + end)
    return Hit(span.source, at, at + len(value.text), value)


def _next_words(text: str, at: int, n: int = 3) -> set[str]:
    return set(re.findall(r"[\w']+", text[at:at + 40].lower())[:n])


def _colour_in(answer: str, chunk: str, span: Span) -> Hit | None:
    for colour in COLOURS:
        at = re.search(rf"\b{colour}\b", chunk, re.IGNORECASE)
        if at and states(answer, [colour]):
            return Hit(span.source, span.start + at.start(), span.start + at.end(), Value("colour", at.group(0)))
    return None


def _term_in(answer: str, chunk: str, span: Span, material: Material) -> Hit | None:
    """The longest defined term that both the answer and its evidence state."""
    for term in sorted(material.terms, key=len, reverse=True):
        if len(_all_ci(material, term)) > COMMON_TERM:
            continue
        inner = re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", chunk)
        if inner and states(answer, [term]):
            return Hit(span.source, span.start + inner.start(), span.start + inner.end(), Value("term", term))
    return None
