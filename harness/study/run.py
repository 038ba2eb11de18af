"""``harness study``: every cell of a grid over one fine-tuned system's settings trained (once, into the
cache: an interrupted study resumes), asked the suite's questions and judged.

Cells are built by the system's own kind, with the study's adapters (training.adapters.Checkpointed) in
their Context: a cell whose settings differ from a longer run's only in whole epochs answers from that
run's adapter saved after its epochs. The estimate builds every cell the same way with adapters that
train nothing (``Planned``), so it counts exactly the runs the study will train.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Sequence

from harness.contexts import ChangedModels, SharedModels
from harness.core import progress
from harness.core.errors import HarnessError
from harness.core.memory import peak_rss
from harness.inputs.config import LoraSettings
from harness.models.prompts import PromptParts
from harness.results.model import TrainingLog
from harness.results.stats import wilson
from harness.study.grid import Cell
from harness.study.model import CellResult
from harness.training.adapters import Checkpointed, run_group
from systems import KINDS, SystemSpec
from systems.base import retriever_of
from systems.lora import settings_of


def runs(cells: Sequence[Cell]) -> dict[str, tuple[float, tuple[int, ...]]]:
    """Per run group (settings but epochs): the longest epochs asked, and the whole epochs below it that
    cells answer from, saved on the way."""
    epochs: dict[str, set[float]] = {}
    for cell in cells:
        settings = settings_of(cell.options)
        epochs.setdefault(run_group(settings), set()).add(settings.epochs)
    plan = {}
    for group, asked in epochs.items():
        longest = max(asked)
        plan[group] = longest, tuple(sorted(int(e) for e in asked if e < longest and e == int(e)))
    return plan


class Plan:
    """The adapters each cell answers from: the system's own settings train as themselves; a grid cell
    that differs from a longer run in whole epochs alone answers from that run's checkpoint."""

    def __init__(self, adapters, cells: Sequence[Cell]):
        self.own = Checkpointed(adapters, {})
        self.grid = Checkpointed(adapters, runs([c for c in cells if not c.own]))

    def of(self, cell: Cell) -> Checkpointed:
        return self.own if cell.own else self.grid

    def needed(self, cells: Sequence[Cell]) -> list[Cell]:
        """The cells less the grid cells that would train exactly the run of the system's own settings."""
        own = {_identity(c) for c in cells if c.own}

        def checkpoint(cell: Cell) -> bool:
            settings = settings_of(cell.options)
            return settings.epochs in self.grid.plan(settings)[1]

        return [c for c in cells if c.own or _identity(c) not in own or checkpoint(c)]


def _identity(cell: Cell) -> str:
    return json.dumps(cell.options.model_dump(mode="json"), sort_keys=True)


class Planned:
    """Adapters that train nothing: what a cell would train, found through its own build (``todo``, shared
    by the cells: run key -> (settings, RAFT's contexts, pairs))."""

    def __init__(self, adapters: Checkpointed, todo: dict):
        self.adapters = adapters
        self.todo = todo
        self.trains = False  # whether this cell's adapter comes from a run still to train

    def get(self, settings: LoraSettings, contexts=None):
        run, saved = self.adapters.plan(settings)
        inner = self.adapters.adapters
        if not inner.cached(run, contexts, saved):
            self.todo.setdefault(inner.key(run, contexts, saved), (run, contexts, len(inner.pairs(run))))
            self.trains = True
        return None, None


@dataclass
class Estimate:
    train_seconds: float
    answer_seconds: float
    cells: int  # cells whose answers are to be generated
    rates: dict[str, float]  # training shape -> examples per second measured
    fresh: set[str]  # the keys of the runs to train
    per_cell: dict[str, float]  # cell id -> its estimated seconds (the runs it is the first to need, its answers)

    @property
    def seconds(self) -> float:
        return self.train_seconds + self.answer_seconds

    def line(self) -> str:
        rates = ", ".join(f"{r:.1f} examples/s ({shape})" for shape, r in self.rates.items())
        return (f"estimate: {self.seconds / 60:.1f} min: {len(self.fresh)} training runs {self.train_seconds / 60:.1f} min"
                + (f" at {rates}" if rates else "") + f", answers of {self.cells} cells {self.answer_seconds / 60:.1f} min")


