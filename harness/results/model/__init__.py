"""The typed results of one run: ``RunReport``, whose serialization is results.json.

Like Inspect AI's EvalLog, the file stands alone: the spec (each question with its gold answer,
accepted forms and evidence; each system's resolved settings; the corpus hash; the generator and
judge; package versions and the git revision), the run block (what the tests recorded), every
answer, and the analysis computed from them once (harness/results/analysis.py). The scorecard,
report.html, the terminal summary, the gate, ``harness report`` and ``harness compare`` all read
one RunReport; none of them computes a figure. Older files migrate on read (migrate.py).
"""
from __future__ import annotations

import json

from pydantic import model_serializer

from harness.results.model.analysis import (AnswerBias, Attribution, Corrected, CorrectedVerdict, Cost, GateRow,
                                            Margin, Paired, Power, PriorGroup, RetrievalResult, ReviewedAgreement,
                                            SeedResult, SystemResult, TemplateDebris, Verdict)
from harness.results.model.base import (FAMILY_NAMES, SCHEMA_VERSION, Family, Interval, _finite, _Model,
                                        _without_none)
from harness.results.model.changes import AfterChange, ChangeStudy, ConditionResult, Conflict
from harness.results.model.comparison import Comparison, ConditionChange, Flip, SystemChange
from harness.results.model.rows import (AgreementSummary, JudgeOpinion, RealAnswersSummary, Retrieved, Row, RunMeta,
                                        SystemCost, TrainingLog, first_seed)
from harness.results.model.spec import (ChangedFact, ChangeSpec, CorpusInfo, Environment, EvalSpec, JudgeLimits,
                                        SystemInfo)

__all__ = ["AfterChange", "AgreementSummary", "Analysis", "AnswerBias", "Attribution", "ChangeSpec", "ChangeStudy",
           "ChangedFact", "Comparison", "ConditionChange", "ConditionResult", "Conflict", "Corrected",
           "CorrectedVerdict", "CorpusInfo", "Cost", "Environment", "EvalSpec", "FAMILY_NAMES", "Family", "Flip",
           "GateRow", "Interval", "JudgeLimits", "JudgeOpinion", "Margin", "Paired", "Power", "PriorGroup",
           "RealAnswersSummary", "Retrieved", "RetrievalResult", "ReviewedAgreement", "Row", "RunMeta", "RunReport",
           "SCHEMA_VERSION", "SeedResult", "SystemChange", "SystemCost", "SystemInfo", "SystemResult",
           "TemplateDebris", "TrainingLog", "Verdict", "first_seed"]


class Analysis(_Model):
    systems: dict[str, SystemResult]  # in the suite's order
    verdict: Verdict
    gate: list[GateRow]
    paired: list[Paired]
    seeds: dict[str, SeedResult]
    reviewed: dict[str, ReviewedAgreement]  # the judge against human verdicts, per system; "" -> all together
    attribution: dict[str, Attribution]
    answer_bias: AnswerBias
    judge_status: str  # where the judge stands on this suite's answers
    warnings: list[str]
    comparison: Comparison | None = None  # against an earlier run (--compare-to)
    changes: ChangeStudy | None = None  # the change study, when the suite has a change set

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("comparison", "changes"))


class RunReport(_Model):
    """results.json: everything one run produced, and everything its renderers need."""

    schema_version: int = SCHEMA_VERSION
    spec: EvalSpec
    run: RunMeta
    results: list[Row]  # the ordinary run's
    analysis: Analysis
    changes: list[Row] = []  # the change study's answers (each with its condition)
    migrated_from: int | None = None  # the schema_version of the file this was read from, when older

    @model_serializer(mode="wrap")
    def _serialize(self, handler):
        return _without_none(handler, self, ("migrated_from",))

    @property
    def suite(self) -> str:
        return self.spec.suite

    @property
    def first_seed(self) -> list[Row]:
        """One row per (system, question): a system trained with several seeds keeps its first seed's."""
        return first_seed(self.results)

    @property
    def first_changes(self) -> list[Row]:
        """The change study's rows, one per (system, question, condition), first seed."""
        return first_seed(self.changes)

    def to_json(self) -> str:
        """Strict JSON: a reader in any language can parse it."""
        return json.dumps(_finite(self.model_dump(mode="json")), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
