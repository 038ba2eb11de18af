"""Plausible new values of the same type as the old one, that the passages of its mentions do not state."""
from __future__ import annotations

import re
from typing import Sequence

from harness.inputs.changes import states
from harness.training.changes_draft.material import STOPWORDS, Material, head
from harness.training.changes_draft.values import COLOURS, NUMBER, NUMBER_WORD, Value, numbers_in, render_number

SHARED_SLOTS = 2  # places (two words before, the word after) two terms must share to be of one type


def new_values(value: Value, material: Material, passages: Sequence[str]) -> tuple[list[Value], str]:
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
