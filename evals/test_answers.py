"""Answer correctness: one test per system × question, graded by the suite's judge.

A wrong answer here with its evidence retrieved (see test_retrieval.py) is the model's error;
with its evidence missed, it is retrieval's. An unscored verdict fails neither way: it is
counted apart.
"""


def test_answer(answer_case, eval_run, record, check):
    system, question = answer_case
    answer = eval_run.answer(answer_case)  # the first call answers the system's whole batch
    verdict = eval_run.grade(answer_case, answer)
    record(answer_case, answer=answer, verdict=verdict)
    if verdict.correct is not None:
        check(verdict.correct, f"{system} answered {answer.text!r}; gold {question.answer!r} ({verdict.explanation})")
