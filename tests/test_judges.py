import pytest

from harness.core.errors import HarnessError
from harness.inputs.config import Question
from harness.judges import make_judge
from harness.judges.match import normalise

SIX = Question(id="q", question="How many players?", answer="Six", accept=["six players"])
METRES = Question(id="q", question="How far?", answer="7 metres")
PENALTY = Question(id="q", question="Result?", answer="A penalty to the defending team", accept=["penalty"])
METRE = Question(id="q", question="How far?", answer="About a metre", accept=["a metre"])
LIMIT = Question(id="q", question="How many?", answer="No limit", accept=["unlimited"])


@pytest.mark.parametrize("question, candidate, correct", [
    (SIX, "Six.", True),
    (SIX, "6", True),
    (SIX, "six (6) players", True),
    (SIX, "SIX PLAYERS!", True),
    (SIX, "Seven.", False),
    (SIX, "6 or 7", False),               # hedging between alternatives
    (SIX, "Not six.", False),             # negated
    (SIX, "14 in a squad, 6 on the field", False),  # names a number the gold does not
    (SIX, "", False),
    (METRES, "7m", True),
    (METRES, "seven meters", True),
    (METRES, "7 metres back from the mark", True),
    (METRES, "10 metres", False),
    (METRES, "7 or 10 metres", False),
    (PENALTY, "A penalty.", True),
    (PENALTY, "Penalty to the defending team", True),
    (PENALTY, "It is not a penalty", False),
    (PENALTY, "A scrum", False),
    (LIMIT, "There is no limit.", True),
    (LIMIT, "Unlimited, no restrictions", True),  # negation after the match does not flip it
    (LIMIT, "Five", False),
    (METRE, "a metre", True),
    (METRE, "1 m at most", True),
    (METRE, "10 metres", False),  # "a metre" must not shrink to a bare unit that 10 m contains
])
def test_match_judge(question, candidate, correct):
    verdict = make_judge("match").grade(question, candidate)
    assert verdict.correct is correct, verdict.explanation


def test_normalise_numbers_and_units():
    assert normalise("Twenty-five metres, 5-minute break") == ["25", "m", "5", "min", "break"]
    assert normalise("About a metre, an hour") == ["about", "1", "m", "hour"]  # "a metre" is one metre


def test_unknown_judge_suggests():
    with pytest.raises(HarnessError, match=r"unknown judge 'mach' \(did you mean 'match'\?\)"):
        make_judge("mach")
