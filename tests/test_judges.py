import pytest

from harness.core.errors import HarnessError
from harness.inputs.config import Question
from harness.judges import make_judge
from harness.judges.match import normalise
from harness.suite import load_suite

SIX = Question(id="q", question="How many players?", answer="Six", accept=["six players"])
METRES = Question(id="q", question="How far?", answer="7 metres")
PENALTY = Question(id="q", question="Result?", answer="A penalty to the defending team", accept=["penalty"])
METRE = Question(id="q", question="How far?", answer="About a metre", accept=["a metre"])
LIMIT = Question(id="q", question="How many?", answer="No limit", accept=["unlimited"])
FIRST = Question(id="q", question="Which team wins a drop-off?", answer="The first team to score")
SIZE = Question(id="q", question="What size of ball is used?", answer="Size 4")
REPLACED = Question(id="q", question="Can a dismissed player be replaced?", answer="No",
                    evidence=["There is no replacement for a dismissed player"])
SQUAD = Question(id="q", question="How many players from each team may be on the field?", answer="Six",
                 evidence=["no more than six (6) players from one team may be on the field at once"])


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
    (FIRST, "The team that scored the first try.", True),  # the form's words in other order and inflection
    (FIRST, "The team that scores first.", True),
    (FIRST, "The first team not to score.", False),
    (FIRST, "The team with the most points.", False),
    (SIZE, "A 4.", True),  # the question already says "size"
    (SIZE, "A 5.", False),
    (REPLACED, "No.", True),
    (REPLACED, "No, never.", True),
    (REPLACED, "No, they are still playing.", False),  # a right "No" with a reason that says the opposite
    (REPLACED, "Yes.", False),
    (SQUAD, "Six players on the field at once.", True),  # what the evidence says
    (SQUAD, "Six, after which the defending team restarts with a tap.", False),  # claims the evidence does not make
    (SIX, "Six, after which the defending team restarts with a tap.", True),  # without evidence nothing to check
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


def test_real_answers_give_each_system_its_gap(tiny_suite, tmp_path):
    from harness.judges.calibration import grade_candidates, load_real_answers, system_gaps

    (tmp_path / "real.yaml").write_text(
        '- {q: t1, answer: "Nine.", label: true, systems: [a, b]}\n'
        '- {q: t2, answer: "Thirty minutes, then extra time.", label: false, systems: [a], note: "no extra time"}\n'
        '- {q: t2, answer: "Half an hour", label: true, systems: [b]}\n')
    suite = load_suite(tiny_suite)
    answers = load_real_answers(tmp_path / "real.yaml", suite.questions, {"a", "b"})
    verdicts, agreement = grade_candidates(make_judge("match"), suite.questions, answers)
    assert (agreement.agree, agreement.n) == (1, 3)  # a false addition judged right; a paraphrase judged wrong
    gaps = system_gaps(answers, verdicts)
    assert [(name, g.n, g.labelled, g.judged) for name, g in gaps.items()] == [("a", 2, 1, 2), ("b", 2, 2, 1)]
    assert gaps["a"].points == 50.0 and gaps["b"].points == -50.0


@pytest.mark.parametrize("text, message", [
    ('- {q: t1, answer: "9", label: true, systems: [baseline]}\n- {q: t1, answer: " 9 ", label: false, systems: []}\n',
     r"judge_real_answers\.yaml:2: question t1: duplicate entry \(first on line 1\)"),
    ('- {q: t1, answer: "9", label: true, systems: [basline]}\n',
     r"judge_real_answers\.yaml:1: question t1: unknown system 'basline' \(did you mean 'baseline'\?\)"),
    ('- {q: t1, answer: "9", label: yes, systems: [baseline]}\n',
     r"judge_real_answers\.yaml:1: question t1: label must be true or false, not 'yes'"),
    ('- {q: t1, answer: "9", label: true}\n', r"judge_real_answers\.yaml:1: question t1: missing field 'systems'"),
])
def test_bad_real_answers_file_stops_the_suite_in_one_line(tiny_suite, text, message):
    (tiny_suite / "judge_real_answers.yaml").write_text(text)
    with pytest.raises(HarnessError, match=message):
        load_suite(tiny_suite)


def test_judge_limits_gate_from_below_and_the_gap_from_above():
    from harness.results.gate import JudgeCheck, evaluate_gate

    limits = {"agreement": 0.9, "max_gap": 0.03}
    rows = evaluate_gate({}, {}, {}, (JudgeCheck("judge (real answers)", limits, {"agreement": 0.95, "max_gap": 0.05}),
                                      JudgeCheck("judge", {"kappa": 0.5}, None)))
    assert [(r.system, r.metric, r.status) for r in rows] == [
        ("judge (real answers)", "agreement", "pass"), ("judge (real answers)", "max_gap", "FAIL"),
        ("judge", "kappa", "not selected")]