def _shape(settings: LoraSettings, contexts) -> str:
    """What a step's cost depends on, for the rate measured once per shape."""
    targets = "+".join(settings.target_modules) if isinstance(settings.target_modules, list) else settings.target_modules
    return (f"{targets}, rank {settings.rank}, batch {settings.batch_size}, length {settings.max_length}"
            + (", with contexts" if contexts else ""))


def _answer_rate(models: SharedModels, systems: dict, spec: SystemSpec, questions) -> float:
    """Seconds per answer: one batch of the suite's questions, asked of the base model as the cells ask
    (their retrieved chunks too), timed after the model is loaded."""
    batch = [q.question for q in questions[:models.suite.config.generation.batch_size]]
    retriever = retriever_of(next(iter(systems.values())))
    contexts = [[h.text for h in hits] for hits in retriever.retrieve(batch)] if retriever else [None] * len(batch)
    cfg = models.suite.config
    prompt = (cfg.instructions, tuple(cfg.examples)) if spec.options.train_on == "corpus" else ("", ())
    generator = models.generator
    generator.generate([PromptParts(*prompt, None, batch[0])])  # loads the model
    began = time.perf_counter()
    generator.generate([PromptParts(*prompt, tuple(c) if c else None, q) for q, c in zip(batch, contexts)])
    return (time.perf_counter() - began) / len(batch)


def estimate(models: SharedModels, spec: SystemSpec, cells: Sequence[Cell], plan: Plan, questions) -> Estimate:
    """What the cells not in the cache will cost: each run to train at the rate measured for its shape, and
    the answers of the cells it serves at the base model's measured rate."""
    todo: dict = {}
    kind = KINDS.get(spec.kind)
    systems, answering, trains = {}, [], {}
    for cell in cells:
        planned, before = Planned(plan.of(cell), todo), set(todo)
        systems[cell.id] = kind.build(cell.id, cell.options, ChangedModels(models, models.suite, planned))
        answering += [cell.id] * planned.trains
        trains[cell.id] = set(todo) - before  # the runs this cell, the first to need them, trains
    rates: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for key, (run, contexts, pairs) in todo.items():
        shape = _shape(run, contexts)
        if shape not in rates:
            rates[shape] = plan.own.adapters.rate(run, contexts)
        seconds[key] = pairs * (1 - run.eval_fraction) * run.epochs / rates[shape]
    per_answer = _answer_rate(models, systems, spec, questions) if answering else 0.0
    per_cell = {cell.id: sum(seconds[k] for k in trains[cell.id]) + per_answer * len(questions) * (cell.id in answering)
                for cell in cells}
    return Estimate(sum(seconds.values()), per_answer * len(questions) * len(answering), len(answering), rates,
                    set(todo), per_cell)


def run_cell(models: SharedModels, spec: SystemSpec, cell: Cell, adapters, judge, questions,
             dimensions: Sequence[str], fresh: set[str]) -> CellResult:
    """One cell: its adapter trained (or found), its answers to the suite's questions, judged. ``fresh``:
    the keys of the runs still to train; the cell that trains one takes it out."""
    peak: dict[str, float] = {}
    with progress.scope(f"{cell.id} ({cell.label}, seed {cell.seed})"), peak_rss(peak, "cell"):
        system = KINDS.get(spec.kind).build(cell.id, cell.options, ChangedModels(models, models.suite, adapters))
        answers = system.answer(questions)
    adapter = system.adapter
    run_key = adapter.key.partition("@")[0]
    trained_now = run_key in fresh
    fresh.discard(run_key)
    outcomes = {q.id: judge.grade(q, a.text).correct for q, a in zip(questions, answers)}
    judged = [v for v in outcomes.values() if v is not None]
    log = adapter.log
    typed = TrainingLog.model_validate(log)
    train, held = typed.on_epochs(typed.train), typed.on_epochs(typed.eval)
    return CellResult(
        id=cell.id, label=cell.label, coordinates={d: getattr(cell.options, d) for d in dimensions},
        seed=cell.seed, adapter=adapter.key[:16] + adapter.key[len(run_key):], checkpoint_of=log.get("checkpoint_of"),
        pairs=log["examples"], outcomes=outcomes, correct=sum(judged), n=len(judged),
        accuracy=sum(judged) / len(judged) if judged else 0.0, interval=wilson(sum(judged), len(judged)),
        train_loss=train[-1][1] if train else None, eval_loss=held[-1][1] if held else None,
        curve_train=train, curve_eval=held, train_seconds=float(log["seconds"]), trained_now=trained_now,
        peak_rss_mb=peak.get("cell"))


