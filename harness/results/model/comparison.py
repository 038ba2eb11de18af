"""Two runs compared (harness/results/compare.py)."""
from __future__ import annotations

from typing import Any, Literal

from harness.results.model.analysis import Paired
from harness.results.model.base import _Model


class Flip(_Model):
    id: str
    direction: Literal["right → wrong", "wrong → right"]
    old_answer: str | None
    new_answer: str | None


class SystemChange(_Model):
    system: str
    old: tuple[int, int]  # (right, scored) on the old run, all its questions
    new: tuple[int, int]
    paired: Paired  # new (a) against old (b), on the shared questions
    flips: list[Flip]
    settings: dict[str, tuple[Any, Any]]  # option -> (old, new)
    regression: str | None  # why it counts as a regression, else None

    @property
    def improved(self) -> bool:
        return self.paired.significant and self.paired.only_a > self.paired.only_b


class ConditionChange(_Model):
    """One system's answers to the changed questions in one condition of the change study, in two runs."""

    system: str
    condition: Literal["stale", "refreshed"]
    old: tuple[int, int]  # (right, scored)
    new: tuple[int, int]
    paired: Paired  # new (a) against old (b), on the shared changed questions


class Comparison(_Model):
    old: str  # a label for each run: its file, as given
    new: str
    suite: str
    shared: int  # questions in both runs
    added: list[str]
    removed: list[str]
    gold_changed: list[str]  # shared questions whose gold answer or accepted forms changed
    run_changes: dict[str, tuple[Any, Any]]  # generator, judge, corpus, versions, revision: (old, new)
    systems: list[SystemChange]
    only_old: list[str]  # systems in one run only
    only_new: list[str]
    after_change: list[ConditionChange] = []  # the change study, where both runs have one

    @property
    def regressions(self) -> list[SystemChange]:
        return [s for s in self.systems if s.regression]
