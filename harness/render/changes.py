"""The change study as tables: per system, and per changed fact with each system's answers and their
class. Formatting only: every figure comes from the RunReport (analysis.changes and its rows)."""
from __future__ import annotations

from harness.results.model import ConditionResult, RunReport

HEADER = ["system", "before (old gold)", "stale: re-indexed, old adapter", "refreshed", "old value said (stale)",
          "both said", "empty", "conflict", "locality (unchanged questions)", "re-index (s)", "update (s)"]


def _cell(r: ConditionResult | None) -> str:
    if r is None:
        return "–"
    ci = "" if r.accuracy_ci is None else f" [{100 * r.accuracy_ci[0]:.0f}–{100 * r.accuracy_ci[1]:.0f}%]"
    return f"{r.correct}/{r.n} ({100 * r.accuracy:.0f}%){ci}"


def _count(r: ConditionResult | None, cls: str) -> str:
    return "–" if r is None else str(r.classes.get(cls, 0))


def _seconds(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def system_rows(report: RunReport) -> list[list[str]]:
    """One row per system: accuracy on the changed questions per condition, what went stale, what it cost."""
    rows = []
    for name, s in report.analysis.changes.systems.items():
        loc = s.locality
        locality = "–" if loc is None else f"{loc.only_b} right→wrong, {loc.only_a} wrong→right of {loc.n}" + (
            f" (p = {loc.p_value:.2g})" if loc.p_value is not None else "")
        conflict = "–" if s.conflict is None else f"{s.conflict.old} old of {s.conflict.of} with new evidence"
        empty = sum(int(_count(r, "EMPTY")) for r in (s.stale, s.refreshed) if r is not None)
        rows.append([name, _cell(s.before), _cell(s.stale), _cell(s.refreshed), _count(s.stale, "OLD"),
                     _count(s.stale, "BOTH"), str(empty), conflict, locality, _seconds(s.reindex_seconds),
                     _seconds(s.update_seconds)])
    return rows


def _short(text: str | None, width: int = 48) -> str:
    if text is None:
        return "–"
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def fact_rows(report: RunReport) -> tuple[list[str], list[list[str]]]:
    """One row per changed question: its fact, old → new, and each system's answers (stale, then refreshed)."""
    change = report.spec.change
    systems = list(report.analysis.changes.systems)
    answers = {(r.system, r.id, r.condition): r for r in report.first_changes}
    gold = {q.id: q.answer for q in report.spec.questions}
    header = ["question", "fact: old → new", *systems]
    rows = []
    for edit in change.edits:
        for qid in edit.questions:
            new = next(q.answer for q in change.questions if q.id == qid)
            cells = [qid, f"{edit.fact or edit.id}: {gold.get(qid, '?')} → {new}"]
            for name in systems:
                seen = [answers[name, qid, c] for c in ("stale", "refreshed") if (name, qid, c) in answers]
                cells.append(" → ".join(f"{_short(r.answer)} ({r.change_class or '?'})" for r in seen) or "–")
            rows.append(cells)
    return header, rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]]


def markdown(report: RunReport) -> list[str]:
    study, change = report.analysis.changes, report.spec.change
    header, facts = fact_rows(report)
    return [f"Change set `{change.name}`: {len(change.edits)} facts, {len(change.changed)} questions; adapters "
            f"{'trained further on the changed material alone' if change.refresh == 'update' else 'retrained in full'}"
            f". {change.description}".rstrip(), "", *[f"- {line}" for line in study.lines], "",
            *_table(HEADER, system_rows(report)), "",
            "Accuracy on the changed questions is against their new gold; an answer that states the old value too "
            "is wrong (counted under \"both said\"). Conflict: a system that retrieves and was trained, with its "
            "old adapter, saying the old value though its retrieval brought the new evidence. Locality: the "
            "unchanged questions answered by the refreshed adapter against the same system before the change "
            "(McNemar).", "",
            "Each changed question: the stale answer, then the refreshed one, with its class (NEW, OLD, BOTH, "
            "OTHER, EMPTY).", "", *_table(header, facts)]
