"""The CI gate: every threshold in suite.yaml must hold."""
from __future__ import annotations

from dataclasses import dataclass

from harness.core.metrics import METRICS
from harness.results.model import GateRow, SystemResult


# Judge metrics that are limits from above: a system's judged accuracy may stray this far from its labelled one.
CEILINGS = {"max_gap"}


@dataclass(frozen=True)
class JudgeCheck:
    """The judge against one set of human labels: the gate's limits and what the run measured."""

    name: str  # the gate's "system" column, e.g. "judge"
    limits: dict[str, float]  # metric -> threshold
    measured: dict | None  # metric -> value; None when this run did not measure it


def _value(result: SystemResult, metric: str) -> float | None:
    """A metric's value as the analysis stored it: retrieval metrics in the system's retrieval block."""
    if METRICS.get(metric).retrieval:
        return getattr(result.retrieval, metric) if result.retrieval else None
    return result.accuracy if result.n else None


def _row(system: str, metric: str, threshold: float, value: float | None, status: str, note: str = "",
         ceiling: bool = False) -> GateRow:
    return GateRow(system=system, metric=metric, threshold=threshold, value=value, status=status, note=note,
                   ceiling=ceiling)


def _judge_rows(check: JudgeCheck) -> list[GateRow]:
    """The judge's agreement with human labels gates like any system metric."""
    rows = []
    for metric, threshold in check.limits.items():
        value = None if check.measured is None else check.measured[metric]
        ceiling = metric in CEILINGS
        if value is None:
            rows.append(_row(check.name, metric, threshold, None, "not selected", "evals/test_judge.py not run",
                             ceiling))
        else:
            held = value <= threshold if ceiling else value >= threshold
            rows.append(_row(check.name, metric, threshold, value, "pass" if held else "FAIL", ceiling=ceiling))
    return rows


def evaluate_gate(thresholds: dict[str, dict[str, float]], metrics: dict[str, SystemResult],
                  skipped: dict[str, str], judge_checks: tuple[JudgeCheck, ...] = (),
                  failed: dict[str, str] | None = None) -> list[GateRow]:
    """Rows for every system threshold, then the judge's (for each set of human labels the suite has)."""
    rows = []
    failed = failed or {}
    for system, limits in thresholds.items():
        for metric, threshold in limits.items():
            if system in failed:  # crashed: whatever it measured before the crash is not trusted
                rows.append(_row(system, metric, threshold, None, "FAIL", f"crashed: {failed[system]}"))
            elif system in skipped:
                # A gate that passes because its model was missing would be a silent skip.
                rows.append(_row(system, metric, threshold, None, "FAIL", f"skipped: {skipped[system]}"))
            elif system not in metrics:  # deselected, e.g. by -k or --systems
                rows.append(_row(system, metric, threshold, None, "not selected"))
            else:
                value = _value(metrics[system], metric)
                if value is None:  # e.g. only the retrieval tests ran
                    rows.append(_row(system, metric, threshold, None, "not selected", "not measured"))
                else:
                    rows.append(_row(system, metric, threshold, value, "pass" if value >= threshold else "FAIL"))
    return rows + [row for check in judge_checks for row in _judge_rows(check)]


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
