"""Counterfactual edits drafted without a model (``harness changes``), for review (``harness review --changes``).

A question whose gold value its evidence states gives one edit: the value is typed (a count, a quantity
with its unit, a colour, a defined term of the corpus), a plausible new value of the same type is drawn
(seeded) that the passages of its mentions do not already state, every restatement of the same fact is
found, and the questions and training pairs it moves are listed. Each edit is checked by applying it, as
the run would, together with the ones drafted before it; one that fails is dropped and counted.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from harness.core.cache import write_atomic
from harness.core.errors import HarnessError
from harness.inputs.changes import DRAFT, FOLDER, ChangeSet, Edit, apply_changes, states
from harness.inputs.config import Question
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span
from harness.inputs.trainset import OFFSETS, SOURCE, TrainPair, resolve_source
from harness.inputs.yamlfile import load_yaml

REVIEW_ONLY = ("status", "reason")  # draft fields a change set does not have: stripped when an edit is accepted
PENDING = "draft"

_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen twenty").split()
WORDS = {w: i for i, w in enumerate(_SMALL)} | {w: 10 * i for i, w in enumerate(
    "thirty forty fifty sixty seventy eighty ninety".split(), 3)} | {"hundred": 100}
NUMBER_WORD = {v: k for k, v in WORDS.items()}
_WORD_ALT = "|".join(sorted(WORDS, key=len, reverse=True))
NUMBER = re.compile(rf"(?<![\w.])(?:(?P<word>{_WORD_ALT})\b(?:\s*\((?P<paren>\d+)\))?"
                    rf"|(?P<digits>\d+(?:\.\d+)?)(?![\d]|[.,]\d))", re.IGNORECASE)
MEASURES = {"m", "cm", "mm", "km", "metre", "meter", "centimetre", "centimeter", "millimetre", "millimeter",
            "kilometre", "kilometer", "second", "sec", "s", "minute", "min", "hour", "hr", "h", "day", "week",
            "kg", "g", "gram", "kilogram", "litre", "liter", "l", "ml", "%", "percent", "degree", "inch", "foot",
            "feet", "yard", "mile", "pound", "lb"}
_UNIT = re.compile(r"(?P<gap>\s*-?\s*)(?P<unit>%|[A-Za-z]+)")
COLOURS = ("red orange yellow green blue purple pink white black grey gray brown gold silver maroon navy "
           "violet").split()
STOPWORDS = frozenset("the a an and or of to in on at by for with from is are be is was were this that it its as "
                      "any all not no may must shall will should their they them which who when where".split())
# a defined term: capitalised words on one line (an inner "of" allowed), as a rulebook writes them
TERM = re.compile(r"\b(?!(?:A|An|The)\b)[A-Z][\w'-]*(?:[ \t]+(?:of[ \t]+)?[A-Z][\w'-]*)*")
CONTEXT_WORDS = 6  # at most this many words each side of a value in a mention's find
SHARED_SLOTS = 2  # places (two words before, the word after) two terms must share to be of one type
SAME_STATEMENT = 0.5  # share of the evidence sentence's content words that makes another sentence restate it
COMMON_TERM = 80  # a term the corpus writes more often than this is its vocabulary, not one fact's value
MAX_MENTIONS = 6  # more statements alike than this are boilerplate (a ruling repeated), not one fact restated
DERIVED_WORDS = re.compile(r"\b(total|in all|altogether|combined|halves|each half|consisting of|twice|double)\b",
                           re.IGNORECASE)


# --- values -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A typed value as one passage says it: a number (with the form and the unit it is written in) or a term."""

    kind: str  # count | quantity | colour | term
    text: str  # as the corpus writes it: "four (4)", "2.5cm", "orange", "Try Line"
    number: float | None = None
    unit: str = ""  # the word after a number: its unit for a quantity, what it counts for a count

    @property
    def decimals(self) -> int:
        digits = NUMBER.match(self.text)["digits"] or ""
        return len(digits.partition(".")[2])


