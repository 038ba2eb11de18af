"""What the change study computed (harness/results/changes.py): per system, what it answers after the
documents change and what keeping up costs."""
from __future__ import annotations

from typing import Literal

from harness.results.model.analysis import Paired
from harness.results.model.base import Family, Interval, _Model


class ConditionResult(_Model):
    """One system's answers to the changed questions in one condition."""

    n: int  # answers scored
    correct: int
    accuracy: float
    accuracy_ci: Interval | None
    classes: dict[str, int] = {}  # NEW, OLD, BOTH, OTHER, EMPTY -> answers (after the change only)


class Conflict(_Model):
    """A system that retrieves and was trained, asked after the change with its old adapter: of the
    answers whose retrieval brought the new evidence, how many said the old value (memory over passage)."""

    old: int
    of: int


class AfterChange(_Model):
    """What one system answers after the documents change, and what keeping up costs it."""

    family: Family
    before: ConditionResult  # the changed questions before the change, under their old gold
    stale: ConditionResult | None  # re-indexed, adapters as trained before
    refreshed: ConditionResult | None  # adapters brought up to date (systems that train)
    conflict: Conflict | None = None
    locality: Paired | None = None  # the unchanged questions: refreshed adapters (a) against before (b)
    reindex_seconds: float | None = None
    update_seconds: float | None = None  # training that brought its adapter up to date
    refresh: Literal["update", "full"] | None = None

    @property
    def staleness(self) -> float | None:
        """The share of stale answers that state the old value."""
        s = self.stale
        return None if s is None or not s.n else s.classes.get("OLD", 0) / s.n


class ChangeStudy(_Model):
    systems: dict[str, AfterChange]  # in the suite's order
    paired: list[Paired]  # after the change, each system's best condition against the others' (changed questions)
    lines: list[str]  # the verdict's "If the documents change" lines
