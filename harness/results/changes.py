"""The change study, computed once from its rows: per system and condition, what it answers after the
documents change, how much of it is stale, and what keeping up costs; and the verdict's lines on it.

Accuracy on the changed questions is against their new gold (an answer stating the old value too is
wrong); "before" is the ordinary run's answers to the same questions against their old gold. Locality
pairs each refreshed system's answers to the unchanged questions with its own before the change.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

from harness.results.model import (
    AfterChange,
    ChangeStudy,
    ConditionResult,
    Conflict,
    EvalSpec,
    Paired,
    Row,
    RunMeta,
    first_seed,
)
from harness.results.stats import mcnemar, power, wilson

CLASSES = ("NEW", "OLD", "BOTH", "OTHER", "EMPTY")


def _result(rows: Sequence[Row]) -> ConditionResult | None:
    scored = [r for r in rows if r.correct is not None]
    if not rows:
        return None
    right = sum(r.correct for r in scored)
    classes = Counter(r.change_class for r in rows if r.change_class)
    return ConditionResult(n=len(scored), correct=right, accuracy=round(right / len(scored), 6) if scored else 0.0,
                           accuracy_ci=wilson(right, len(scored)), classes={c: classes[c] for c in CLASSES if classes[c]})


def _outcomes(rows: Sequence[Row]) -> dict[str, bool]:
    return {r.id: r.correct for r in rows if r.correct is not None}


def _conflict(stale: Sequence[Row]) -> Conflict | None:
    """Old values said with the new evidence in the prompt: the adapter's memory over the passage."""
    shown = [r for r in stale if r.evidence_rank is not None and r.change_class]
    return Conflict(old=sum(r.change_class == "OLD" for r in shown), of=len(shown)) if shown else None


def _system(name: str, family: str, before: Sequence[Row], after: Sequence[Row], changed: set[str],
            run: RunMeta, refresh: str) -> AfterChange:
    of = {c: [r for r in after if r.condition == c] for c in ("stale", "refreshed", "control")}
    control = _outcomes(of["control"])
    unchanged_before = {q: ok for q, ok in _outcomes(before).items() if q in control}
    log, cost = run.refreshed.get(name), run.costs.get(name)
    trains = family in ("fine-tuning", "both")
    return AfterChange(
        family=family, before=_result([r for r in before if r.id in changed]), stale=_result(of["stale"]),
        refreshed=_result(of["refreshed"]),
        conflict=_conflict(of["stale"]) if family == "both" else None,
        locality=mcnemar(f"{name} (refreshed)", name, control, unchanged_before) if control else None,
        reindex_seconds=cost.reindex_seconds if cost else None,
        update_seconds=round(sum(t.seconds for t in log.runs()), 1) if log else None,
        refresh=refresh if trains else None)


def kept_up(result: AfterChange) -> ConditionResult | None:
    """A system's answers once it has followed the change: refreshed where it trains, else re-indexed."""
    return result.refreshed or result.stale


def change_study(spec: EvalSpec, before: Sequence[Row], after: Sequence[Row], run: RunMeta) -> ChangeStudy | None:
    """The ChangeStudy of a run, or None when the suite has no change set or none of it ran."""
    if spec.change is None or not after:
        return None
    changed = set(spec.change.changed)
    before, after = first_seed(list(before)), first_seed(list(after))
    systems = {}
    for info in spec.systems:
        mine = [r for r in after if r.system == info.name]
        if mine:
            systems[info.name] = _system(info.name, info.family, [r for r in before if r.system == info.name], mine,
                                         changed, run, spec.change.refresh)
    if not systems:
        return None
    paired = _paired(systems, after)
    return ChangeStudy(systems=systems, paired=paired, lines=change_lines(spec, systems, paired, after))


def _outcomes_in(name: str, condition: str, after: Sequence[Row]) -> dict[str, bool]:
    return _outcomes([r for r in after if r.system == name and r.condition == condition])


def best_of_families(systems: dict[str, AfterChange]) -> dict[str, str]:
    """Family -> its system answering the most changed questions once kept up (the suite's order on ties)."""
    best: dict[str, str] = {}
    for name, s in systems.items():
        mine = kept_up(s)
        if s.family == "none" or mine is None or not mine.n:
            continue
        if s.family not in best or mine.accuracy > kept_up(systems[best[s.family]]).accuracy:
            best[s.family] = name
    return best