def _unit_after(text: str, end: int) -> tuple[str, int]:
    m = _UNIT.match(text, end)
    if not m or len(m["gap"]) > 2 or "\n" in m["gap"]:
        return "", end
    return m["unit"], m.end()


def _stem(unit: str) -> str:
    u = unit.lower()
    return u[:-1] if len(u) > 2 and u.endswith("s") else u


def _number(m: re.Match) -> float:
    return float(WORDS[m["word"].lower()]) if m["word"] else float(m["digits"])


def numbers_in(text: str) -> list[tuple[re.Match, float, str, int]]:
    """Each number a text states: its match, value, the word after it and where that word ends; a run of
    digits glued to letters that are not a unit ("4x4", "A1") is no number."""
    out = []
    for m in NUMBER.finditer(text):
        if m["digits"] and m.end() < len(text) and text[m.end()].isalpha():
            unit, _ = _unit_after(text, m.end())
            if _stem(unit) not in MEASURES:
                continue
        unit, unit_end = _unit_after(text, m.end())
        out.append((m, _number(m), unit, unit_end))
    return out


def number_value(text: str, m: re.Match, number: float, unit: str, unit_end: int) -> Value:
    attached = text[m.end():unit_end] if unit_end > m.end() and not text[m.end()].isspace() else ""
    measure = _stem(unit) in MEASURES or (m["digits"] or "").count(".")
    return Value("quantity" if measure else "count", m.group(0) + attached, number, unit)


def _case(like: str, word: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word.lower() if like.islower() else word


def render_number(m: re.Match, new: float, decimals: int) -> str | None:
    """``new`` written the way match ``m`` writes its number: "six (6)" → "eight (8)", "Nine" → "Ten"."""
    whole = int(new) if new == int(new) else None
    if m["word"]:
        word = NUMBER_WORD.get(whole) if whole is not None else None
        if word is None:
            return None
        return _case(m["word"], word) + (f" ({whole})" if m["paren"] else "")
    return f"{new:.{decimals}f}"


def substitute(text: str, old: Value, new: Value) -> str:
    """``text`` with every statement of the old value replaced by the new one, in the same form and case,
    and "a" / "an" before it agreeing."""
    parts, at = [], 0
    for start, end, rendered in _replacements(text, old, new):
        parts += [_article(text[at:start], rendered), rendered]
        at = end
    return "".join(parts) + text[at:]


def _replacements(text: str, old: Value, new: Value) -> list[tuple[int, int, str]]:
    if old.number is None:
        pattern = re.compile(rf"(?<![\w]){re.escape(old.text)}(?![\w])", re.IGNORECASE)
        return [(m.start(), m.end(), new.text if m.group(0)[:1].isupper() and old.text[:1].isupper()
                 and not m.group(0).isupper() else _case(m.group(0), new.text)) for m in pattern.finditer(text)]
    out = []
    for m, number, _, _ in numbers_in(text):
        rendered = render_number(m, new.number, len((m["digits"] or "").partition(".")[2]))
        if number == old.number and rendered is not None:
            out.append((m.start(), m.end(), rendered))
    return out


def _article(before: str, word: str) -> str:
    m = re.search(r"\b([Aa])(n?)(\s+)$", before)
    if not m:
        return before
    vowel = word[:1].lower() in "aeiou" and not re.match(r"(?i)(one|uni|eu|use)", word) or word[:1] in "8"
    return before[:m.start()] + m.group(1) + ("n" if vowel else "") + m.group(3)


def said(value: Value) -> list[str]:
    """How a value is said, for ``old:`` / ``new:``: as written, then its other forms (an answer stating any
    of them is stale)."""
    forms = [value.text]
    if value.number is not None:
        whole = int(value.number) if value.number == int(value.number) else None
        digits = f"{value.number:.{value.decimals}f}" if value.decimals else str(whole)
        word = NUMBER_WORD.get(whole) if whole is not None else None
        forms += [f"{digits} {value.unit}" if value.unit and value.kind == "quantity" else "", digits, word or ""]
    return list(dict.fromkeys(f for f in forms if f))


# --- the corpus ---------------------------------------------------------------------------------------------


def _bounds(text: str, at: int, stops: str) -> tuple[int, int]:
    start = max(text.rfind(s, 0, at) for s in stops)
    ends = [e for e in (text.find(s, at) for s in stops) if e >= 0]
    return (start + 1 if start >= 0 else 0), (min(ends) if ends else len(text))


def paragraph(text: str, at: int) -> str:
    start, end = _bounds(text, at, ("\n\n",))
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


# --- one edit -----------------------------------------------------------------------------------------------


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


def _occurrences(material: Material, value: Value) -> list[Hit]:
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


def _same_fact(material: Material, hit: Hit, seed: Hit) -> bool:
    """Whether ``hit`` states the fact ``seed`` states: the same unit after a number, and a sentence sharing
    most of the seed sentence's content words (a restatement, a summary line)."""
    if hit == seed:
        return True
    if _in_term(material.text(hit.source), hit) != _in_term(material.text(seed.source), seed):
        return False  # "Seven Metre Zone" names a zone; "seven (7) metre line" states a distance
    if seed.value.number is not None and _stem(hit.value.unit) != _stem(seed.value.unit):
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
    line_start, line_end = _bounds(text, hit.start, ("\n",))
    left = [line_start + m.start() for m in re.finditer(r"\S+", text[line_start:hit.start])][::-1]
    right = [hit.end + m.end() for m in re.finditer(r"\S+", text[hit.end:line_end])]
    sizes = sorted(((l, r) for l in range(min(CONTEXT_WORDS, len(left)) + 1)
                    for r in range(min(CONTEXT_WORDS, len(right)) + 1) if l + r), key=lambda lr: (sum(lr), lr[0]))
    windows = [(left[l - 1] if l else hit.start, right[r - 1] if r else hit.end) for l, r in sizes]
    return windows + [(hit.start, hit.end)]


def _find(material: Material, hit: Hit, mentions: Sequence[Hit]) -> tuple[str, int] | None:
    """A find for one mention: every place it occurs is a mention (so its count is exact and no other
    statement changes), and none straddles an offset a question or pair depends on."""
    text, bounds = material.text(hit.source), material.boundaries(hit.source)
    starts = {m.start for m in mentions if m.source == hit.source}
    for s, e in _windows(text, hit):
        find = text[s:e].strip()
        s = text.index(find, s)
        e = s + len(find)
        places = [p for p in _all(text, find)]
        if not all(p + (hit.start - s) in starts for p in places):
            continue
        if any(p < b < p + len(find) for p in places for b in bounds):
            continue
        return find, len(places)
    return None


def _all(text: str, find: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(find), text)]


