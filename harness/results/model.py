"""The typed results of one run: ``RunReport``, whose serialization is results.json.

Built once from the per-question rows (:func:`harness.results.analysis.build_report`), with every
derived figure (intervals, gate rows, paired tests, seeds, reviews, attribution) in its
``analysis``. The scorecard, report.html, the terminal summary, the gate and ``harness report``
all read one RunReport; none of them computes a metric.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, model_serializer

from harness.core.errors import HarnessError

if TYPE_CHECKING:  # these modules read the model defined here
    from harness.results.gate import GateRow
    from harness.results.ppi import Corrected, ReviewedAgreement
    from harness.results.stats import Paired

SCHEMA_VERSION = 2  # 2: the RunReport redesign (version 1 files had no schema_version)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _without_none(handler, instance, optional: tuple[str, ...]) -> dict:
    """Optional keys appear only when set, as results.json has always written them."""
    data = handler(instance)
    return {k: v for k, v in data.items() if k not in optional or v is not None}


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

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("sampled", "seed", "debris"))


class RetrievalSummary(_Model):
    k: int
    recall: float | None
    mrr: float | None


class PriorGroup(_Model):
    n: int
    correct: int


class CorrectedSummary(_Model):
    value: float
    low: float | None
    high: float | None
    reviewed: int


class TemplateDebris(_Model):
    """A system whose answers often ran on into chat-template markers or a second question
    (harness/results/analysis.py decides how often): the model was likely prompted in a chat template
    it does not know."""

    answers: int  # answers that ran on
    of: int  # the system's answers
    found: dict[str, int]  # what they ran on into -> in how many answers, most first

    def line(self, system: str) -> str:
        """The warning, as every renderer shows it."""
        found = ", ".join(f"{what} in {n}" for what, n in self.found.items())
        return (f"{system}: {self.answers} of {self.of} answers ran on into chat-template debris ({found}); "
                "the model likely does not know its chat template (answers are cut at its markers). "
                "Fix: generation.prompt_style: completion, or a chat model")


class SystemSummary(_Model):
    n: int
    correct: int
    answer_accuracy: float
    unscored: int
    retrieval: RetrievalSummary | None
    seed_accuracy: list[float] | None = None
    by_prior: dict[Literal["known", "unknown"], PriorGroup] | None = None
    forgotten: list[str] | None = None
    corrected_accuracy: CorrectedSummary | None = None
    template_debris: TemplateDebris | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("seed_accuracy", "by_prior", "forgotten", "corrected_accuracy",
                                             "template_debris"))


class RunMeta(_Model):
    suite_dir: str
    generator: str
    judge: str
    judge_model: str | None
    self_grading: bool
    gate_enabled: bool
    skipped: dict[str, str]
    failed: dict[str, str]
    calibration: dict[str, Any] | None
    real_answers: dict[str, Any] | None = None  # the judge on hand-labelled answers of the systems
    training: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class SystemMetrics:
    """A system's figures with their intervals, as the renderers show them."""

    n: int  # answers the judge scored
    correct: int
    accuracy: float
    accuracy_ci: tuple[float, float] | None
    unscored: int
    answer_seconds: float  # generation time recorded when the answers were computed
    k: int | None = None  # retrieval depth; None for systems that do not retrieve
    retrieval_n: int = 0  # questions with evidence whose retrieval was checked
    recall: float | None = None
    recall_ci: tuple[float, float] | None = None
    mrr: float | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything derived from the rows, computed once (harness/results/analysis.py)."""

    metrics: dict[str, SystemMetrics]
    gate: list[GateRow]
    paired: list[Paired]
    first_seed: list[Row]  # one row per (system, question): a seeded system's first seed
    seeds: dict[str, dict]  # system -> {"per_seed", "mean", "sd", "against": {other: verdict}}
    corrected: dict[str, Corrected]  # PPI, for the systems with random-sample reviews
    reviewed: dict[str, ReviewedAgreement]  # the judge against human verdicts, per system; "" -> all together
    attribution: dict[str, dict[tuple[bool, bool], int]] = field(default_factory=dict)  # (hit, right) -> count


class ResultsFile(_Model):
    """results.json as written: the contract other tools read."""

    schema_version: int = SCHEMA_VERSION
    suite: str
    systems: dict[str, SystemSummary]
    results: list[Row]
    run: RunMeta


class RunReport(ResultsFile):
    _analysis: Analysis = PrivateAttr()

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    def with_analysis(self, analysis: Analysis) -> RunReport:
        self._analysis = analysis
        return self

    @property
    def warnings(self) -> list[str]:
        """One line per system whose answers ran on into chat-template debris."""
        return [s.template_debris.line(name) for name, s in self.systems.items() if s.template_debris]

    def to_json(self) -> str:
        """Strict JSON: a reader in any language can parse it."""
        return json.dumps(_finite(self.model_dump(mode="json")), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    """NaN and infinities have no JSON spelling: they become null (the "no value" of the contract)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def read_results_file(path: Path) -> ResultsFile:
    """A results.json written by the harness, or a one-line HarnessError saying why it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise ValueError(f"schema_version {data['schema_version']}, this harness reads {SCHEMA_VERSION}")
        return ResultsFile.model_validate(data)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, ValidationError):
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            err = f"{where}: {first['msg'].lower()}" if where else first["msg"].lower()
        raise HarnessError(f"not a harness results.json: {err}", path=path) from None
