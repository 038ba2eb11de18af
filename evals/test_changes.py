"""When the documents change: one test per system × question × condition (harness.run.CONDITIONS).

Runs when the suite holds a reviewed change set (changes/<name>.yaml). Each system answers the changed
questions after the corpus is re-indexed with its adapters as they were (stale); systems that train
answer again with their adapters brought up to date (refreshed), and answer the unchanged questions too
(control). An answer to a changed question is classed NEW, OLD, BOTH, OTHER or EMPTY; BOTH is wrong.
"""
from dataclasses import replace


def test_after_change(change_case, eval_run, record, check):
    system, question, condition = change_case
    answer = eval_run.answer(change_case)  # the first call answers the system's whole batch
    changed = question.id in eval_run.suite.change.changed
    wrong = []
    for seed, one in answer.by_seed or ((None, answer),):
        verdict = eval_run.grade(change_case, one)
        kind = eval_run.change_class(change_case, one, verdict) if changed else None
        if kind == "BOTH" and verdict.correct:  # FreshQA's strict mode: the old value said too is wrong
            verdict = replace(verdict, correct=False, explanation=f"states the old value too ({verdict.explanation})")
        record(change_case, answer=one, verdict=verdict, seed=seed, change_class=kind)
        if verdict.correct is False:
            wrong.append(f"{one.text!r}" + (f" ({kind})" if kind else "") + (f", seed {seed}" if seed is not None else ""))
    check(not wrong, f"{system} after the change ({condition}) answered {'; '.join(wrong)}; gold {question.answer!r}")