def _candidates(value: Value, material: Material, passages: Sequence[str]) -> tuple[list[Value], str]:
    """New values of the same type that none of the passages states, and how they were chosen."""
    if value.number is not None:
        return _new_numbers(value, passages)
    if value.kind == "colour":
        pool, how = _corpus_colours(material), "another colour of the corpus"
        if not [c for c in pool if c != value.text.lower()]:
            pool, how = list(COLOURS), "a colour from the built-in list (the corpus names no other)"
    else:
        pool, how = _same_head(value.text, material.terms), f"another defined term with the head {head(value.text)!r}"
        if not pool:
            pool, how = _same_slots(value.text, material), "a defined term written in the same places (no model: " \
                                                            "shared neighbouring words)"
    pool = [t for t in pool if t.lower() != value.text.lower()]
    fresh = [t for t in pool if not any(states(p, [t]) for p in passages)]
    stated = len(pool) - len(fresh)
    note = f" ({stated} left out: stated in its passage)" if stated else ""
    return [Value(value.kind, t) for t in fresh], how + note


def _variant(a: str, b: str) -> bool:
    """Two spellings of one term: plural, possessive, hyphenated, or one inside the other."""
    x, y = (re.sub(r"[\s-]+|'s\b", " ", t.lower()).strip() for t in (a, b))
    return x in y or y in x or x.rstrip("s") == y.rstrip("s")