def _paired(systems: dict[str, AfterChange], after: Sequence[Row]) -> list[Paired]:
    """On the changed questions: the best fine-tuned system (with and without retrieval) against the best
    retrieval one, once both kept up, and with the old adapter."""
    best = best_of_families(systems)
    rag = best.get("retrieval")
    if rag is None:
        return []
    out = []
    for family in ("both", "fine-tuning"):
        name = best.get(family)
        if name is None:
            continue
        theirs = _outcomes_in(rag, "stale", after)  # re-indexing is how retrieval keeps up
        kept = "refreshed" if systems[name].refreshed else "stale"
        out.append(mcnemar(f"{name} (refreshed)", rag, _outcomes_in(name, kept, after), theirs))
        out.append(mcnemar(f"{name} (stale)", rag, _outcomes_in(name, "stale", after), theirs))
    return out


def _n(result: ConditionResult | None, cls: str | None = None) -> int:
    if result is None:
        return 0
    return result.correct if cls is None else result.classes.get(cls, 0)


def _p(p: float | None) -> str:
    return "p = n/a" if p is None else "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _difference(paired: Paired) -> str:
    if paired.difference is None:
        return "no shared questions"
    low, high = paired.difference_ci
    return f"{100 * paired.difference:+.0f} points [{100 * low:+.0f}, {100 * high:+.0f}], {_p(paired.p_value)}"


def _seconds(x: float | None) -> str:
    return "an unmeasured" if x is None else f"a {x:.1f} s"


def _trained_clause(name: str, s: AfterChange) -> str:
    stale = s.stale
    clause = (f"{name} answers {_n(stale)} with its old adapter and {_n(stale, 'OLD')} with the old value"
              + (f" ({_n(stale, 'BOTH')} with both)" if _n(stale, "BOTH") else ""))
    if s.refreshed is not None:
        how = "an update" if s.refresh == "update" else "a full retrain"
        spent = f"{s.update_seconds:.0f} s of training" if s.update_seconds is not None else "training"
        clause += f", until {how} ({spent}) brings it to {_n(s.refreshed)}, {_n(s.refreshed, 'OLD')} still old"
    return clause


def change_lines(spec: EvalSpec, systems: dict[str, AfterChange], paired: Sequence[Paired],
                 after: Sequence[Row]) -> list[str]:
    """The verdict's "If the documents change" lines: who follows a change, at what cost, how sure."""
    change = spec.change
    questions = len(change.changed)
    best = best_of_families(systems)
    parts = []
    if "retrieval" in best:
        name = best["retrieval"]
        s = systems[name]
        parts.append(f"{name} answers {_n(s.stale)} of {questions} with the new value after "
                     f"{_seconds(s.reindex_seconds)} re-index ({_n(s.before)} before the change)")
    parts += [_trained_clause(best[f], systems[best[f]]) for f in ("both", "fine-tuning") if f in best]
    lines = [f"If the documents change: after {len(change.edits)} changed facts ({questions} questions), "
             + "; ".join(parts) + "." if parts else "If the documents change: no system answered after the change."]
    for refreshed, stale in zip(paired[::2], paired[1::2]):
        name = refreshed.a.removesuffix(" (refreshed)")
        lines.append(f"On the changed questions, {name} against {refreshed.b}: kept up, {_difference(refreshed)}"
                     f"{_power_note(refreshed)}; with its old adapter, {_difference(stale)}{_power_note(stale)}.")
    local = [f"{name} {s.locality.only_b} right → wrong, {s.locality.only_a} wrong → right of {s.locality.n} "
             f"({_p(s.locality.p_value)})" for name, s in systems.items() if s.locality is not None]
    if local:
        lines.append("Locality, the unchanged questions after the update against before it: " + "; ".join(local) + ".")
    conflict = [f"{name} {s.conflict.old} of {s.conflict.of}" for name, s in systems.items()
                if s.conflict is not None and s.conflict.of]
    if conflict:
        lines.append("Conflict, old adapters saying the old value though retrieval brought the new evidence: "
                     + "; ".join(conflict) + ".")
    return lines


def _power_note(p: Paired) -> str:
    if p.significant or not p.n:
        return ""
    pw = power(p)
    if pw.needed is None:
        return f" ({p.n} changed questions are too few to separate them)"
    return f" ({p.n} changed questions are too few to separate them; about {pw.needed} would show this difference)"
