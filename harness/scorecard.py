"""Render the markdown scorecard from the merged results. Deterministic for identical results."""
from __future__ import annotations

from dataclasses import dataclass

from harness.gate import GateRow
from harness.results import Results, SystemMetrics
from harness.suite import Suite


@dataclass(frozen=True)
class RunInfo:
    generator: str
    judge: str
    gate_enabled: bool


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _summary(metrics: dict[str, SystemMetrics]) -> list[str]:
    lines = ["| system | accuracy | recall@k | MRR | answer time (s) |", "|---|---|---|---|---|"]
    for name, m in metrics.items():
        recall = "–" if m.k is None else f"{_pct(m.recall)} (k={m.k}, n={m.retrieval_n})"
        mrr = "–" if m.mrr is None else f"{m.mrr:.3f}"
        lines.append(f"| {name} | {m.correct}/{m.n} ({_pct(m.accuracy)}) | {recall} | {mrr} | {m.answer_seconds:.1f} |")
    return lines


def _gate(rows: list[GateRow], enabled: bool) -> list[str]:
    if not rows:
        return ["No thresholds are set in suite.yaml."]
    head = "Applied (`--gate`)." if enabled else "Not applied in this run (pass `--gate`); shown for reference."
    lines = [head, "", "| system | metric | value | threshold | status |", "|---|---|---|---|---|"]
    for r in rows:
        value = "–" if r.value is None else f"{r.value:.3f}"
        status = r.status + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.system} | {r.metric} | {value} | ≥ {r.threshold:.3f} | {status} |")
    return lines


def _attribution(suite: Suite, results: Results, metrics: dict[str, SystemMetrics]) -> list[str]:
    """Per RAG system: retrieval hit/miss against answer right/wrong, over questions with evidence."""
    lines = ["Rows: was the evidence in the top k? Columns: was the answer right? "
             "Wrong answers with a hit are the model's errors; wrong answers with a miss are retrieval's."]
    for spec in suite.systems:
        if not spec.retrieves or spec.name not in metrics:
            continue
        rows = [r for (s, qid), r in results.records.items()
                if s == spec.name and suite.evidence[qid] and "evidence_rank" in r and r.get("correct") is not None]
        cell = {(h, c): sum(1 for r in rows if (r["evidence_rank"] is not None) == h and r["correct"] == c)
                for h in (True, False) for c in (True, False)}
        lines += ["", f"**{spec.name}** (n={len(rows)})", "", "| | answer right | answer wrong |", "|---|---|---|",
                  f"| evidence retrieved | {cell[True, True]} | {cell[True, False]} (model's errors) |",
                  f"| evidence missed | {cell[False, True]} | {cell[False, False]} (retrieval's errors) |"]
    return lines


def _grid(suite: Suite, results: Results, metrics: dict[str, SystemMetrics]) -> list[str]:
    names = list(metrics)
    lines = ["✓ right, ✗ wrong; `r2` = evidence first covered at rank 2, `r–` = evidence not retrieved.", "",
             "| id | question | gold | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    for q in suite.questions:
        cells = []
        for name in names:
            r = results.records.get((name, q.id))
            if r is None:
                cells.append(" ")
                continue
            mark = {True: "✓", False: "✗", None: "?"}[r.get("correct")]
            if "evidence_rank" in r and suite.evidence[q.id]:
                mark += f" r{r['evidence_rank'] or '–'}"
            answer = (r.get("answer") or "").replace("|", "/")
            cells.append(f"{mark} {answer[:40]}" if r.get("answer") is not None else mark)
        question = q.question.replace("|", "/")
        lines.append(f"| {q.id} | {question[:70]} | {q.answer} | " + " | ".join(cells) + " |")
    return lines


def render_scorecard(suite: Suite, results: Results, metrics: dict[str, SystemMetrics],
                     gate: list[GateRow], info: RunInfo) -> str:
    words = sum(len(d.text.split()) for d in suite.documents)
    out = [f"# Scorecard: {suite.name}", "",
           f"- generator: `{info.generator}`", f"- judge: `{info.judge}`",
           f"- questions: {len(suite.questions)}; corpus: {len(suite.documents)} document(s), {words} words", "",
           "## Accuracy and retrieval", "", *_summary(metrics), "",
           "Answer time is the generation time recorded when each answer was computed; cached answers keep it.", "",
           "## Gate", "", *_gate(gate, info.gate_enabled), ""]
    if any(spec.retrieves and spec.name in metrics for spec in suite.systems):
        out += ["## Where the errors come from", "", *_attribution(suite, results, metrics), ""]
    if results.skipped:
        out += ["## Skipped systems", "", *[f"- {name}: {why}" for name, why in results.skipped.items()], ""]
    out += ["## Per question", "", *_grid(suite, results, metrics), ""]
    return "\n".join(out)