def _same_head(term: str, terms: Sequence[str]) -> list[str]:
    h = head(term)
    return [t for t in terms if not _variant(t, term) and "'" not in t
            and (head(t) == h or (len(t.split()) == 1 and t.lower().endswith(h) and len(h) > 3))]


def _slots(text: str, term: str) -> set[tuple[str, str]]:
    """The places a term is written: the two words before it, and the word after it."""
    out = set()
    for m in re.finditer(rf"(?<![\w-]){re.escape(term)}(?![\w-])", text):
        before = re.findall(r"[\w']+", text[max(0, m.start() - 40):m.start()].lower())[-2:]
        after = re.findall(r"[\w']+", text[m.end():m.end() + 20].lower())[:1]
        if len(before) == 2:
            out.add(("before", " ".join(before)))
        if after and after[0] not in STOPWORDS:
            out.add(("after", after[0]))
    return out


def _all_ci(material: Material, term: str) -> list[Hit]:
    return _occurrences(material, Value("term", term))


def _same_slots(term: str, material: Material) -> list[str]:
    """Defined terms the corpus writes where it writes this one (at least two shared places), most shared first."""
    text = "\n".join(d.text for d in material.documents)
    mine = _slots(text, term)
    scored = []
    for other in material.terms:
        if _variant(other, term) or "'" in other or len(other.split()) != len(term.split()):
            continue
        shared = len(mine & _slots(text, other))
        if shared >= SHARED_SLOTS:
            scored.append((-shared, other))
    return [t for _, t in sorted(scored)][:8]


def _corpus_colours(material: Material) -> list[str]:
    return [c for c in COLOURS if any(re.search(rf"\b{c}\b", d.text, re.IGNORECASE) for d in material.documents)]


def _new_numbers(value: Value, passages: Sequence[str]) -> tuple[list[Value], str]:
    n, wordy = value.number, bool(NUMBER.match(value.text)["word"])
    if value.kind == "count":
        options, how = [n + d for d in (-3, -2, -1, 1, 2, 3) if n + d >= (0 if n == 0 else 1)], \
            "a count ±1–3 (never to zero)"
    else:
        step = _step(n, value.decimals)
        low, high = n * 0.8, n * 1.5
        options = [k * step for k in range(int(low / step), int(high / step) + 1) if low <= k * step <= high]
        options = [o for o in options if o != n and o > 0 and (value.decimals == 0 or o != int(o))]
        how = f"a quantity ×0.8–1.5 in steps of {step:g} {value.unit}".rstrip()
    stated = {num for p in passages for _, num, _, _ in numbers_in(p)}
    fresh = [o for o in options if o not in stated and (not wordy or (o == int(o) and int(o) in NUMBER_WORD))]
    m = NUMBER.match(value.text)
    out = [Value(value.kind, render_number(m, o, value.decimals) + value.text[m.end():], o, value.unit)
           for o in fresh]
    skipped = sorted(set(options) - set(fresh))
    return out, how + (f" (left out {', '.join(f'{s:g}' for s in skipped)}: stated in its passage or not writable "
                       "in words)" if skipped else "")


def _step(n: float, decimals: int) -> float:
    """The roundest step that divides ``n`` and keeps the new value near it: 30 → 5, 2.5 → 0.5, 7 → 1."""
    unit = 10 ** -decimals
    best = unit
    k = unit
    while k <= n * 0.2 + 1e-9:
        for f in (1, 2, 5):
            s = k * f
            if s <= n * 0.2 + 1e-9 and abs(round(n / s) * s - n) < 1e-9:
                best = max(best, s)
        k *= 10
    return round(best, decimals)


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


