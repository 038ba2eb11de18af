"""What the run was: the spec, copied from the suite (its questions, systems, corpus, change set)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import model_serializer

from harness.inputs.config import Question
from harness.results.model.base import Family, _Model, _without_none


class SystemInfo(_Model):
    """A system as the run resolved it: its kind, family and every option (defaults filled in)."""

    name: str
    kind: str
    family: Family
    retrieves: bool
    settings: dict[str, Any]
    # option -> (the system's value, training.lora's): set by the kind's or built-in's preset over suite.yaml
    preset: dict[str, tuple[Any, Any]] | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("preset",))


class CorpusInfo(_Model):
    documents: int
    words: int
    hash: str


class JudgeLimits(_Model):
    """The gate's limits for the judge on one set of human labels (the suite's calibration or real answers)."""

    name: str  # the gate's "system" column: "judge" or "judge (real answers)"
    labels: Literal["calibration", "real_answers"]
    limits: dict[str, float]


class Environment(_Model):
    python: str
    platform: str
    cpu: str
    versions: dict[str, str]  # the packages that change answers
    git_revision: str | None  # of the project, "-dirty" when it had uncommitted changes
    generation: str | None = None  # how the generator computes, e.g. its dtype and why


class ChangedFact(_Model):
    """One edit of a change set: the fact, its old and new values, and what it moves."""

    id: str
    fact: str
    old: list[str]
    new: list[str]
    mentions: int  # places in the corpus it edits
    questions: list[str]  # question ids whose gold it moves
    pairs: int  # training pairs whose answers it moves
    derived: list[str]


class ChangeSpec(_Model):
    name: str
    description: str
    refresh: Literal["update", "full"]
    edits: list[ChangedFact]
    questions: list[Question]  # every question as it reads after the change (new gold where it moved)
    corpus: CorpusInfo  # after the change

    @property
    def changed(self) -> dict[str, str]:
        """Changed question id -> its edit."""
        return {qid: e.id for e in self.edits for qid in e.questions}


class EvalSpec(_Model):
    suite: str
    suite_dir: str
    corpus: CorpusInfo
    questions: list[Question]
    systems: list[SystemInfo]  # the run's systems in the suite's order
    example_answers: list[str]  # the worked examples' answers: a system that repeats them says nothing
    thresholds: dict[str, dict[str, float]]
    judge_checks: list[JudgeLimits]
    generator: str
    judge: str
    judge_model: str | None
    self_grading: bool
    environment: Environment
    change: ChangeSpec | None = None  # the suite's reviewed change set, when it has one

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("change",))

    def system(self, name: str) -> SystemInfo | None:
        return next((s for s in self.systems if s.name == name), None)
