"""Judges grade a candidate answer against the gold answer. One method: ``grade``.

Built in: ``match`` (deterministic), ``llm`` (a rubric prompt to any generator backend) and
``hybrid`` (match where it is certain, the LLM elsewhere). Third-party judges register through
the ``harness.judges`` entry-point group: ``name = "package.module:factory"``, where
``factory(config, ctx)`` returns a Judge and ``ctx`` is a :class:`JudgeContext`.

Also here: human labels (``calibration``: the judge against them) and human reviews
(``reviews``: they overrule the judge). May import harness.core, inputs and models.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from harness.core.errors import HarnessError
from harness.core.registry import Registry
from harness.inputs.config import JudgeConfig, Question

ENTRY_POINT_GROUP = "harness.judges"


@dataclass(frozen=True)
class Verdict:
    correct: bool | None  # None: unscored (the judge could not decide); never counted as wrong
    explanation: str
    raw: str = ""  # the judge's raw output, for audits
    certain: bool = True  # match: whether the rule was decisive (hybrid defers when it is not)
    source: str = "judge"  # "human": a review in reviews.yaml decided (harness/judges/reviews.py)
    judge: Verdict | None = None  # with a human verdict: the judge's, kept only to measure the judge
    sampled: bool = False  # a human verdict from a random sample drawn for this system: it enters corrected accuracy


class Judge(Protocol):
    identity: str  # everything that changes verdicts; part of cache keys
    model: str | None  # the model behind the judge, to detect self-grading

    def grade(self, question: Question, candidate: str) -> Verdict: ...


@runtime_checkable
class Prefetching(Protocol):
    """A judge that may grade a batch at once (requests in flight together); grade() then reads its cache."""

    def prefetch(self, answers: Sequence[tuple[Question, str]]) -> None: ...


class JudgeContext(Protocol):
    """What a judge may use from the run: the cache, and a generator by spec (shared with the systems)."""

    cache: Any  # harness.core.cache.DiskCache
    generator_spec: str  # the suite's generator, the default for a judge that names no model

    def generator_for(self, spec: str) -> Any: ...  # a harness.models Generator


# name -> factory(config: JudgeConfig, ctx: JudgeContext) -> Judge
JUDGES: Registry[Callable[[JudgeConfig, JudgeContext], Judge]] = Registry("judge")


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in JUDGES:
            continue
        try:
            JUDGES.register(ep.name)(ep.load())
        except Exception as err:
            raise HarnessError(f"judge plugin entry point {ep.name!r} ({ep.value}) failed to load: "
                               f"{type(err).__name__}: {err}") from None


def make_judge(config: JudgeConfig | str, ctx: JudgeContext | None = None) -> Judge:
    config = JudgeConfig(name=config) if isinstance(config, str) else config
    if config.name not in JUDGES:
        _load_entry_points()
    return JUDGES.get(config.name)(config, ctx)


from harness.judges import hybrid, llm, match  # noqa: E402,F401  (register the built-ins)