def draft_edit(q: Question, seed: Hit, material: Material, rng: random.Random, edit_id: str
               ) -> tuple[dict | None, str]:
    """One edit for question ``q``'s value at ``seed`` (the entry as the draft file writes it), or None and
    why not."""
    old = seed.value
    hits = _occurrences(material, old)
    mentions = [h for h in hits if _same_fact(material, h, seed)]
    if len(mentions) > MAX_MENTIONS:
        return None, f"stated alike in more than {MAX_MENTIONS} places (boilerplate, not one fact)"
    passages = list(dict.fromkeys(paragraph(material.text(h.source), h.start) for h in mentions))
    options, how = _candidates(old, material, passages)
    if not options:
        return None, f"no new {old.kind} that its passage does not already state"
    new = rng.choice(options)
    finds: dict[tuple[str, str], int] = {}
    for hit in mentions:
        found = _find(material, hit, mentions)
        if found is None:
            return None, "no find for a mention that is unique and keeps the questions' and pairs' offsets"
        finds[(hit.source, found[0])] = found[1]
    mention_rows = [{"find": f, "replace": substitute(f, old, new), "count": n,
                     **({"file": src} if len(material.documents) > 1 else {})} for (src, f), n in finds.items()]
    placed = [(src, p, p + len(f)) for (src, f) in finds for p in _all(material.text(src), f)]
    entry = {"id": edit_id, "status": PENDING, "reason": "", "fact": f"{q.question} ({old.text} → {new.text})",
             "old": said(old), "new": said(new), "mentions": mention_rows,
             "questions": _new_gold(material, placed, old, new, mention_rows),
             "pairs": _pairs(material, mentions, old, new),
             "derived": _derived(material, old, mentions)}
    others = len(hits) - len(mentions)
    entry["reason"] = (f"{how}: drew {new.text} for {old.text} in {q.id}'s evidence; {len(mentions)} mention(s)"
                       + (f"; {others} other statement(s) of {old.text!r} left as they are (not the same fact)"
                          if others else "")
                       + (f"; {len(entry['derived'])} derived value(s) to check" if entry["derived"] else ""))
    return {k: v for k, v in entry.items() if v != [] or k in ("questions",)}, ""


def _new_gold(material: Material, placed, old: Value, new: Value, mentions: Sequence[dict]) -> list[dict]:
    """The questions whose evidence a mention touches: new evidence (its mentions replaced, no other statement
    of the value), and a new answer where it states the value."""
    out = []
    for q in material.questions:
        spans = material.evidence.get(q.id, ())
        if not any(s.source == src and s.start < e and b < s.end for s in spans for src, b, e in placed):
            continue
        gold: dict = {"id": q.id}
        if states(" ".join([q.answer, *q.accept]), said(old)):
            gold["answer"] = substitute(q.answer, old, new)
            gold["accept"] = [substitute(a, old, new) for a in q.accept]
        gold["evidence"] = [_replaced(e, mentions) for e in q.evidence]
        out.append(gold)
    return out


def _replaced(evidence: str, mentions: Sequence[dict]) -> str:
    for m in mentions:  # a find never straddles an evidence span: it is inside one or outside it
        evidence = evidence.replace(m["find"], m["replace"])
    return evidence


def _pairs(material: Material, mentions: Sequence[Hit], old: Value, new: Value) -> list[dict]:
    """Training pairs whose answer states the old value and whose source passage holds a mention."""
    out = []
    for p in material.pairs or ():
        if not p.source or not states(p.answer, said(old)):
            continue
        span = resolve_source(material.documents, p.source)
        if not any(h.source == span.source and span.start <= h.start < span.end for h in mentions):
            continue
        row = {"question": p.question, "answer": substitute(p.answer, old, new)}
        if states(p.question, said(old)):
            row["reworded"] = substitute(p.question, old, new)
        out.append(row)
    return out


