"""Per-question records gathered from test reports (this process's or xdist workers'), as result rows.

Each eval test attaches plain dicts to its report (they cross process boundaries); a system's
answer test and its retrieval test for one question merge into one :class:`Row`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.judges import Verdict
from harness.judges.reviews import Reviews
from harness.results.analysis import build_report
from harness.results.model import EvalSpec, Row, RunMeta, RunReport, SystemCost
from harness.results.ppi import current_samples


def verdict_fields(verdict: Verdict) -> dict[str, Any]:
    """A verdict as the fields of its result row."""
    fields: dict[str, Any] = {"correct": verdict.correct, "explanation": verdict.explanation,
                              "verdict_source": verdict.source, "certain": verdict.certain}
    if verdict.judge is not None:  # overruled by a human review; kept to measure the judge
        fields["judge"] = {"correct": verdict.judge.correct, "explanation": verdict.judge.explanation}
    if verdict.sampled:  # the review enters this system's corrected accuracy
        fields["sampled"] = True
    return fields


@dataclass
class Results:
    """What the eval tests recorded, merged per (system, question id, condition, seed)."""

    records: dict[tuple, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # system -> reason
    calibration: dict | None = None  # the judge's agreement with human labels, when measured
    real_answers: dict | None = None  # the same on answers the systems gave, with each system's gap
    training: dict[str, dict] = field(default_factory=dict)  # system -> its adapter's training log
    refreshed: dict[str, dict] = field(default_factory=dict)  # system -> its adapter's, brought up to date
    failed: dict[str, str] = field(default_factory=dict)  # system -> why a test of it crashed
    costs: dict[str, dict] = field(default_factory=dict)  # system -> what its process measured of its cost

    def add(self, entry: dict[str, Any]) -> None:
        if "cost" in entry:
            self.costs[entry["system"]] = entry["cost"]
        elif "training" in entry:
            (self.refreshed if entry.get("condition") else self.training)[entry["system"]] = entry["training"]
        elif "calibration" in entry:
            self.calibration = entry["calibration"]
        elif "real_answers" in entry:
            self.real_answers = entry["real_answers"]
        elif "skipped" in entry:
            self.skipped[entry["system"]] = entry["skipped"]
        else:
            key = (entry["system"], entry["id"], entry.get("condition"), entry.get("seed"))
            self.records.setdefault(key, {}).update(entry)

    def __bool__(self) -> bool:
        return bool(self.records or self.skipped or self.calibration or self.real_answers or self.failed)

    def _merged(self) -> dict[tuple, dict]:
        """Records per (system, id, condition, seed); a seedless record (a retrieval test's) folds into that
        question's seeds."""
        seeded = {key[:3] for key in self.records if key[3] is not None}
        return {key: {**self.records.get((*key[:3], None), {}), **r} for key, r in self.records.items()
                if key[3] is not None or key[:3] not in seeded}

    def rows(self) -> list[Row]:
        return [Row(system=r["system"], id=r["id"], answer=r.get("answer"), correct=r.get("correct"),
                    evidence_rank=r.get("evidence_rank"), retrieved=r.get("retrieved") or [],
                    explanation=r.get("explanation"), seconds=r.get("seconds"),
                    verdict_source=r.get("verdict_source"), certain=r.get("certain"), judge=r.get("judge"),
                    sampled=r.get("sampled"), seed=r.get("seed"), debris=r.get("debris"),
                    prompt_tokens=r.get("prompt_tokens"), condition=r.get("condition"),
                    change_class=r.get("change_class"))
                for r in self._merged().values()]

    def meta(self) -> dict[str, Any]:
        """The run block's fields that the tests recorded."""
        return dict(skipped=dict(self.skipped), failed=dict(self.failed), calibration=self.calibration,
                    real_answers=self.real_answers, training={name: self.training[name] for name in sorted(self.training)},
                    refreshed={name: self.refreshed[name] for name in sorted(self.refreshed)},
                    costs={name: SystemCost(**self.costs[name]) for name in sorted(self.costs)})


def assemble(spec: EvalSpec, rows: Sequence[Row], reviews: Reviews, **run: Any) -> RunReport:
    """The one path from recorded rows to a RunReport, the plugin's and the tests': random-sample reviews
    drawn from other answers than these unmarked (they still overrule the judge), the change study's rows
    apart, the run block (``run``: what the caller knows, such as the gate, and what the tests recorded)."""
    before, stale = current_samples([r for r in rows if r.condition is None], reviews)
    meta = RunMeta(**{"skipped": {}, "failed": {}, "calibration": None, "training": {}, **run}, stale_reviews=stale)
    return build_report(spec, before, meta, [r for r in rows if r.condition is not None])
