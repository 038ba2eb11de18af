"""``llm``: a rubric prompt to any generator backend, greedy, with a robust verdict parser.

A reply that won't parse is retried once with a stricter prompt. If the retry won't parse
either, the verdict is unscored, never "wrong". Verdicts are cached on disk.
"""
from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Sequence

from harness.core.cache import cache_key
from harness.inputs.config import JudgeConfig, Question
from harness.judges import JUDGES, JudgeContext, Verdict

RUBRIC_VERSION = 1
RUBRIC = (
    "You check answers to quiz questions against a gold answer. The candidate is correct when it "
    "states the same fact as the gold answer, in any wording, unit or number format. It is incorrect "
    "when it states a different fact, offers several alternatives, adds a claim that is false, or "
    "does not answer. Reply with one line of JSON: {\"verdict\": \"correct\"} or {\"verdict\": \"incorrect\"}."
)
STRICT = "Reply with exactly one word: correct or incorrect."
EXAMPLES = (
    ("How many legs does a spider have?", "Eight", ["8"], "8 legs.", "correct"),
    ("How many legs does a spider have?", "Eight", ["8"], "Six or eight.", "incorrect"),
    ("At what temperature does water boil at sea level?", "100 °C", [], "One hundred degrees Celsius.", "correct"),
    ("At what temperature does water boil at sea level?", "100 °C", [], "90 degrees.", "incorrect"),
)


def case_text(question: str, gold: str, accept: list[str], candidate: str) -> str:
    also = f" (also accepted: {'; '.join(accept)})" if accept else ""
    return f"Question: {question}\nGold answer: {gold}{also}\nCandidate answer: {candidate}\nVerdict:"


def prompt(question: Question, candidate: str, strict: bool) -> str:
    shots = [case_text(q, g, a, c) + f' {{"verdict": "{v}"}}' for q, g, a, c, v in EXAMPLES]
    case = case_text(question.question, question.answer, question.accept, candidate)
    if strict:
        case = case.replace("\nVerdict:", f"\n{STRICT}\nVerdict:")
    return "\n\n".join([RUBRIC, *shots, case])


_WORDS = {"correct": True, "right": True, "yes": True, "true": True,
          "incorrect": False, "wrong": False, "no": False, "false": False}


def parse_verdict(reply: str) -> bool | None:
    """A JSON verdict, or else exactly one kind of verdict word; None when neither is clear."""
    for blob in re.findall(r"\{[^{}]*\}", reply):
        try:
            value = json.loads(blob)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            verdict = value.get("verdict", value.get("correct"))
            if isinstance(verdict, bool):
                return verdict
            if isinstance(verdict, str) and verdict.strip().lower() in _WORDS:
                return _WORDS[verdict.strip().lower()]
    found = {_WORDS[w] for w in re.findall(r"[a-z]+", reply.lower()) if w in _WORDS}
    return found.pop() if len(found) == 1 else None


class LLMJudge:
    def __init__(self, config: JudgeConfig, ctx: JudgeContext):
        self.config = config
        self.ctx = ctx
        self.spec = config.model or ctx.generator_spec

    @cached_property
    def generator(self):
        return self.ctx.generator_for(self.spec)

    @cached_property
    def model(self) -> str:
        return self.generator.identity

    @cached_property
    def identity(self) -> str:
        return f"llm/{RUBRIC_VERSION}:{self.model}:max_new_tokens={self.config.max_new_tokens}"

    def _ask(self, text: str) -> str:
        return self.generator.complete([text], max_new_tokens=self.config.max_new_tokens)[0]

    def prefetch(self, answers: Sequence[tuple[Question, str]]) -> None:
        """Grade a system's answers with requests in flight together when the judge is a server (the
        verdicts are cached, and grade() reads them); a local model grades one at a time anyway."""
        workers = getattr(self.generator, "max_concurrency", 1)
        if workers > 1 and len(answers) > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda pair: self.grade(*pair), answers))

    def grade(self, question: Question, candidate: str) -> Verdict:
        key = cache_key("verdict", self.identity, question.question, question.answer, question.accept, candidate)
        cached = self.ctx.cache.get("verdict", key)
        if cached is not None:
            return Verdict(**cached)
        raw = self._ask(prompt(question, candidate, strict=False))
        correct = parse_verdict(raw)
        if correct is None:
            retry = self._ask(prompt(question, candidate, strict=True))
            raw, correct = f"{raw} || retry: {retry}", parse_verdict(retry)
        explanation = ("unscored: reply did not parse after one retry" if correct is None
                       else f"llm says {'correct' if correct else 'incorrect'}")
        verdict = Verdict(correct, explanation, raw)
        self.ctx.cache.put("verdict", key, verdict.__dict__)
        return verdict


JUDGES.register("llm")(LLMJudge)