def _derived(material: Material, old: Value, mentions: Sequence[Hit]) -> list[str]:
    """Numbers that follow from the old one, left for a reviewer: the same unit at half, double or three
    times it in a mention's paragraph, or a number in a mention's sentence that totals or halves (a match
    of two halves)."""
    if old.number is None:
        return []
    mentioned = {(h.source, h.start) for h in mentions}
    out = []
    for doc in material.documents:
        for m, number, unit, _ in numbers_in(doc.text):
            if (doc.source, m.start()) in mentioned or number == old.number:
                continue
            said_in = sentence(doc.text, m.start())
            near = any(h.source == doc.source and paragraph(doc.text, h.start) == paragraph(doc.text, m.start())
                       for h in mentions)
            related = near and _stem(unit) == _stem(old.unit) and number in (old.number / 2, old.number * 2,
                                                                             old.number * 3)
            totals = DERIVED_WORDS.search(said_in) and any(h.source == doc.source and said_in in
                                                           sentence(doc.text, h.start) for h in mentions)
            if related or totals:
                why = {old.number / 2: "half", old.number * 2: "twice", old.number * 3: "three times"}.get(number)
                out.append(f"{doc.source}: {' '.join(said_in.split())[:160]!r} ({m.group(0)}"
                           f"{': ' + why + ' of it' if related and why else ': in the same totalling sentence'})")
    return list(dict.fromkeys(out))


# --- the draft ----------------------------------------------------------------------------------------------


def as_edit(entry: dict) -> Edit:
    return Edit(**{k: v for k, v in entry.items() if k not in REVIEW_ONLY})


def check(material: Material, edits: Sequence[Edit], path: Path) -> None:
    """HarnessError unless these edits, as one change set, apply to the suite as a run would apply them."""
    apply_changes(ChangeSet(path.stem, path, "", tuple(edits), {}), material.documents, material.questions,
                  material.evidence, material.pairs)


@dataclass
class Summary:
    asked: int
    seed: int
    drafted: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def line(self) -> str:
        plural = {"count": "counts", "quantity": "quantities", "colour": "colours", "term": "terms"}
        kinds = ", ".join(f"{n} {plural[k] if n > 1 else k}" for k, n in sorted(self.drafted.items()))
        why = "; ".join(f"{r}: {n}" for r, n in self.skipped.most_common())
        return (f"drafted {sum(self.drafted.values())} edits of {self.asked} asked ({kinds or 'none'}), seed "
                f"{self.seed}; skipped {sum(self.skipped.values())} questions" + (f" ({why})" if why else ""))


def draft_changes(material: Material, count: int, seed: int, path: Path) -> tuple[list[dict], Summary]:
    """Up to ``count`` edits, one question at a time in a seeded order, each checked with those before it."""
    rng = random.Random(seed)
    material.terms = material.terms or corpus_terms(material.documents)
    order = sorted(material.questions, key=lambda q: q.id)
    rng.shuffle(order)
    entries, summary = [], Summary(count, seed)
    for q in order:
        if len(entries) >= count:
            break
        seed_hit = question_value(q, material)
        if seed_hit is None:
            summary.skipped["no count, quantity, colour or defined term of its answer in its evidence"] += 1
            continue
        entry, why = draft_edit(q, seed_hit, material, rng, f"c{len(entries) + 1:02d}")
        if entry is None:
            summary.skipped[why] += 1
            continue
        try:
            check(material, [as_edit(e) for e in entries + [entry]], path)
        except HarnessError as err:
            summary.skipped[_failure(str(err))] += 1
            continue
        entries.append(entry)
        summary.drafted[seed_hit.value.kind] += 1
    return entries, summary


def _failure(message: str) -> str:
    """A failed check, grouped: the message without its file, edit and quoted specifics."""
    text = re.sub(r"^.*?edit c\d+: ", "", message)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\b[qd]?\d+\b", "…", text)
    return "fails its check: " + text[:90]


def header(material: Material, summary: Summary) -> str:
    docs = "; ".join(f"{d.source} ({len(d.text)} characters, sha256 {hashlib.sha256(d.text.encode()).hexdigest()[:12]})"
                     for d in material.documents)
    return (f"# Drafted by `harness changes` (no model): counterfactual edits, NOT read by a run until reviewed\n"
            f"# with `harness review --changes`, which writes the accepted ones to {FOLDER}/<name>.yaml.\n"
            f"# documents: {docs}\n# questions: {len(material.questions)}; training pairs: "
            f"{len(material.pairs or ())}\n# {summary.line()}\n")


