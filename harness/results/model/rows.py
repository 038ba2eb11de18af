"""What the tests recorded: one row per answer, and the run block (skips, crashes, training, costs)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from harness.results.model.base import _Model, _without_none


class Retrieved(_Model):
    source: str
    text: str
    score: float


class JudgeOpinion(_Model):
    """The judge's verdict on an answer a human review overruled; kept to measure the judge."""

    correct: bool | None
    explanation: str


class Row(_Model):
    """One system's answer to one question (one per seed for systems trained with several)."""

    system: str
    id: str
    answer: str | None
    correct: bool | None
    evidence_rank: int | None
    retrieved: list[Retrieved]
    explanation: str | None
    seconds: float | None
    verdict_source: str | None
    certain: bool | None
    judge: JudgeOpinion | None
    sampled: bool | None = None  # true: the human verdict is a random-sample review drawn for this system
    seed: int | None = None
    debris: str | None = None  # what the raw reply ran on into (a template marker, cut there; a second question)
    prompt_tokens: int | None = None  # the prompt's length in the generator's tokens, when it was counted
    condition: Literal["stale", "refreshed", "control"] | None = None  # the change study's (harness.run.CONDITIONS)
    change_class: Literal["NEW", "OLD", "BOTH", "OTHER", "EMPTY"] | None = None  # a changed question's answer

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("sampled", "seed", "debris", "prompt_tokens", "condition",
                                             "change_class"))


class AgreementSummary(_Model):
    """The judge against one set of human labels."""

    n: int
    agree: int
    agreement: float
    kappa: float | None
    unscored: int
    tp: int  # judge said correct, human too
    fp: int
    fn: int
    tn: int


class RealAnswersSummary(AgreementSummary):
    """The same on answers the systems really gave, with each system's judged minus labelled accuracy."""

    gaps: dict[str, float]
    max_gap: float


class TrainingLog(BaseModel):
    """A LoRA adapter's training log, as the trainer writes it (fields it adds later are kept)."""

    model_config = ConfigDict(extra="allow")

    train: list[tuple[float, float]]  # (step, loss)
    eval: list[tuple[float, float]]
    seconds: float
    examples: int
    examples_per_second: float
    settings: dict[str, Any]
    adapter: str | None = None
    seed: int | None = None
    seeds: list[TrainingLog] | None = None  # one log per seed, for systems trained with several

    def runs(self) -> list[TrainingLog]:
        return self.seeds or [self]

    def on_epochs(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """(step, loss) points on an axis of epochs, so that runs of other batch or data sizes line up."""
        per_epoch = getattr(self, "steps_per_epoch", None) or -(-self.examples // self.settings["batch_size"])
        return [(step / per_epoch, loss) for step, loss in points]


class SystemCost(_Model):
    """What the run measured about a system's cost, beyond its answers' seconds."""

    index_seconds: float | None = None  # chunking and indexing the corpus, the first time it was built
    peak_rss_mb: float | None = None  # the process's peak resident memory while it built and answered
    reindex_seconds: float | None = None  # indexing the corpus after the change (the change study)


class RunMeta(_Model):
    gate_enabled: bool
    skipped: dict[str, str]
    failed: dict[str, str]
    calibration: AgreementSummary | None
    real_answers: RealAnswersSummary | None = None
    training: dict[str, TrainingLog]
    refreshed: dict[str, TrainingLog] = {}  # the change study: each adapter's training after the change
    costs: dict[str, SystemCost] = {}
    stale_reviews: dict[str, str] = {}  # system -> why some of its random-sample reviews no longer count
    compared_to: str | None = None  # the results.json this run was compared with (--compare-to)


def first_seed(rows: list[Row]) -> list[Row]:
    first: dict[str, int] = {}
    for r in rows:
        if r.seed is not None:
            first.setdefault(r.system, r.seed)
    return [r for r in rows if (r.seed if r.seed is not None else first.get(r.system)) == first.get(r.system)]
