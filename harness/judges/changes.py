"""What an answer to a changed question states: the new value, the old one, both, neither, or nothing.

Deterministic matching of the edit's old and new values first (on word boundaries), then the judge:
an answer the judge accepts under the new gold states the new value, and one it accepts under the
old gold states the old. An answer stating both is wrong (FreshQA's strict mode), and counted apart.
"""
from __future__ import annotations

from typing import Literal, Sequence

from harness.inputs.changes import states
from harness.inputs.config import Question

ChangeClass = Literal["NEW", "OLD", "BOTH", "OTHER", "EMPTY"]


def question_values(values: Sequence[str], gold: Question) -> list[str]:
    """The edit's values that this question's gold states: an edit also moves derived values (a total, a
    half), and "50 minutes" is the new match length, not the new half-time break. All of them where the
    gold states none."""
    said = [v for v in values if states(" ; ".join([gold.answer, *gold.accept]), [v])]
    return said or list(values)


def change_class(answer: str | None, right_now: bool | None, right_before: bool | None,
                 old: Sequence[str], new: Sequence[str]) -> ChangeClass:
    """``right_now``/``right_before``: the judge's verdict under the new and the old gold (None: unscored)."""
    if answer is None or not answer.strip():
        return "EMPTY"
    has_new = bool(right_now) or bool(states(answer, new))
    has_old = bool(right_before) or bool(states(answer, old))
    if has_new and has_old:
        return "BOTH"
    return "NEW" if has_new else "OLD" if has_old else "OTHER"
