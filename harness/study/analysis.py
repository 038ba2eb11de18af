"""A study's figures, computed once from its cells: accuracy against each dimension, whether eval loss and
accuracy moved together, and the verdict (the best setting against the suite's own, with p and seeds)."""
from __future__ import annotations

from typing import Any, Sequence

from harness.results.stats import ALPHA, mcnemar
from harness.study.grid import REFERENCE, value_text
from harness.study.model import CellResult, LossVsAccuracy, Point, Series, Verdict

# An eval loss that moves less than this (relative) has not moved: accuracy need not follow it.
LOSS_STILL = 0.05


def _outcomes(cell: CellResult, seed_key: bool = False) -> dict[Any, bool]:
    return {((cell.seed, q) if seed_key else q): v for q, v in cell.outcomes.items() if v is not None}


def _order(value: Any) -> tuple:
    """Values in their natural order; None (not set: every pair) after the numbers."""
    return (value is None, str(type(value)), value if isinstance(value, (int, float)) else value_text(value))


def series(cells: Sequence[CellResult], dimensions: Sequence[str]) -> list[Series]:
    """For each dimension, the cells that differ in it alone (same seed), as a curve of accuracy."""
    out = []
    for dim in dimensions:
        groups: dict[str, list[CellResult]] = {}
        for cell in cells:
            held = {d: v for d, v in cell.coordinates.items() if d != dim}
            groups.setdefault(repr((sorted(held.items(), key=str), cell.seed)), []).append(cell)
        for members in groups.values():
            by_value: dict[str, list[CellResult]] = {}
            for cell in members:
                by_value.setdefault(repr(cell.coordinates[dim]), []).append(cell)
            if len(by_value) < 2:
                continue
            first = members[0]
            chosen = [_alike(same, members) for same in by_value.values()]
            points = [Point(value=c.coordinates[dim], cell=c.id, accuracy=c.accuracy, interval=c.interval,
                            eval_loss=c.eval_loss) for c in sorted(chosen, key=lambda c: _order(c.coordinates[dim]))]
            out.append(Series(dimension=dim, held={d: v for d, v in first.coordinates.items() if d != dim},
                              seed=first.seed, points=points))
    return out


def _run(cell: CellResult) -> str:
    return cell.adapter.partition("@")[0]


def _alike(same: list[CellResult], members: list[CellResult]) -> CellResult:
    """Of cells with equal settings (the suite's own run, and a grid cell answering from a longer run's
    checkpoint), the one whose run the rest of the series shares most: a curve of one run's checkpoints
    stays one run; else the run of its own."""
    others = [c for c in members if c not in same]
    return max(same, key=lambda c: (sum(_run(o) == _run(c) for o in others), c.checkpoint_of is None))


def held_text(held: dict[str, Any]) -> str:
    return ", ".join(f"{d}={value_text(v) if v is not None else 'all'}" for d, v in held.items()) or "nothing else"


def loss_vs_accuracy(all_series: Sequence[Series], cells: dict[str, CellResult]) -> list[LossVsAccuracy]:
    """From the first point of each series to its last: eval loss against accuracy, with McNemar's p.

    They agree when a loss that fell came with accuracy up significantly, a loss that rose with accuracy
    down significantly, or a loss that stood still with no significant change."""
    out = []
    for s in all_series:
        a, b = cells[s.points[0].cell], cells[s.points[-1].cell]
        if a.eval_loss is None or b.eval_loss is None or not a.eval_loss:
            continue
        loss = (b.eval_loss - a.eval_loss) / a.eval_loss
        paired = mcnemar(b.id, a.id, _outcomes(b), _outcomes(a))
        moved = b.accuracy - a.accuracy
        significant = paired.p_value is not None and paired.p_value < ALPHA
        agree = (abs(loss) < LOSS_STILL and not significant) or (
            significant and (loss <= -LOSS_STILL) == (moved > 0) and abs(loss) >= LOSS_STILL)
        v0, v1 = (value_text(p.value) if p.value is not None else "all" for p in (s.points[0], s.points[-1]))
        verb = "fell" if loss < 0 else "rose"
        p = f"p = {paired.p_value:.2g}" if paired.p_value is not None else "p n/a"
        line = (f"eval loss {verb} {abs(loss):.0%} from {s.dimension}={v0} to {v1} ({held_text(s.held)}, seed {s.seed}) "
                f"while accuracy moved {moved * 100:+.0f} points, {p}"
                + ("" if agree else ": loss and accuracy disagree"))
        out.append(LossVsAccuracy(dimension=s.dimension, held=held_text(s.held), loss_change=loss,
                                  accuracy_change=moved, p_value=paired.p_value, agree=agree, line=line))
    return out


