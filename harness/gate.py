"""The CI gate: every threshold in suite.yaml must hold."""
from __future__ import annotations

from dataclasses import dataclass

from harness.results import SystemMetrics


@dataclass(frozen=True)
class GateRow:
    system: str
    metric: str
    threshold: float
    value: float | None
    status: str  # "pass", "FAIL", or "not selected" (no test of the system ran)
    note: str = ""


def _value(m: SystemMetrics, metric: str) -> float | None:
    return {"answer_accuracy": m.accuracy if m.n else None, "recall": m.recall, "mrr": m.mrr}[metric]


def evaluate_gate(thresholds: dict[str, dict[str, float]], metrics: dict[str, SystemMetrics],
                  skipped: dict[str, str]) -> list[GateRow]:
    rows = []
    for system, limits in thresholds.items():
        for metric, threshold in limits.items():
            if system in skipped:
                # A gate that passes because its model was missing would be a silent skip.
                rows.append(GateRow(system, metric, threshold, None, "FAIL", f"skipped: {skipped[system]}"))
            elif system not in metrics:  # deselected, e.g. by -k or --systems
                rows.append(GateRow(system, metric, threshold, None, "not selected"))
            else:
                value = _value(metrics[system], metric)
                if value is None:  # e.g. only the retrieval tests ran
                    rows.append(GateRow(system, metric, threshold, None, "not selected", "not measured"))
                else:
                    rows.append(GateRow(system, metric, threshold, value, "pass" if value >= threshold else "FAIL"))
    return rows


def gate_passed(rows: list[GateRow]) -> bool:
    return all(row.status != "FAIL" for row in rows)
