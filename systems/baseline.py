"""baseline: the generator alone, no context. What the model knows without help."""
from __future__ import annotations

from typing import Sequence

from harness.inputs.config import Question, Strict
from systems import system_kind
from systems.base import Answer, Context


class BaselineOptions(Strict):
    pass


class Baseline:
    def __init__(self, name: str, answerer):
        self.name = name
        self.answerer = answerer

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        generated = self.answerer.answer([q.question for q in questions])
        return [Answer.of(g) for g in generated]


@system_kind("baseline", options=BaselineOptions)
def build(name: str, options: BaselineOptions, ctx: Context) -> Baseline:
    ctx.generator.check_available()
    return Baseline(name, ctx.answerer)
