"""Judges grade a candidate answer against the gold answer. One method: ``grade``.

``match`` is deterministic: it normalises case, punctuation, articles, number words and units,
then looks for the gold answer or an accepted form inside the candidate. A candidate that hedges
between alternatives ("6 or 7"), negates the match ("not a penalty"), or names a number the gold
does not is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from harness.config import Question
from harness.registry import Registry


@dataclass(frozen=True)
class Verdict:
    correct: bool | None  # None: the judge could not decide (unscored)
    explanation: str


class Judge(Protocol):
    name: str

    def grade(self, question: Question, candidate: str) -> Verdict: ...


JUDGES: Registry[type] = Registry("judge")

_UNITS = {"m": "m", "metre": "m", "metres": "m", "meter": "m", "meters": "m",
          "min": "min", "mins": "min", "minute": "min", "minutes": "min"}
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90, "hundred": 100}
_NUMBERS = {**{w: i for i, w in enumerate(_SMALL)}, **_TENS}
_DROP = {"a", "an", "the"}
_NEGATIONS = {"not", "no", "never", "cannot", "nt", "without"}


def normalise(text: str) -> list[str]:
    """Lower-case word tokens with number words as digits and unit words as symbols."""
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text.lower())  # "7m" -> "7 m"
    out: list[str] = []
    for word in re.findall(r"\d+(?:\.\d+)?|[a-z]+", text):
        if word in _DROP:
            continue
        word = str(_NUMBERS.get(word, word))
        word = _UNITS.get(word, word)
        if out and word.isdigit() and out[-1].isdigit():
            prev, cur = int(out[-1]), int(word)
            if prev == cur:  # "six (6)"
                continue
            if prev in _TENS.values() and prev < 100 and cur < 10:  # "twenty five"
                out[-1] = str(prev + cur)
                continue
        out.append(word)
    return out


def _find(needle: list[str], hay: list[str]) -> int:
    for i in range(len(hay) - len(needle) + 1):
        if hay[i:i + len(needle)] == needle:
            return i
    return -1


def _numbers(tokens: list[str]) -> set[str]:
    return {t for t in tokens if re.fullmatch(r"\d+(?:\.\d+)?", t)}


@JUDGES.register("match")
class MatchJudge:
    name = "match"

    def grade(self, question: Question, candidate: str) -> Verdict:
        cand = normalise(candidate)
        if not cand:
            return Verdict(False, "empty answer")
        forms = [normalise(f) for f in (question.answer, *question.accept)]
        allowed_numbers = set().union(*(_numbers(f) for f in forms))
        for form in forms:
            at = _find(form, cand) if form else -1
            if at < 0:
                continue
            shown = " ".join(form)
            if set(cand[max(0, at - 2):at]) & _NEGATIONS and not set(form) & _NEGATIONS:
                return Verdict(False, f"negates {shown!r}")
            if "or" in cand and "or" not in form:
                return Verdict(False, f"hedges between alternatives around {shown!r}")
            if _numbers(form) and _numbers(cand) - allowed_numbers:
                extra = ", ".join(sorted(_numbers(cand) - allowed_numbers))
                return Verdict(False, f"matches {shown!r} but also names {extra}")
            return Verdict(True, f"matches {shown!r}")
        return Verdict(False, "no accepted form found")


def make_judge(name: str) -> Judge:
    return JUDGES.get(name)()
