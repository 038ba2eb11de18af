"""Answer correctness: one test per system × question, graded by the suite's judge.

A wrong answer here with its evidence retrieved (see test_retrieval.py) is the model's error;
with its evidence missed, it is retrieval's. An unscored verdict fails neither way: it is
counted apart. A system trained with several seeds is graded once per seed, and passes when
every seed's answer is right.
"""


def test_answer(answer_case, eval_run, record, check):
    system, question, _ = answer_case
    answer = eval_run.answer(answer_case)  # the first call answers the system's whole batch
    wrong = []
    for seed, one in answer.by_seed or ((None, answer),):
        verdict = eval_run.grade(answer_case, one)
        record(answer_case, answer=one, verdict=verdict, seed=seed)
        if verdict.correct is False:
            wrong.append((seed, one.text, verdict.explanation))
    if len(wrong) == 1 and wrong[0][0] is None:
        _, text, why = wrong[0]
        check(False, f"{system} answered {text!r}; gold {question.answer!r} ({why})")
    elif wrong:
        seeds = "; ".join(f"seed {seed}: {text!r} ({why})" for seed, text, why in wrong)
        check(False, f"{system} answered {seeds}; gold {question.answer!r}")
