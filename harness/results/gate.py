"""The CI gate: every threshold in suite.yaml must hold."""
from __future__ import annotations

from dataclasses import dataclass

from harness.results.model import SystemMetrics


@dataclass(frozen=True)
class GateRow:
    system: str
    metric: str
    threshold: float
    value: float | None
    status: str  # "pass", "FAIL", or "not selected" (the user left the system out of this run)
    note: str = ""


def _value(m: SystemMetrics, metric: str) -> float | None:
    return {"answer_accuracy": m.accuracy if m.n else None, "recall": m.recall, "mrr": m.mrr}[metric]


def _judge_rows(limits: dict[str, float], calibration: dict | None) -> list[GateRow]:
    """The judge's agreement with human labels gates like any system metric."""
    rows = []
    for metric, threshold in limits.items():
        value = None if calibration is None else calibration[metric]
        if value is None:
            rows.append(GateRow("judge", metric, threshold, None, "not selected", "calibration not run"))
        else:
            rows.append(GateRow("judge", metric, threshold, value, "pass" if value >= threshold else "FAIL"))
    return rows


def evaluate_gate(thresholds: dict[str, dict[str, float]], metrics: dict[str, SystemMetrics],
                  skipped: dict[str, str], judge_limits: dict[str, float] | None = None,
                  calibration: dict | None = None, failed: dict[str, str] | None = None) -> list[GateRow]:
    """Rows for every system threshold, then the judge's (when the suite has calibration labels)."""
    rows = []
    failed = failed or {}
    for system, limits in thresholds.items():
        for metric, threshold in limits.items():
            if system in failed:  # crashed: whatever it measured before the crash is not trusted
                rows.append(GateRow(system, metric, threshold, None, "FAIL", f"crashed: {failed[system]}"))
            elif system in skipped:
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
    return rows + _judge_rows(judge_limits or {}, calibration)


def gate_passed(rows: list[GateRow]) -> bool:
    return all(row.status != "FAIL" for row in rows)


def gate_summary(rows: list[GateRow]) -> str:
    """One line: the verdict, and how many thresholds this run did not measure because the user
    left their systems out (--systems, -k), so a partial run is not read as a full pass."""
    if not rows:
        return "gate: no thresholds in suite.yaml"
    failed = sum(r.status == "FAIL" for r in rows)
    held = sum(r.status == "pass" for r in rows)
    left_out = sorted({r.system for r in rows if r.status == "not selected"})
    line = f"gate {'PASSED' if not failed else 'FAILED'}: {held} of {len(rows)} thresholds hold"
    line += f", {failed} failed" if failed else ""
    if left_out:
        line += f"; not measured in this run (left out by --systems/-k or not run): {', '.join(left_out)}"
    return line