def check_budget(estimate: Estimate, budget_minutes: float | None) -> None:
    if budget_minutes is not None and estimate.seconds > budget_minutes * 60:
        raise HarnessError(f"the study's {estimate.line()}, passes --budget {budget_minutes:g} min: drop cells "
                           "or dimensions, or raise --budget (nothing was trained)")


def run_study(suite, grid, grid_path, raw, *, generator: str | None = None, cache_dir=None,
              budget_minutes: float | None = None, say=print):
    """The study: cells expanded, estimated (refused over budget before anything trains), run, analysed."""
    from datetime import datetime, timezone

    from harness.contexts import check_lora_targets, make_run_judge
    from harness.study import analysis
    from harness.study.grid import expand, replicates, study_system
    from harness.study.model import StudyResult
    began = time.perf_counter()
    spec = study_system(suite, grid, grid_path, raw)
    cells = expand(spec, grid, grid_path, raw)
    models = SharedModels(suite, generator, cache_dir)
    check_lora_targets(models, [(f"cell {c.label}", c.options) for c in cells])
    dimensions = list(dict.fromkeys(d for part in grid.parts for d in part))
    questions = list(suite.questions)
    judge = make_run_judge(models)
    notes = []
    facts = None
    if "pairs_per_fact" in dimensions:
        found = models.adapters.facts(models.adapters.pairs(settings_of(spec.options)))
        facts = found.describe(suite.config.training.decontamination.embedder)
        say(f"facts: {facts}")

    results: dict[str, CellResult] = {}
    total_estimate = 0.0
    for stage, stage_cells in enumerate((cells, None)):
        if stage_cells is None:  # the replicate seeds of the best settings, once the first stage is judged
            stage_cells = replicates(spec, grid, grid_path, cells, {c: r.accuracy for c, r in results.items()})
            if not stage_cells:
                break
            cells = cells + stage_cells
        plan = Plan(models.adapters, cells)
        stage_cells = plan.needed(stage_cells)
        cells = plan.needed(cells)
        guess = estimate(models, spec, stage_cells, plan, questions)
        say(f"{len(stage_cells)} cells{' (replicates)' if stage else ''}; {guess.line()}")
        check_budget(guess, None if budget_minutes is None else budget_minutes - total_estimate / 60)
        total_estimate += guess.seconds
        fresh = set(guess.fresh)
        # the bar counts estimated seconds, so that its time left is the estimate's, scaled by the pace so far
        # (cells, where everything is cached)
        weight = {c.id: round(guess.per_cell[c.id]) if guess.seconds >= 1 else 1 for c in stage_cells}
        unit = "estimated s" if guess.seconds >= 1 else "cells, cached"
        with progress.progress("study", total=sum(weight.values()), unit=unit) as bar:
            for i, cell in enumerate(stage_cells, 1):
                results[cell.id] = run_cell(models, spec, cell, plan.of(cell), judge, questions, dimensions, fresh)
                bar.update(weight[cell.id], cells=f"{i}/{len(stage_cells)}", accuracy=results[cell.id].accuracy)
    if any(r.checkpoint_of for r in results.values()):
        notes.append("cells with fewer epochs answer from the adapter of a longer run saved after their epochs; "
                     "its learning rate decays over the longer run, so such a checkpoint differs from a shorter "
                     "run of its own")
    ordered = [results[c.id] for c in cells]
    all_series = analysis.series(ordered, dimensions)
    return StudyResult(
        suite=suite.name, system=spec.name, kind=spec.kind, trained_on=spec.options.train_on, generator=models.generator.identity,
        judge=judge.identity, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        grid=grid.model_dump(mode="json"), dimensions=dimensions, facts=facts, questions=[q.id for q in questions],
        cells=ordered, series=all_series,
        loss_vs_accuracy=analysis.loss_vs_accuracy(all_series, results), correlation=analysis.correlation(ordered),
        verdict=analysis.verdict(ordered), estimate_seconds=round(total_estimate, 1),
        seconds=round(time.perf_counter() - began, 1), notes=notes)

