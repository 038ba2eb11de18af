"""Typed values as a passage says them (a count, a quantity with its unit, a colour, a defined term), and
a text with one value replaced by another in the same form."""
from __future__ import annotations

import re
from dataclasses import dataclass

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


def unit_stem(unit: str) -> str:
    u = unit.lower()
    return u[:-1] if len(u) > 2 and u.endswith("s") else u


def number_of(m: re.Match) -> float:
    return float(WORDS[m["word"].lower()]) if m["word"] else float(m["digits"])


def numbers_in(text: str) -> list[tuple[re.Match, float, str, int]]:
    """Each number a text states: its match, value, the word after it and where that word ends; a run of
    digits glued to letters that are not a unit ("4x4", "A1") is no number."""
    out = []
    for m in NUMBER.finditer(text):
        if m["digits"] and m.end() < len(text) and text[m.end()].isalpha():
            unit, _ = _unit_after(text, m.end())
            if unit_stem(unit) not in MEASURES:
                continue
        unit, unit_end = _unit_after(text, m.end())
        out.append((m, number_of(m), unit, unit_end))
    return out


def number_value(text: str, m: re.Match, number: float, unit: str, unit_end: int) -> Value:
    attached = text[m.end():unit_end] if unit_end > m.end() and not text[m.end()].isspace() else ""
    measure = unit_stem(unit) in MEASURES or (m["digits"] or "").count(".")
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
