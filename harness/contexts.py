"""The Contexts systems and judges are built with: the models of one process, shared (SharedModels), and
the same after the documents changed (ChangedModels), one per condition of the change study.

Models load lazily and once: every system shares one generator, embedders are shared by name, LoRA
adapters by settings.
"""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from harness.core.cache import DEFAULT_DIR, DiskCache
from harness.judges import Judge, make_judge
from harness.judges.replay import ReplayJudge
from harness.core.errors import HarnessError, did_you_mean
from harness.models import Generator, HFGenerator, make_generator
from harness.models.answering import Answerer
from harness.retrieval.embedders import Embedder, make_embedder
from harness.suite import Suite
from harness.training.adapters import Adapters, Updated


class SharedModels:
    """The models of one process, each loaded on first use and shared: one generator per spec (a
    judge on the suite's model shares its weights), embedders by name, LoRA adapters by settings.
    It is the Context that system kinds and judges are built with."""

    def __init__(self, suite: Suite, generator: str | None = None, cache_dir: str | Path = DEFAULT_DIR,
                 no_train: bool = False, shard: bool = False):
        # Models come from local paths and the local HF cache only (see harness.models.hub);
        # set before transformers/huggingface_hub are imported, which read it once.
        os.environ["HF_HUB_OFFLINE"] = "1"
        self.suite = suite
        self.generator_spec = generator or suite.config.generator
        self.cache = DiskCache(cache_dir)
        self.adapters = Adapters(self, self.cache, no_train, shard)
        self._generators: dict[str, Generator] = {}
        self._embedders: dict[str, Embedder] = {}

    def generator_for(self, spec: str) -> Generator:
        if spec not in self._generators:
            self._generators[spec] = make_generator(spec, self.suite.config.generation, self.cache.root)
        return self._generators[spec]

    @property
    def generator(self) -> Generator:
        return self.generator_for(self.generator_spec)

    @cached_property
    def answerer(self) -> Answerer:
        cfg = self.suite.config
        return Answerer(lambda: self.generator, self.generator.identity, cfg.generation,
                        cfg.instructions, cfg.examples, self.cache)

    def embedder(self, name: str) -> Embedder:
        if name not in self._embedders:
            self._embedders[name] = make_embedder(name, self.generator)
        return self._embedders[name]


class ChangedModels:
    """The Context after the documents changed: the changed corpus to retrieve from, the run's one
    generator and embedders, and adapters as a condition has them (the old ones, or ``Updated``)."""

    def __init__(self, before: SharedModels, suite: Suite, adapters=None):
        self.suite = suite
        self.cache = before.cache
        self.adapters = adapters
        self._before = before

    @property
    def generator(self) -> Generator:
        return self._before.generator

    @property
    def answerer(self) -> Answerer:
        return self._before.answerer  # the prompt is the suite's instructions and examples, not its corpus

    def embedder(self, name: str) -> Embedder:
        return self._before.embedder(name)


def change_contexts(models: SharedModels, no_train: bool, shard: bool) -> dict[str | None, object]:
    """The Context of each condition: None is the ordinary run's."""
    contexts: dict[str | None, object] = {None: models}
    change = models.suite.change
    if change is None:
        return contexts
    contexts["stale"] = ChangedModels(models, change.after, models.adapters)  # exactly the old adapters
    refreshed = ChangedModels(models, change.after)
    refreshed.adapters = Updated(models.adapters, Adapters(refreshed, models.cache, no_train, shard),
                                 change.applied.changed_pairs, models.suite.config.changes.refresh)
    contexts["refreshed"] = refreshed
    return contexts


def make_run_judge(models: SharedModels, name: str | None = None, replay: str | Path | None = None) -> Judge:
    """The suite's judge (or the one named), or a replay of a results.json's verdicts."""
    if replay:
        return ReplayJudge(replay)
    config = models.suite.config.judge
    return make_judge(config.model_copy(update={"name": name}) if name else config, models)


def check_lora_targets(models: SharedModels, named: list[tuple[str, object]]) -> None:
    """LoRA target modules that are no linear layer of the base model stop a run before it starts (where
    the model's files name them: else training checks them, training.lora check_fits). ``named``: (what, options)."""
    chosen = [(what, options) for what, options in named
              if getattr(options, "target_modules", "all-linear") != "all-linear"]
    generator = models.generator if chosen else None
    names = generator.linear_layer_names() if isinstance(generator, HFGenerator) else None
    for what, options in chosen if names else ():
        missing = sorted(set(options.target_modules) - names)
        if missing:
            raise HarnessError(f"{what}: LoRA target modules {missing} are not linear layers of "
                               f"{generator.model_name}{did_you_mean(missing[0], names)}")
