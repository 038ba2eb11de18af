"""The run's spec, copied from the suite into results.json: what a report needs to be read alone."""
from __future__ import annotations

from typing import Sequence

from harness.core import environment
from harness.inputs.config import LoraSettings
from harness.results.model import ChangedFact, ChangeSpec, CorpusInfo, Environment, EvalSpec, JudgeLimits, SystemInfo
from harness.suite import Suite
from harness.training.lora import resolve_dtype
from systems import SystemSpec


def system_info(spec: SystemSpec, generation_dtype: str | None = None) -> SystemInfo:
    """A system's settings as it ran: a training ``dtype: auto`` as the generator's dtype resolved it."""
    options = spec.options
    if generation_dtype is not None and isinstance(options, LoraSettings):
        options = resolve_dtype(options, generation_dtype)
    return SystemInfo(name=spec.name, kind=spec.kind, family=spec.family, retrieves=spec.retrieves,
                      settings=options.model_dump(mode="json"),
                      preset={key: (value, stated) for key, value, stated in spec.preset} or None)


def judge_limits(suite: Suite) -> list[JudgeLimits]:
    """The judge's limits for each set of human labels the suite has."""
    checks = []
    if suite.calibration is not None:
        cal = suite.config.calibration
        checks.append(JudgeLimits(name="judge", labels="calibration",
                                  limits={"agreement": cal.min_agreement, "kappa": cal.min_kappa}))
    if suite.real_answers is not None:
        real = suite.config.real_answers
        checks.append(JudgeLimits(name="judge (real answers)", labels="real_answers",
                                  limits={"agreement": real.min_agreement, "kappa": real.min_kappa,
                                          "max_gap": real.max_gap}))
    return checks


def corpus_info(suite: Suite) -> CorpusInfo:
    return CorpusInfo(documents=len(suite.documents), words=sum(len(d.text.split()) for d in suite.documents),
                      hash=suite.corpus_hash)


def change_spec(suite: Suite) -> ChangeSpec | None:
    """The suite's change set as the report needs it: each fact, and the questions after the change."""
    change = suite.change
    if change is None:
        return None
    mentions: dict[str, int] = {}
    for r in change.applied.replaced:
        mentions[r.edit] = mentions.get(r.edit, 0) + 1
    edits = [ChangedFact(id=e.id, fact=e.fact, old=e.old, new=e.new, mentions=mentions.get(e.id, 0),
                         questions=[q for q, edit in change.changed.items() if edit == e.id], pairs=len(e.pairs),
                         derived=e.derived) for e in change.set.edits]
    return ChangeSpec(name=change.set.name, description=change.set.description, refresh=suite.config.changes.refresh,
                      edits=edits, questions=list(change.after.questions), corpus=corpus_info(change.after))


def spec_of(suite: Suite, systems: Sequence[SystemSpec], *, generator: str, judge: str, judge_model: str | None,
            self_grading: bool, generation: str | None = None, generation_dtype: str | None = None) -> EvalSpec:
    """The spec of a run of ``systems`` on ``suite``, with the generator and judge it used, and
    ``generation_dtype`` the dtype a local generator computes in (None for a server's)."""
    return EvalSpec(
        suite=suite.name, suite_dir=str(suite.root.resolve()),
        corpus=corpus_info(suite), change=change_spec(suite),
        questions=list(suite.questions), systems=[system_info(s, generation_dtype) for s in systems],
        example_answers=[e.answer for e in suite.config.examples], thresholds=suite.config.thresholds,
        judge_checks=judge_limits(suite), generator=generator, judge=judge, judge_model=judge_model,
        self_grading=self_grading, environment=Environment(**environment.snapshot(), generation=generation))
