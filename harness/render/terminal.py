"""The terminal summary at the end of `pytest evals`: the same RunReport as the scorecard, in lines."""
from __future__ import annotations

from harness.results.gate import gate_summary
from harness.results.model import RunReport


def real_answers_line(real: dict) -> str:
    """The judge on the systems' hand-labelled answers: agreement, kappa and the largest per-system gap."""
    worst = max(real["gaps"], key=lambda name: abs(real["gaps"][name]), default=None)
    gap = f"{100 * real['gaps'][worst]:+.1f} points ({worst})" if worst else "–"
    kappa = "–" if real["kappa"] is None else f"{real['kappa']:.3f}"
    return (f"agreement {real['agree']}/{real['n']} ({real['agreement']:.1%}), kappa {kappa}; "
            f"largest gap between a system's judged and labelled accuracy {gap}")


def summary_lines(report: RunReport, judge: str, cached: dict[bool, int]) -> list[str]:
    """Accuracy and retrieval per system, skips and crashes, the judge, paired tests, the gate."""
    analysis, run = report.analysis, report.run
    lines = []
    for name, m in analysis.metrics.items():
        ci = f" [{m.accuracy_ci[0]:.0%}-{m.accuracy_ci[1]:.0%}]" if m.accuracy_ci else ""
        unscored = f"  unscored {m.unscored}" if m.unscored else ""
        retrieval = "" if m.recall is None else f"  recall@{m.k} {m.recall:.1%}  mrr {m.mrr:.3f}"
        lines.append(f"{name:<14} accuracy {m.correct}/{m.n} ({m.accuracy:.1%}){ci}{unscored}{retrieval}")
    lines += [f"{system:<14} skipped: {reason}" for system, reason in run.skipped.items()]
    lines += [f"{system:<14} CRASHED: {reason}" for system, reason in run.failed.items()]
    lines += [f"warning: {line}" for line in report.warnings]
    if run.calibration:
        cal = run.calibration
        lines.append(f"judge {judge}: agreement {cal['agree']}/{cal['n']} ({cal['agreement']:.1%}), "
                     f"kappa {cal['kappa']}, unscored {cal['unscored']}")
    if run.real_answers:
        lines.append(f"judge {judge} on real answers: {real_answers_line(run.real_answers)}")
    lines += [f"{p.a} vs {p.b}: {p.verdict}" + ("" if p.p_value is None else f" (p={p.p_value:.3g})")
              for p in analysis.paired]
    lines.append(f"answers generated now: {cached[False]}, from cache: {cached[True]}")
    if run.gate_enabled:
        lines.append(gate_summary(analysis.gate))
        for r in analysis.gate:
            value = "–" if r.value is None else f"{r.value:.3f}"
            limit = f"{'at most' if r.ceiling else 'threshold'} {r.threshold:.3f}"
            lines.append(f"  {r.status:<12} {r.system} {r.metric} = {value} ({limit}) {r.note}")
    return lines
