"""``hybrid``: the matcher decides what it decides with certainty; the LLM judges the rest."""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from harness.inputs.config import JudgeConfig, Question
from harness.judges import JUDGES, JudgeContext, Verdict
from harness.judges.llm import LLMJudge
from harness.judges.match import MatchJudge


class HybridJudge:
    def __init__(self, config: JudgeConfig, ctx: JudgeContext):
        self.match = MatchJudge()
        self.llm = LLMJudge(config, ctx)

    @cached_property
    def identity(self) -> str:
        return f"hybrid/1({self.match.identity},{self.llm.identity})"

    @property
    def model(self) -> str:
        return self.llm.model

    def grade(self, question: Question, candidate: str) -> Verdict:
        verdict = self.match.grade(question, candidate)
        if verdict.certain:
            return verdict
        deferred = self.llm.grade(question, candidate)
        return replace(deferred, explanation=f"match unsure ({verdict.explanation}); {deferred.explanation}")


JUDGES.register("hybrid")(HybridJudge)
