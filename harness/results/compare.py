"""Two runs of one suite compared from their results files alone: what changed, and did anything get worse?

For each system in both runs: accuracy before and after with McNemar's exact test on the questions
both runs share (new against old), every answer that flipped, and what changed in its settings.
Around them: questions added or removed, gold answers that changed, and the generator, judge,
corpus, versions and revision of each run. A system regressed when it is significantly worse
(p < 0.05) or the new run fails its threshold.
"""
from __future__ import annotations

from typing import Any

from harness.core.errors import HarnessError
from harness.results.model import Comparison, ConditionChange, Flip, GateRow, RunReport, SystemChange
from harness.results.stats import mcnemar


def _outcomes(report: RunReport, system: str) -> dict[str, bool]:
    return {r.id: r.correct for r in report.first_seed if r.system == system and r.correct is not None}


def _answers(report: RunReport, system: str) -> dict[str, str | None]:
    return {r.id: r.answer for r in report.first_seed if r.system == system}


def _diff(old: dict, new: dict) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def _run_changes(old: RunReport, new: RunReport) -> dict[str, tuple[Any, Any]]:
    a, b = old.spec, new.spec
    fields = {"generator": (a.generator, b.generator), "judge": (a.judge, b.judge),
              "corpus hash": (a.corpus.hash, b.corpus.hash),
              "generation": (a.environment.generation, b.environment.generation),
              "cpu": (a.environment.cpu, b.environment.cpu),
              "git revision": (a.environment.git_revision, b.environment.git_revision)}
    fields.update({f"version of {k}": v for k, v in _diff(a.environment.versions, b.environment.versions).items()})
    return {k: v for k, v in fields.items() if v[0] != v[1]}


def _system(name: str, old: RunReport, new: RunReport, failing: dict[str, str]) -> SystemChange:
    before, after = _outcomes(old, name), _outcomes(new, name)
    paired = mcnemar(name, name, after, before)
    said_before, said_after = _answers(old, name), _answers(new, name)
    flips = [Flip(id=q, direction="wrong → right" if after[q] else "right → wrong", old_answer=said_before.get(q),
                  new_answer=said_after.get(q)) for q in sorted(set(before) & set(after)) if before[q] != after[q]]
    why = None
    if paired.significant and paired.only_b > paired.only_a:
        why = f"significantly worse: {paired.only_b} right → wrong, {paired.only_a} wrong → right (p = {paired.p_value:.3g})"
    elif name in failing:
        why = f"below its threshold in the new run ({failing[name]})"
    return SystemChange(system=name, old=(sum(before.values()), len(before)), new=(sum(after.values()), len(after)),
                        paired=paired, flips=flips,
                        settings=_diff(old.spec.system(name).settings, new.spec.system(name).settings), regression=why)


def _after_change(old: RunReport, new: RunReport) -> list[ConditionChange]:
    """Each system's answers after the documents change, in both runs (the changed questions, first seed)."""
    def outcomes(report: RunReport) -> dict[tuple[str, str], dict[str, bool]]:
        out: dict[tuple[str, str], dict[str, bool]] = {}
        for r in report.first_changes:
            if r.condition in ("stale", "refreshed") and r.correct is not None:
                out.setdefault((r.system, r.condition), {})[r.id] = r.correct
        return out

    before, after = outcomes(old), outcomes(new)
    return [ConditionChange(system=key[0], condition=key[1], old=(sum(before[key].values()), len(before[key])),
                            new=(sum(after[key].values()), len(after[key])),
                            paired=mcnemar("new", "old", after[key], before[key]))
            for key in after if key in before]


def compare(old: RunReport, new: RunReport, old_label: str, new_label: str) -> Comparison:
    """``new`` against ``old``; a HarnessError in one line when they are not runs of one suite."""
    if old.spec.suite != new.spec.suite:
        raise HarnessError(f"cannot compare runs of different suites: {old_label} is {old.spec.suite!r}, "
                           f"{new_label} is {new.spec.suite!r}")
    questions = {q.id: q for q in old.spec.questions}, {q.id: q for q in new.spec.questions}
    shared = [q for q in questions[1] if q in questions[0]]
    if not shared:
        raise HarnessError(f"cannot compare {old_label} with {new_label}: they share no question")
    failing = {}
    for row in new.analysis.gate:
        if row.status == "FAIL" and row.system in new.analysis.systems:
            failing.setdefault(row.system, f"{row.metric} {row.value if row.value is None else round(row.value, 3)} "
                                           f"< {row.threshold}")
    both = [s for s in new.analysis.systems if s in old.analysis.systems]
    return Comparison(
        old=old_label, new=new_label, suite=new.spec.suite, shared=len(shared),
        added=[q for q in questions[1] if q not in questions[0]], removed=[q for q in questions[0] if q not in questions[1]],
        gold_changed=[q for q in shared if (questions[0][q].answer, questions[0][q].accept)
                      != (questions[1][q].answer, questions[1][q].accept)],
        run_changes=_run_changes(old, new), systems=[_system(s, old, new, failing) for s in both],
        only_old=[s for s in old.analysis.systems if s not in new.analysis.systems],
        only_new=[s for s in new.analysis.systems if s not in old.analysis.systems],
        after_change=_after_change(old, new))


def gate_rows(comparison: Comparison) -> list[GateRow]:
    """One gate row per system in both runs: it fails when the system got significantly worse."""
    rows = []
    for s in comparison.systems:
        worse = s.paired.significant and s.paired.only_b > s.paired.only_a
        note = (f"{s.paired.only_b} right → wrong, {s.paired.only_a} wrong → right since {comparison.old}, "
                f"p = {s.paired.p_value:.3g}" if s.paired.p_value is not None else "no shared questions")
        rows.append(GateRow(system=s.system, metric="change in accuracy (no significant drop)", threshold=0.0,
                            value=s.paired.difference, status="FAIL" if worse else "pass", note=note))
    return rows


def with_comparison(report: RunReport, previous: RunReport, label: str, new_label: str = "this run") -> RunReport:
    """``report`` with its comparison to ``previous`` in the analysis, and its rows in the gate."""
    comparison = compare(previous, report, label, new_label)
    analysis = report.analysis.model_copy(update={"comparison": comparison,
                                                  "gate": [*report.analysis.gate, *gate_rows(comparison)]})
    return report.model_copy(update={"analysis": analysis, "run": report.run.model_copy(update={"compared_to": label})})
