"""The terminal summary at the end of `pytest evals`: the same RunReport as the scorecard, in lines,
the verdict first."""
from __future__ import annotations

from harness.render.text import cost_cells, real_answers_line
from harness.results.gate import gate_summary
from harness.results.model import FAMILY_NAMES, RunReport

COST = ("train {} s", "index {} s", "{} s/answer", "{} prompt tokens", "peak {} MB")


def _cost(report: RunReport, name: str) -> str:
    cells = cost_cells(report.analysis.systems[name].cost)
    return ", ".join(form.format(cell) for form, cell in zip(COST, cells) if cell != "–")


def summary_lines(report: RunReport, cached: dict[bool, int]) -> list[str]:
    """The verdict, then accuracy, retrieval and cost per system, skips and crashes, the judge, paired tests, the gate."""
    analysis, run, spec = report.analysis, report.run, report.spec
    change = analysis.changes.lines if analysis.changes else []
    lines = [*(f"verdict: {line}" if i == 0 else f"  {line}" for i, line in enumerate(change)),
             f"verdict: {analysis.verdict.headline}", *[f"  {line}" for line in analysis.verdict.details],
             f"  {analysis.judge_status}"]
    for name, s in analysis.systems.items():
        ci = f" [{s.accuracy_ci[0]:.0%}-{s.accuracy_ci[1]:.0%}]" if s.accuracy_ci else ""
        unscored = f"  unscored {s.unscored}" if s.unscored else ""
        r = s.retrieval
        retrieval = "" if r is None or r.recall is None else f"  recall@{r.k} {r.recall:.1%}  mrr {r.mrr:.3f}"
        lines.append(f"{name:<14} {FAMILY_NAMES[s.family]:<24} accuracy {s.correct}/{s.n} ({s.accuracy:.1%}){ci}"
                     f"{unscored}{retrieval}  cost: {_cost(report, name) or '–'}")
    lines += [f"{system:<14} skipped: {reason}" for system, reason in run.skipped.items()]
    lines += [f"{system:<14} CRASHED: {reason}" for system, reason in run.failed.items()]
    lines += [f"warning: {line}" for line in analysis.warnings]
    if spec.environment.generation:
        lines.append(f"generation: {spec.environment.generation}")
    if run.calibration:
        cal = run.calibration
        lines.append(f"judge {spec.judge}: agreement {cal.agree}/{cal.n} ({cal.agreement:.1%}), "
                     f"kappa {cal.kappa}, unscored {cal.unscored}")
    if run.real_answers:
        lines.append(f"judge {spec.judge} on real answers: {real_answers_line(run.real_answers)}")
    lines += [f"{p.a} vs {p.b}: {p.verdict}" + ("" if p.p_value is None else f" (p={p.p_value:.3g})")
              for p in analysis.paired]
    if analysis.comparison:
        c = analysis.comparison
        lines.append(f"against {c.old}: " + "; ".join(
            f"{s.system} {s.old[0]}/{s.old[1]} → {s.new[0]}/{s.new[1]}"
            + (f" REGRESSION ({s.regression})" if s.regression else "") for s in c.systems))
    lines.append(f"answers generated now: {cached[False]}, from cache: {cached[True]}")
    if run.gate_enabled:
        lines.append(gate_summary(analysis.gate))
        for r in analysis.gate:
            value = "–" if r.value is None else f"{r.value:.3f}"
            limit = f"{'at most' if r.ceiling else 'threshold'} {r.threshold:.3f}"
            lines.append(f"  {r.status:<12} {r.system} {r.metric} = {value} ({limit}) {r.note}")
    return lines