def write_draft(root: Path, material: Material, count: int, seed: int) -> tuple[Path, Summary]:
    path = root / DRAFT
    if path.exists():
        raise HarnessError("a draft is already there: review it (`harness review --changes`) or remove it; "
                           "it is never overwritten", path=path)
    entries, summary = draft_changes(material, count, seed, path)
    if entries:
        write_atomic(path, header(material, summary) + dump({"edits": entries}))
    return path, summary


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


# --- review -------------------------------------------------------------------------------------------------


def load_draft(path: Path) -> tuple[str, list[dict]]:
    """The draft's header comment and its entries (every one: the reviewed keep their status)."""
    raw = load_yaml(path)
    edits = raw.get("edits") if isinstance(raw, dict) else None
    if not isinstance(edits, list) or not all(isinstance(e, dict) and e.get("status") for e in edits):
        raise HarnessError("expected edits:, each with a status (as `harness changes` writes them)", path=path)
    return _comments(path.read_text(encoding="utf-8")), [_plain(e) for e in edits]


def _comments(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def _plain(value):
    """Plain dicts, lists and strings from the line-numbered YAML, for writing back."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    for kind in (bool, int, float):  # the loader's line-numbered scalars, which a safe dump cannot write
        if isinstance(value, kind):
            return kind(value)
    return None if value is None else str(value)


def save_draft(path: Path, top: str, entries: list[dict]) -> None:
    write_atomic(path, top + dump({"edits": entries}))


def revalued(entry: dict, value: str) -> dict:
    """The entry with the reviewer's new value in place of the drafted one, in every field that says it."""
    drafted = entry["new"][0]
    m = NUMBER.match(drafted)
    if m and m.end() > 0:
        given = NUMBER.match(value.strip())
        if not given:
            raise HarnessError(f"{value!r} is not a number, and the drafted value {drafted!r} is")
        old = Value("count", drafted, _number(m))
        new = Value("count", value.strip(), _number(given))
    else:
        old, new = Value("term", drafted), Value("term", value.strip())

    def swap(x):
        if isinstance(x, dict):
            return {k: (v if k in ("id", "find", "count", "file", "status", "old", "question") else swap(v))
                    for k, v in x.items()}
        if isinstance(x, list):
            return [swap(v) for v in x]
        return substitute(x, old, new) if isinstance(x, str) else x

    out = swap(entry)
    out["reason"] = f"{entry.get('reason', '')}; the reviewer gave {value.strip()!r} instead of {drafted!r}"
    return out


def accept(target: Path, entry: dict, value: str | None, material: Material) -> str:
    """The edit (with the reviewer's value, if given) appended to the change set at ``target``, which must
    still apply as a whole; written atomically. Its id in that file is returned."""
    if value:
        entry = revalued(entry, value)
    data = _plain(load_yaml(target)) if target.is_file() else {"name": target.stem, "edits": []}
    taken = {e.get("id") for e in data["edits"]}
    edit_id, n = entry["id"], 1
    while edit_id in taken:
        edit_id, n = f"{entry['id']}-{n}", n + 1
    kept = as_edit({**entry, "id": edit_id}).model_dump(exclude_defaults=True, exclude_none=True)
    check(material, [Edit(**e) for e in data["edits"]] + [Edit(**kept)], target)
    data["edits"].append(kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, dump(data))
    return edit_id


def describe(entry: dict) -> list[str]:
    """What a reviewer needs to judge a drafted edit, line by line."""
    lines = [f"{entry['id']}: {entry.get('fact', '')}", f"  old → new: {entry['old']} → {entry['new']}"]
    lines += [f"  mention:  {m['find']!r} → {m['replace']!r} (×{m.get('count', 1)})" for m in entry["mentions"]]
    for q in entry.get("questions", []):
        lines.append(f"  question {q['id']}: " + (f"answer {q['answer']!r}" if q.get("answer") else "evidence only"))
    lines += [f"  pair:     {p['question']!r} → {p['answer']!r}" for p in entry.get("pairs", [])]
    lines += [f"  derived:  {d}" for d in entry.get("derived", [])]
    lines.append(f"  why:      {entry.get('reason', '')}")
    return lines
