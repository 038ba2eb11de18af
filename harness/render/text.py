"""Formatting shared by the renderers: the same figure reads the same in the scorecard, report.html and
the terminal. Formatting only: every figure comes from the RunReport."""
from __future__ import annotations

from harness.results.model import Cost, RealAnswersSummary, RunReport


def real_answers_line(real: RealAnswersSummary) -> str:
    """The judge on the systems' hand-labelled answers: agreement, kappa and the largest per-system gap."""
    worst = max(real.gaps, key=lambda name: abs(real.gaps[name]), default=None)
    gap = f"{100 * real.gaps[worst]:+.1f} points ({worst})" if worst else "–"
    kappa = "–" if real.kappa is None else f"{real.kappa:.3f}"
    return (f"agreement {real.agree}/{real.n} ({real.agreement:.1%}), kappa {kappa}; "
            f"largest gap between a system's judged and labelled accuracy {gap}")


def setting_text(value) -> str:
    """A setting as a table cell: 1.0 as 1, a list of modules joined."""
    return f"{value:g}" if isinstance(value, float) else ", ".join(value) if isinstance(value, list) else str(value)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def preset_line(name: str, preset: dict) -> str:
    """What a system's preset sets over suite.yaml's training.lora, said once (SystemInfo.preset)."""
    return (f"{name}: its preset sets {_and([f'{k} {setting_text(v[0])}' for k, v in preset.items()])} over "
            f"training.lora's {_and([setting_text(v[1]) for v in preset.values()])}; set them on the system to choose")


def _seconds(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f}" if x >= 10 else f"{x:.2g}"


def cost_cells(cost: Cost) -> list[str]:
    """Training s, indexing s, s per answer, prompt tokens, peak MB: "–" where not measured or not applicable."""
    return [_seconds(cost.train_seconds), _seconds(cost.index_seconds),
            "–" if cost.seconds_per_answer is None else f"{cost.seconds_per_answer:.2f}",
            "–" if cost.prompt_tokens is None else f"{cost.prompt_tokens:.0f}",
            "–" if cost.peak_rss_mb is None else f"{cost.peak_rss_mb:.0f}"]


def judge_cell(report: RunReport, system: str) -> str:
    """The judge against people on this system's answers: its reviewed answers in this run, else its gap on
    the suite's hand-labelled real answers, else "–"."""
    reviewed = report.analysis.reviewed.get(system)
    if reviewed is not None and reviewed.n:
        return f"{reviewed.agree}/{reviewed.n} reviewed agree"
    real = report.run.real_answers
    if real is not None and system in real.gaps:
        return f"{100 * real.gaps[system]:+.1f} points vs labels"
    return "–"
