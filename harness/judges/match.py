"""``match``: a deterministic judge.

It normalises case, punctuation, articles, number words and units, then looks for the gold answer
(or one part of a gold in parts, "Yes; rollball at the mark") or an accepted form inside the
candidate: word for word, or else with the form's words in any order and inflection ("the team that
scored the first try" for "first team to score"). A form with a number may leave out the words the
question already says ("A 4." for "Size 4"). A candidate that hedges between alternatives ("6 or 7"),
negates the match ("not a penalty"), names a number the gold does not ("one" before a word is a
pronoun, not a number), or adds claims that neither the question, its gold nor its evidence make is
wrong; so is a bare "no" whose reason neither negates nor takes away ("No, they are still playing"),
or a bare "yes" whose reason opens with a negation.

Each rule is measured on four label sets, each split by question id into a half the rules may be
tuned on and a half that only checks them (benchmarks/judge_agreement.py).
"""
from __future__ import annotations

import re
from typing import NamedTuple

import Stemmer

from harness.inputs.config import Question

_UNITS = {"m": "m", "metre": "m", "metres": "m", "meter": "m", "meters": "m",
          "min": "min", "mins": "min", "minute": "min", "minutes": "min"}
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90, "hundred": 100}
_ONE_UNIT = re.compile(r"\ban? (" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b")
# "one" before a word that is no unit is a pronoun or an article ("one short", "from one line to the
# other"), not a number named; "touch one" at a clause's end is a number.
_PRONOUN_ONE = re.compile(r"\bone\b(?=\s+[a-z])(?!\s+(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b)")
_NUMBERS = {**{w: i for i, w in enumerate(_SMALL)}, **_TENS}
_DROP = {"a", "an", "the"}
_NEGATIONS = {"not", "no", "never", "cannot", "nt", "without"}
_LESS = {"short", "down", "fewer", "less", "off", "out", "lose", "loses", "lost"}  # words that take away
_HEDGES = {"maybe", "perhaps", "possibly", "probably", "either", "unsure"}
# Words that make no claim of their own: left out when the judge compares what two texts say.
_FUNCTION = {"i", "you", "he", "she", "it", "its", "they", "them", "their", "his", "her", "we", "our", "this",
             "that", "these", "those", "which", "who", "whom", "whose", "what", "when", "where", "why", "how",
             "there", "here", "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do",
             "does", "did", "can", "could", "may", "might", "must", "shall", "should", "will", "would", "to", "of",
             "in", "on", "at", "by", "for", "with", "from", "into", "as", "than", "then", "so", "and", "but", "if",
             "s", "t"}  # what is left of "it's", "team's", "doesn't"
_TIGHT = 4  # extra words a match may carry and still be decisive; past that, hybrid asks the LLM
_UNSUPPORTED = 2  # claims beyond the question, gold and evidence that a match may carry before it is wrong
_STEM = Stemmer.Stemmer("english").stemWord


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


def _numbers(tokens: list[str]) -> set[str]:
    return {t for t in tokens if re.fullmatch(r"\d+(?:\.\d+)?", t)}


def _claims(tokens: list[str]) -> set[str]:
    """The stems of the words that say something: no function words, no numbers (checked apart)."""
    return {_STEM(t) for t in tokens if t not in _FUNCTION and not _numbers([t])}


def _forms(question: Question) -> list[list[str]]:
    """The gold, each part of a gold in parts (a two-part question's: one right part with nothing false
    about the other is right, as the accepted forms of such questions have it) and the accepted forms,
    normalised, longest first (the longest match explains the most).
    A form with a number also counts without the words the question already says: "A 4." answers
    "What size of ball?" (gold "Size 4")."""
    parts = question.answer.split(";") if ";" in question.answer else []  # "Yes; rollball at the mark"
    forms = [normalise(f) for f in (question.answer, *parts, *question.accept)]
    asked = set(normalise(question.question))
    for form in list(forms):
        short = [t for t in form if t not in asked]
        if short != form and _numbers(form) and _numbers(short) == _numbers(form):
            forms.append(short)
    return sorted((f for f in forms if f), key=len, reverse=True)


class Match(NamedTuple):
    form: list[str]
    start: int  # the span of the candidate's tokens that holds the form
    end: int
    exact: bool  # word for word; else in any order and inflection


def _exact(form: list[str], cand: list[str]) -> Match | None:
    for i in range(len(cand) - len(form) + 1):
        if cand[i:i + len(form)] == form:
            return Match(form, i, i + len(form), True)
    return None


def _loose(form: list[str], cand: list[str], asked: set[str]) -> Match | None:
    """The form's words in any order and inflection, within a window two words longer than the form.
    Not for forms with a number, an alternative or a negation (their exact words matter), nor for
    forms that only repeat the question's words ("counts" for "Does it count?")."""
    wanted = _claims(form)
    if not wanted or wanted <= asked or _numbers(form) or {"or", *_NEGATIONS} & set(form):
        return None
    stems = [_STEM(t) for t in cand]
    width = len(form) + 2
    for i in range(len(cand)):
        window = stems[i:i + width]
        if stems[i] in wanted and wanted <= set(window):
            end = i + max(window.index(w) for w in wanted) + 1
            return Match(form, i, end, False)
    return None


def _locate(forms: list[list[str]], cand: list[str], question: Question) -> Match | None:
    """The first form found word for word, else the first found loosely."""
    asked = _claims(normalise(question.question))
    for find in (lambda f: _exact(f, cand), lambda f: _loose(f, cand, asked)):
        for form in forms:
            if (found := find(form)) is not None:
                return found
    return None


class Reading(NamedTuple):
    """A candidate as the rules read it: its text, its tokens, the forms and where one was found."""
    question: Question
    text: str
    tokens: list[str]
    forms: list[list[str]]
    found: Match

    @property
    def shown(self) -> str:
        return repr(" ".join(self.found.form)) + ("" if self.found.exact else " in another order or inflection")

    @property
    def rest(self) -> list[str]:  # the tokens outside the form found
        return self.tokens[:self.found.start] + self.tokens[self.found.end:]


def negation(r: Reading) -> Verdict | None:
    """A negation just before or inside the match that the form itself does not have ("not a penalty")."""
    if set(r.tokens[max(0, r.found.start - 2):r.found.end]) & _NEGATIONS and not set(r.found.form) & _NEGATIONS:
        return Verdict(False, f"negates {r.shown}")
    return None


def alternatives(r: Reading) -> Verdict | None:
    """An "or" between alternatives ("6 or 7"); not one that the question's own texts say ("until the next
    touch or dead ball" where the rule reads so), nor one inside the form found."""
    cand, q = r.tokens, r.question
    if "or" not in cand or "or" in r.found.form:
        return None
    said = " " + " ".join(normalise(" ".join([q.question, q.answer, *q.accept, *q.evidence]))) + " "
    if any(" ".join(cand[max(0, i - 1):i + 2]) not in said for i, word in enumerate(cand) if word == "or"):
        return Verdict(False, f"hedges between alternatives around {r.shown}")
    return None


def other_numbers(r: Reading) -> Verdict | None:
    """A number no form names; "one" before a word is a pronoun, not a number."""
    named = _numbers(normalise(_PRONOUN_ONE.sub(" ", r.text.lower())))
    extra = named - set().union(*(_numbers(f) for f in r.forms))
    if extra:  # decisive when the gold is a number; otherwise the number may be a true detail
        return Verdict(False, f"matches {r.shown} but also names {', '.join(sorted(extra))}",
                       certain=bool(_numbers(r.found.form)))
    return None


def opposite_reason(r: Reading) -> Verdict | None:
    """A bare "no" whose reason neither negates nor takes away ("No, they are still playing" for a player
    who cannot be replaced; but "No, the team plays one short" agrees), or a bare "yes" whose reason opens
    with a negation ("Yes, it is not allowed"; a negation inside a condition, "yes, if it does not bounce",
    says nothing against it). A reason that claims only what the gold and its accepted forms say agrees
    ("No, it continues until the next touch" for "No, play continues until the next touch")."""
    form, reason = r.found.form, r.tokens[r.found.end:]
    if form not in (["yes"], ["no"]) or not reason:
        return None
    if _claims(reason) <= _claims(normalise(" ".join([r.question.answer, *r.question.accept]))):
        return None
    against = not set(reason) & (_NEGATIONS | _LESS) if form == ["no"] else bool(set(reason[:3]) & _NEGATIONS)
    if against:
        return Verdict(False, f"says {r.shown} but gives a reason that says the opposite", certain=False)
    return None


def added_claims(r: Reading) -> Verdict | None:
    """Claims beyond the question, its gold, accepted forms and evidence. Without evidence the judge
    cannot tell a true detail from a false one, so it asks nothing."""
    q = r.question
    if not q.evidence:
        return None
    said = normalise(" ".join([q.question, q.answer, *q.accept, *q.evidence]))
    unsupported = sorted(_claims(r.rest) - _claims(said))
    if len(unsupported) > _UNSUPPORTED:
        return Verdict(False, f"matches {r.shown} but adds what the question's evidence does not say "
                              f"({', '.join(unsupported)})", certain=False)
    return None


# Applied in order to a candidate that holds a form; the first verdict stands. Each is measured by
# leaving it out (benchmarks/judge_agreement.py --ablate).
RULES = (negation, alternatives, other_numbers, opposite_reason, added_claims)


class MatchJudge:
    identity = "match/5"
    model = None
    rules = RULES
    hedge_words = _HEDGES

    def __init__(self, config=None, ctx=None):
        pass

    def grade(self, question: Question, candidate: str) -> Verdict:
        cand = normalise(candidate)
        if not cand:
            return Verdict(False, "empty answer")
        if hedged := set(cand) & self.hedge_words:
            return Verdict(False, f"hedges ({', '.join(sorted(hedged))})")
        forms = _forms(question)
        found = _locate(forms, cand, question)
        if found is None:
            return Verdict(False, "no accepted form found", certain=False)
        reading = Reading(question, candidate, cand, forms, found)
        for rule in self.rules:
            if (verdict := rule(reading)) is not None:
                return verdict
        return Verdict(True, f"matches {reading.shown}", certain=found.exact and len(reading.rest) <= _TIGHT)


from harness.judges import JUDGES, Verdict  # noqa: E402

JUDGES.register("match")(MatchJudge)
