"""A study's result: one typed model, computed once when the study ends, stored whole (study.json) and
rendered many ways (study.md, study.html, the charts; `harness report --study` renders it again alone)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.core.cache import write_atomic
from harness.core.errors import HarnessError

STUDY_SCHEMA = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CellResult(_Model):
    id: str
    label: str  # the values the grid set ("suite settings": the system's own)
    coordinates: dict[str, Any]  # every grid dimension's value in this cell (None: not set, as "all pairs")
    seed: int
    adapter: str  # the adapter's key (16 characters; "@N": saved after N epochs of a longer run)
    checkpoint_of: str | None = None  # the run's adapter when this cell is a checkpoint of a longer run
    pairs: int  # training examples
    outcomes: dict[str, bool | None]  # question id -> judged correct (None: no verdict)
    correct: int
    n: int
    accuracy: float
    interval: tuple[float, float] | None
    train_loss: float | None  # the last logged, at this cell's epochs
    eval_loss: float | None
    curve_train: list[tuple[float, float]]  # (epoch, loss)
    curve_eval: list[tuple[float, float]]
    train_seconds: float  # the run's training time up to this cell's epochs
    trained_now: bool  # False: its run came from the cache, or another cell trained it
    peak_rss_mb: float | None = None


class Point(_Model):
    value: Any
    cell: str
    accuracy: float
    interval: tuple[float, float] | None
    eval_loss: float | None


class Series(_Model):
    """Accuracy against one dimension, the others held (``held``), one seed."""

    dimension: str
    held: dict[str, Any]
    seed: int
    points: list[Point]


class LossVsAccuracy(_Model):
    """From the first to the last point of a series: did eval loss and accuracy move together?"""

    dimension: str
    held: str
    loss_change: float  # relative: -0.31 is "fell 31%"
    accuracy_change: float  # points of accuracy (fraction)
    p_value: float | None
    agree: bool
    line: str


class Verdict(_Model):
    best: str  # cell id
    best_label: str
    reference: str
    margin: float  # best - reference accuracy, on the same seed
    margin_ci: tuple[float, float] | None
    p_value: float | None
    seeds: list[int]  # the seeds both settings ran with
    holds_in_every_seed: bool | None  # None: run with one seed
    headline: str
    lines: list[str]


class StudyResult(_Model):
    schema_version: int = STUDY_SCHEMA
    suite: str
    system: str
    kind: str
    trained_on: str  # pairs, or corpus (the loss is on the passages' tokens)
    generator: str
    judge: str
    created: str
    grid: dict[str, Any]  # the grid file as read
    dimensions: list[str]
    facts: str | None = None  # how pairs were grouped into facts, when pairs_per_fact is a dimension
    questions: list[str]
    cells: list[CellResult]
    series: list[Series]
    loss_vs_accuracy: list[LossVsAccuracy]
    correlation: dict[str, float | None]  # Spearman's rho and p of eval loss against accuracy, over the cells
    verdict: Verdict
    estimate_seconds: float
    seconds: float
    notes: list[str]

    def write(self, path: Path) -> None:
        write_atomic(path, json.dumps(self.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n")


def read_study(path: Path) -> StudyResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HarnessError(f"cannot read a study: {err}", path=path) from None
    if data.get("schema_version") != STUDY_SCHEMA:
        raise HarnessError(f"study schema {data.get('schema_version')!r}; this harness reads {STUDY_SCHEMA}",
                           path=path)
    return StudyResult.model_validate(data)
