"""``match``: a deterministic judge.

It: it normalises case, punctuation, articles, number words and units,
then looks for the gold answer or an accepted form inside the candidate. A candidate that hedges
between alternatives ("6 or 7"), negates the match ("not a penalty"), or names a number the gold
does not is wrong.
"""
from __future__ import annotations

import re

from harness.inputs.config import Question

_UNITS = {"m": "m", "metre": "m", "metres": "m", "meter": "m", "meters": "m",
          "min": "min", "mins": "min", "minute": "min", "minutes": "min"}
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90, "hundred": 100}
_ONE_UNIT = re.compile(r"\ban? (" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b")
_NUMBERS = {**{w: i for i, w in enumerate(_SMALL)}, **_TENS}
_DROP = {"a", "an", "the"}
_NEGATIONS = {"not", "no", "never", "cannot", "nt", "without"}


def normalise(text: str) -> list[str]:
    """Lower-case word tokens with number words as digits and unit words as symbols."""
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text.lower())  # "7m" -> "7 m"
    text = _ONE_UNIT.sub(r"1 \1", text)  # "a metre" -> "1 metre", not a bare unit
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


class MatchJudge:
    identity = "match/2"
    model = None

    def __init__(self, config=None, ctx=None):
        pass

    def grade(self, question: Question, candidate: str) -> Verdict:
        cand = normalise(candidate)
        if not cand:
            return Verdict(False, "empty answer")
        if set(cand) & _HEDGES:
            return Verdict(False, f"hedges ({', '.join(sorted(set(cand) & _HEDGES))})")
        forms = [normalise(f) for f in (question.answer, *question.accept)]
        allowed_numbers = set().union(*(_numbers(f) for f in forms))
        extra_numbers = _numbers(cand) - allowed_numbers
        for form in sorted(forms, key=len, reverse=True):  # the longest match explains the most
            at = _find(form, cand) if form else -1
            if at < 0:
                continue
            shown = " ".join(form)
            if set(cand[max(0, at - 2):at]) & _NEGATIONS and not set(form) & _NEGATIONS:
                return Verdict(False, f"negates {shown!r}")
            if "or" in cand and "or" not in form:
                return Verdict(False, f"hedges between alternatives around {shown!r}")
            if extra_numbers:
                # Decisive when the gold is a number; otherwise the number may be a true detail.
                return Verdict(False, f"matches {shown!r} but also names {', '.join(sorted(extra_numbers))}",
                               certain=bool(_numbers(form)))
            rest = len(cand) - len(form)
            return Verdict(True, f"matches {shown!r}", certain=rest <= _TIGHT)
        return Verdict(False, "no accepted form found", certain=False)


_HEDGES = {"maybe", "perhaps", "possibly", "probably", "either", "unsure"}
_TIGHT = 4  # extra words a match may carry and still be decisive; past that, hybrid asks the LLM


from harness.judges import JUDGES, Verdict  # noqa: E402

JUDGES.register("match")(MatchJudge)