def correlation(cells: Sequence[CellResult]) -> dict[str, float | None]:
    """Spearman's rho of final eval loss against accuracy over the cells (a negative rho: lower loss, better)."""
    points = [(c.eval_loss, c.accuracy) for c in cells if c.eval_loss is not None]
    if len(points) < 3 or len({p[0] for p in points}) < 2 or len({p[1] for p in points}) < 2:
        return {"rho": None, "p_value": None, "cells": len(points)}
    from scipy.stats import spearmanr

    rho, p = spearmanr([p[0] for p in points], [p[1] for p in points])
    return {"rho": float(rho), "p_value": float(p), "cells": len(points)}


def _by_setting(cells: Sequence[CellResult]) -> dict[str, list[CellResult]]:
    out: dict[str, list[CellResult]] = {}
    for cell in cells:
        out.setdefault(cell.label, []).append(cell)
    return out


def _mean(cells: Sequence[CellResult]) -> float:
    return sum(c.accuracy for c in cells) / len(cells)


def verdict(cells: Sequence[CellResult], reference_label: str = REFERENCE) -> Verdict:
    """The best setting (mean accuracy over its seeds) against the suite's own settings, on the seeds both
    ran: McNemar's exact test over (seed, question) pairs, and whether it is ahead in every such seed."""
    settings = _by_setting(cells)
    ranked = sorted(settings, key=lambda label: (-_mean(settings[label]), label != reference_label))
    if reference_label not in settings:  # a grid without the system's own settings: against the runner-up
        reference_label = ranked[1] if len(ranked) > 1 else ranked[0]
    best, reference = settings[ranked[0]], settings[reference_label]
    seeds = sorted({c.seed for c in best} & {c.seed for c in reference})
    pick = lambda group: [c for c in group if c.seed in seeds]  # noqa: E731
    b, r = pick(best), pick(reference)
    outcomes_b = {k: v for c in b for k, v in _outcomes(c, True).items()}
    outcomes_r = {k: v for c in r for k, v in _outcomes(c, True).items()}
    paired = mcnemar(ranked[0], reference_label, outcomes_b, outcomes_r)
    margin = _mean(b) - _mean(r)
    ahead = [x.accuracy > y.accuracy for x, y in zip(sorted(b, key=lambda c: c.seed), sorted(r, key=lambda c: c.seed))]
    holds = all(ahead) if len(seeds) > 1 else None
    lines = _replication_lines(settings, ranked)
    if ranked[0] == reference_label:  # the suite's own settings won (or the study has one setting)
        runner = ranked[1] if len(ranked) > 1 else None
        who = "the suite's own settings are" if reference_label == REFERENCE else f"{reference_label} is"
        headline = (f"{who} the best of {len(settings)} settings, at {_mean(best):.0%}"
                    + (f"; next: {runner} at {_mean(settings[runner]):.0%}" if runner else ""))
    else:
        p = f"p = {paired.p_value:.2g}" if paired.p_value is not None else "p n/a"
        seeds_text = (f", ahead in {sum(ahead)} of {len(ahead)} seeds" if len(seeds) > 1 else
                      f", seed {seeds[0]} only" if seeds else "")
        against = "the suite's settings" if reference_label == REFERENCE else reference_label
        headline = (f"best: {ranked[0]} at {_mean(b):.0%}, {margin * 100:+.0f} points over {against} "
                    f"({_mean(r):.0%}), {p}{seeds_text}"
                    + ("" if paired.p_value is not None and paired.p_value < ALPHA else ": not significant"))
    return Verdict(best=best[0].id, best_label=ranked[0], reference=reference[0].id, margin=margin,
                   margin_ci=paired.difference_ci, p_value=paired.p_value, seeds=seeds, holds_in_every_seed=holds,
                   headline=headline, lines=lines)


def _replication_lines(settings: dict[str, list[CellResult]], ranked: Sequence[str]) -> list[str]:
    """Where settings ran with several seeds: their accuracy in each, and whether their order held."""
    seeded = [label for label in ranked if len(settings[label]) > 1]
    if len(seeded) < 2:
        return [f"{label}: " + ", ".join(f"seed {c.seed} {c.accuracy:.0%}" for c in sorted(settings[label],
                                                                                           key=lambda c: c.seed))
                for label in seeded]
    seeds = sorted(set.intersection(*({c.seed for c in settings[label]} for label in seeded)))
    lines = [f"{label}: " + ", ".join(f"seed {c.seed} {c.accuracy:.0%}" for c in sorted(settings[label],
                                                                                       key=lambda c: c.seed))
             for label in seeded]
    top = seeded[0]
    first = [s for s in seeds if max(seeded, key=lambda label: next(c.accuracy for c in settings[label]
                                                                     if c.seed == s)) == top]
    lines.append(f"{top} is the best of the {len(seeded)} replicated settings in {len(first)} of {len(seeds)} seeds")
    return lines
