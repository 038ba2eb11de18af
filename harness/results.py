"""Per-question records gathered from test reports, the metrics derived from them, results.json."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from harness.suite import Suite


@dataclass
class SystemMetrics:
    n: int
    correct: int
    k: int | None = None  # retrieval depth; None for systems that do not retrieve
    retrieval_n: int = 0  # questions with evidence whose retrieval was checked
    recall: float | None = None
    mrr: float | None = None
    answer_seconds: float = 0.0  # generation time recorded when the answers were computed
    median_answer_seconds: float | None = None

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass
class Results:
    """What the eval tests recorded, merged per (system, question id)."""

    records: dict[tuple[str, str], dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # system -> reason

    def add(self, entry: dict[str, Any]) -> None:
        if "skipped" in entry:
            self.skipped[entry["system"]] = entry["skipped"]
            return
        self.records.setdefault((entry["system"], entry["id"]), {}).update(entry)

    def __bool__(self) -> bool:
        return bool(self.records or self.skipped)

    def ordered(self, suite: Suite) -> list[dict]:
        """Records in suite order: systems as the suite lists them, then questions."""
        order = {(s.name, q.id): (i, j) for i, s in enumerate(suite.systems) for j, q in enumerate(suite.questions)}
        return [self.records[key] for key in sorted(self.records, key=lambda key: order.get(key, (1e9, 1e9)))]

    def metrics(self, suite: Suite) -> dict[str, SystemMetrics]:
        out: dict[str, SystemMetrics] = {}
        for spec in suite.systems:
            rows = [r for (s, _), r in self.records.items() if s == spec.name]
            if not rows:
                continue
            graded = [r for r in rows if r.get("correct") is not None]
            seconds = [r["seconds"] for r in rows if r.get("seconds") is not None]
            m = SystemMetrics(n=len(graded), correct=sum(r["correct"] for r in graded),
                              answer_seconds=round(sum(seconds), 3),
                              median_answer_seconds=round(median(seconds), 3) if seconds else None)
            if spec.retrieves:
                checked = [r for r in rows if "evidence_rank" in r and suite.evidence[r["id"]]]
                m.k, m.retrieval_n = spec.options.k, len(checked)
                if checked:
                    ranks = [r["evidence_rank"] for r in checked]
                    m.recall = sum(r is not None for r in ranks) / len(ranks)
                    m.mrr = sum(1 / r for r in ranks if r) / len(ranks)
            out[spec.name] = m
        return out


def results_json(suite: Suite, results: Results, metrics: dict[str, SystemMetrics]) -> dict:
    """The stable contract other tools read (see README)."""
    systems = {
        name: {"n": m.n, "correct": m.correct, "answer_accuracy": round(m.accuracy, 6),
               "retrieval": None if m.k is None else
               {"k": m.k, "recall": None if m.recall is None else round(m.recall, 6),
                "mrr": None if m.mrr is None else round(m.mrr, 6)}}
        for name, m in metrics.items()
    }
    rows = [{"system": r["system"], "id": r["id"], "answer": r.get("answer"), "correct": r.get("correct"),
             "evidence_rank": r.get("evidence_rank"), "retrieved": r.get("retrieved") or []}
            for r in results.ordered(suite)]
    return {"suite": suite.name, "systems": systems, "results": rows}


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
