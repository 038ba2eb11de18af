"""Per-question records gathered from test reports, and results.json built from them.

results.json is the one source the scorecard and chart are rendered from, by the plugin at the
end of a run and by ``harness report`` later, with no model loaded.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError
from harness.ppi import corrected_accuracy
from harness.stats import wilson
from harness.suite import Suite


@dataclass(frozen=True)
class RunInfo:
    suite_dir: str
    generator: str
    judge: str  # the judge's identity
    judge_model: str | None
    self_grading: bool
    gate_enabled: bool


@dataclass
class SystemMetrics:
    n: int  # answers the judge scored
    correct: int
    unscored: int = 0
    k: int | None = None  # retrieval depth; None for systems that do not retrieve
    retrieval_n: int = 0  # questions with evidence whose retrieval was checked
    recall: float | None = None
    mrr: float | None = None
    answer_seconds: float = 0.0  # generation time recorded when the answers were computed

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def accuracy_ci(self) -> tuple[float, float] | None:
        return wilson(self.correct, self.n)

    @property
    def recall_ci(self) -> tuple[float, float] | None:
        return None if self.recall is None else wilson(round(self.recall * self.retrieval_n), self.retrieval_n)


@dataclass
class Results:
    """What the eval tests recorded, merged per (system, question id)."""

    records: dict[tuple[str, str], dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # system -> reason
    calibration: dict | None = None  # the judge's agreement with human labels, when measured
    training: dict[str, dict] = field(default_factory=dict)  # system -> its adapter's training log
    failed: dict[str, str] = field(default_factory=dict)  # system -> why a test of it crashed

    def add(self, entry: dict[str, Any]) -> None:
        if "training" in entry:
            self.training[entry["system"]] = entry["training"]
        elif "calibration" in entry:
            self.calibration = entry["calibration"]
        elif "skipped" in entry:
            self.skipped[entry["system"]] = entry["skipped"]
        else:
            self.records.setdefault((entry["system"], entry["id"], entry.get("seed")), {}).update(entry)

    def __bool__(self) -> bool:
        return bool(self.records or self.skipped or self.calibration or self.failed)

    def _merged(self) -> dict[tuple, dict]:
        """Records per (system, id, seed); a seedless record (a retrieval test's) folds into that question's seeds."""
        seeded = {key[:2] for key in self.records if key[2] is not None}
        return {key: {**self.records.get((*key[:2], None), {}), **r} for key, r in self.records.items()
                if key[2] is not None or key[:2] not in seeded}

    def rows(self, suite: Suite) -> list[dict]:
        """results.json rows, in suite order: systems as the suite lists them, then questions, then seeds."""
        order = {(s.name, q.id): (i, j) for i, s in enumerate(suite.systems) for j, q in enumerate(suite.questions)}
        records = self._merged()
        keys = sorted(records, key=lambda key: (*order.get(key[:2], (1e9, 1e9)), key[2] or 0))
        return [{"system": r["system"], "id": r["id"], "answer": r.get("answer"), "correct": r.get("correct"),
                 "evidence_rank": r.get("evidence_rank"), "retrieved": r.get("retrieved") or [],
                 "explanation": r.get("explanation"), "seconds": r.get("seconds"), **verdict_fields(r),
                 **({"seed": r["seed"]} if "seed" in r else {})}
                for r in (records[key] for key in keys)]


def verdict_fields(record: dict) -> dict:
    """Who decided (judge or human), whether the judge was certain, and the overruled judge verdict."""
    return {"verdict_source": record.get("verdict_source"), "certain": record.get("certain"),
            "judge": record.get("judge")}


def system_metrics(rows: list[dict], suite: Suite) -> dict[str, SystemMetrics]:
    out: dict[str, SystemMetrics] = {}
    for spec in suite.systems:
        mine = [r for r in rows if r["system"] == spec.name]
        if not mine:
            continue
        answered = [r for r in mine if r["answer"] is not None]
        scored = [r for r in answered if r["correct"] is not None]
        m = SystemMetrics(n=len(scored), correct=sum(r["correct"] for r in scored),
                          unscored=len(answered) - len(scored),
                          answer_seconds=round(sum(r["seconds"] or 0 for r in answered), 3))
        if spec.retrieves:  # retrieval is the same for every seed: each question counts once
            checked = [r for r in first_seed(mine) if r["retrieved"] and suite.evidence.get(r["id"])]
            m.k, m.retrieval_n = spec.options.k, len(checked)
            if checked:
                ranks = [r["evidence_rank"] for r in checked]
                m.recall = sum(r is not None for r in ranks) / len(ranks)
                m.mrr = sum(1 / r for r in ranks if r) / len(ranks)
        out[spec.name] = m
    return out


def first_seed(rows: list[dict]) -> list[dict]:
    """One row per (system, question): a system trained with several seeds keeps its first seed's."""
    first: dict[str, int] = {}
    for r in rows:
        if "seed" in r:
            first.setdefault(r["system"], r["seed"])
    return [r for r in rows if r.get("seed", first.get(r["system"])) == first.get(r["system"])]


def seed_accuracy(rows: list[dict]) -> dict[str, dict[int, float]]:
    """Accuracy per seed, for each system whose rows carry seeds (scored answers only)."""
    out: dict[str, dict[int, list]] = {}
    for r in rows:
        if "seed" in r and r["correct"] is not None:
            out.setdefault(r["system"], {}).setdefault(r["seed"], []).append(r["correct"])
    return {name: {seed: sum(v) / len(v) for seed, v in seeds.items()} for name, seeds in out.items()}


def by_prior(rows: list[dict], baseline: str = "baseline") -> dict[str, dict]:
    """Each system's accuracy on the questions the baseline got right ("known") and wrong ("unknown"),
    and the known ones it now gets wrong ("forgotten"; with seeds: wrong in most of them).
    Empty when the baseline was not run."""
    prior = {r["id"]: r["correct"] for r in rows if r["system"] == baseline and r["correct"] is not None}
    if not prior:
        return {}
    out: dict[str, dict] = {}
    for r in rows:
        if r["correct"] is None or r["id"] not in prior:
            continue
        entry = out.setdefault(r["system"], {"by_prior": {"known": {"n": 0, "correct": 0},
                                                          "unknown": {"n": 0, "correct": 0}}, "wrong": {}})
        group = entry["by_prior"]["known" if prior[r["id"]] else "unknown"]
        group["n"] += 1
        group["correct"] += int(r["correct"])
        if prior[r["id"]]:
            votes = entry["wrong"].setdefault(r["id"], [0, 0])
            votes[0] += not r["correct"]
            votes[1] += 1
    return {name: {"by_prior": e["by_prior"],
                   "forgotten": [qid for qid, (wrong, n) in e["wrong"].items() if 2 * wrong > n]}
            for name, e in out.items()}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def results_json(suite: Suite, results: Results, info: RunInfo) -> dict:
    """The stable contract (suite, systems, results) plus a ``run`` block for re-rendering."""
    rows = results.rows(suite)
    systems = {
        name: {"n": m.n, "correct": m.correct, "answer_accuracy": round(m.accuracy, 6), "unscored": m.unscored,
               "retrieval": None if m.k is None else {"k": m.k, "recall": _round(m.recall), "mrr": _round(m.mrr)}}
        for name, m in system_metrics(rows, suite).items()
    }
    for name, seeds in seed_accuracy(rows).items():
        systems[name]["seed_accuracy"] = [round(seeds[s], 6) for s in sorted(seeds)]
    for name, split in by_prior(rows).items():
        if name in systems:
            systems[name].update(split)
    for name, corrected in corrected_accuracy(rows).items():  # when some answers have human reviews
        if name in systems:
            systems[name]["corrected_accuracy"] = corrected.as_json()
    run = {**asdict(info), "skipped": dict(results.skipped), "failed": dict(results.failed),
           "calibration": results.calibration,
           "training": {name: results.training[name] for name in sorted(results.training)}}
    return {"suite": suite.name, "systems": systems, "results": rows, "run": run}


class _Row(BaseModel):  # other fields are allowed: readers take what they know
    system: str
    id: str
    answer: str | None
    correct: bool | None
    retrieved: list[dict] = []


class _Run(BaseModel):
    suite_dir: str
    judge: str
    skipped: dict[str, str]


class _ResultsFile(BaseModel):
    suite: str
    systems: dict[str, dict]
    results: list[_Row]
    run: _Run


def load_results_json(path: Path) -> dict:
    """A results.json written by the harness, or a one-line HarnessError saying why it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        _ResultsFile.model_validate(data)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        if isinstance(err, ValidationError):
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            err = f"{where}: {first['msg'].lower()}" if where else first["msg"].lower()
        raise HarnessError(f"not a harness results.json: {err}", path=path) from None
    return data


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)  # reports are for reading; mkstemp makes them private
    os.replace(tmp, path)


def _finite(value: Any) -> Any:
    """NaN and infinities have no JSON spelling: they become null (the "no value" of the contract)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: Path, data: dict) -> None:
    """Strict JSON, always: a reader in any language can parse it."""
    write_atomic(path, json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n")
