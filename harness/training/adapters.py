"""The LoRA adapters of one run: each loaded from the cache, or trained now, once per settings.

Systems with identical settings share one adapter; every adapter sits on the one shared base
model, switched on only for its own calls. An ``Adapters`` learns from one material: the suite (its
training pairs, its corpus for RAFT's contexts) of the Context it is given, which need not be the
corpus a system retrieves from. After a change of the documents, ``Updated`` brings each adapter up
to date: the old adapter trained further on the changed material alone, or retrained in full.
"""
from __future__ import annotations

from harness.core.cache import DiskCache, cache_key, intact
from harness.core.errors import HarnessError, Unavailable
from harness.inputs.config import LoraSettings
from harness.inputs.trainset import cap_phrasings
from harness.models import AdapterGenerator, HFGenerator
from harness.models.answering import Answerer
from harness.training.corpus import corpus_passages
from harness.training.facts import Facts, cap_per_fact, group_facts
from harness.training.lora import (Adapter, adapter_key, checkpoint, load_adapter, resolve_dtype, train_adapter,
                                   training_rate)


UPDATE_VERSION = 1


class Adapters:
    def __init__(self, material, cache: DiskCache, no_train: bool = False, shard: bool = False):
        # the Context the adapters learn from (systems.base.Context): its suite's pairs and corpus, and its
        # generator, asked for on first use: a run with no LoRA system loads no model for it
        self.material = material
        self.cache = cache
        self.no_train = no_train
        self.shard = shard  # a shard of a run never trains: its adapters were trained before, once
        self._made: dict[str, tuple[Adapter, Answerer]] = {}
        self._facts: dict[tuple, Facts] = {}

    def get(self, settings: LoraSettings, contexts=None, checkpoints: tuple[int, ...] | None = None
            ) -> tuple[Adapter, Answerer]:
        """The adapter for these settings and an Answerer that uses it.

        ``contexts(pairs, seed, material)``, for RAFT, gives the chunk texts each pair is trained with,
        drawn from the material's corpus, and ``contexts.identity(pairs, seed, material)`` what they depend
        on: the key is made of that, and the contexts are drawn only when the adapter is trained.
        ``checkpoints``: a study's run, which saves the adapters after those epochs too (see checkpoint()).
        """
        base, settings = self._base(settings)
        pairs = self._pairs(base, settings)
        return self._made_once(base, self._key(base, settings, pairs, contexts, checkpoints), pairs, settings,
                               self._drawn(contexts, pairs, settings.seed), checkpoints=checkpoints)

    def key(self, settings: LoraSettings, contexts=None, checkpoints: tuple[int, ...] | None = None) -> str:
        base, settings = self._base(settings)
        return self._key(base, settings, self._pairs(base, settings), contexts, checkpoints)

    def _key(self, base: HFGenerator, settings: LoraSettings, pairs, contexts, checkpoints) -> str:
        plan = contexts.identity(pairs, settings.seed, self.material) if contexts else None
        key = adapter_key(base.weights_identity, pairs, settings, plan)
        # a study's run logs more often and saves checkpoints: its own adapter, though its weights are the same
        return key if checkpoints is None else cache_key("study-run", key, sorted(checkpoints))

    def cached(self, settings: LoraSettings, contexts=None, checkpoints: tuple[int, ...] | None = None) -> bool:
        """Whether the adapter for these settings is in the cache (a study's estimate counts what is not)."""
        return intact(self.cache.root / "adapters" / self.key(settings, contexts, checkpoints))

    def pairs(self, settings: LoraSettings):
        """The pairs (or passages) an adapter with these settings trains on, held-out ones included."""
        return self._pairs(*self._base(settings))

    def rate(self, settings: LoraSettings, contexts=None) -> float:
        """Examples trained per second with these settings here (lora.training_rate), RAFT's contexts drawn
        for the few pairs it times."""
        base, settings = self._base(settings)
        pairs = self._pairs(base, settings)[:settings.batch_size * 4]
        return training_rate(base, pairs, settings, contexts(pairs, settings.seed, self.material) if contexts else None)

    def checkpoint(self, settings: LoraSettings, epochs: int, checkpoints: tuple[int, ...], contexts=None
                   ) -> tuple[Adapter, Answerer]:
        """The adapter after ``epochs`` of the run with these settings that saves ``checkpoints``."""
        run, _ = self.get(settings, contexts, checkpoints)
        base, settings = self._base(settings)
        key = f"{run.key}@{epochs}"
        if key not in self._made:
            adapter = checkpoint(run, epochs)
            self._made[key] = adapter, self._answerer(base, adapter, settings)
        return self._made[key]

    def _drawn(self, contexts, pairs, seed: int):
        """RAFT's training contexts, drawn when called (training needs them; a cached adapter does not)."""
        return (lambda: contexts(pairs, seed, self.material)) if contexts else None

    @property
    def suite(self):
        return self.material.suite

    def _base(self, settings: LoraSettings) -> tuple[HFGenerator, LoraSettings]:
        base = self.material.generator
        base.check_available()
        if not isinstance(base, HFGenerator):
            raise Unavailable(f"LoRA needs a local transformers generator; {base.identity} is not one")
        return base, resolve_dtype(settings, base.dtype)

    def _made_once(self, base: HFGenerator, key: str, pairs, settings: LoraSettings, context,
                   start: Adapter | None = None, checkpoints: tuple[int, ...] | None = None
                   ) -> tuple[Adapter, Answerer]:
        if key not in self._made:
            self._made[key] = self._make(base, key, pairs, settings, context, start, checkpoints)
        return self._made[key]

    def update(self, old: Adapters, changed_pairs, settings: LoraSettings, contexts=None) -> tuple[Adapter, Answerer]:
        """``old``'s adapter for these settings, trained further on this material's changed part alone:
        the training pairs whose answers the change moved (RAFT's contexts drawn from the changed corpus),
        or, trained on the corpus, its passages that the change rewrote."""
        stale = old.get(settings, contexts)
        base, settings = self._base(settings)
        if settings.train_on == "corpus":  # offsets move with an edit: a passage is the same by its text
            before = {p.answer for p in old._pairs(base, settings)}
            pairs = tuple(p for p in self._pairs(base, settings) if p.answer not in before)
        else:
            pairs = self._capped(changed_pairs, settings)
        if not pairs:  # nothing this adapter learned has changed
            return stale
        start = stale[0]
        key = cache_key("update", UPDATE_VERSION, start.key, [p.model_dump(exclude_none=True) for p in pairs],
                        contexts.identity(pairs, settings.seed, self.material) if contexts else None)
        return self._made_once(base, key, pairs, settings, self._drawn(contexts, pairs, settings.seed), start)

    def _pairs(self, base: HFGenerator, settings: LoraSettings):
        if settings.train_on == "corpus":
            return corpus_passages(self.suite.documents, base.load_tokenizer(), settings.max_length)
        if self.suite.train_pairs is None:
            raise Unavailable(f"needs {self.suite.config.training.file}: run `harness draft` (then `harness review "
                              "--drafts`), or use lora-docs, which trains on the corpus itself")
        return self._capped(self.suite.train_pairs, settings)

    def _capped(self, pairs, settings: LoraSettings):
        """The pairs kept by ``phrasings`` (per source), then by ``pairs_per_fact``."""
        pairs = cap_phrasings(pairs, settings.phrasings)
        return cap_per_fact(pairs, self.facts(pairs), settings.pairs_per_fact) if settings.pairs_per_fact else pairs

    def facts(self, pairs) -> Facts:
        """The fact of each pair: named in the training file, else clustered with the suite's training embedder."""
        key = tuple(pairs)
        if key not in self._facts:
            unnamed = any(p.fact is None for p in pairs)
            embedder = self.material.embedder(self.suite.config.training.decontamination.embedder) if unnamed else None
            self._facts[key] = group_facts(pairs, embedder.embed if embedder else None)
        return self._facts[key]

    def _make(self, base: HFGenerator, key: str, pairs, settings: LoraSettings, context,
              start: Adapter | None = None, checkpoints: tuple[int, ...] | None = None) -> tuple[Adapter, Answerer]:
        path = self.cache.root / "adapters" / key
        adapter = load_adapter(path, key)  # None when absent, or damaged and discarded
        if adapter is None and self.shard:
            raise HarnessError(f"a shard does not train, and no adapter is cached for these settings: run "
                               f"`harness train --suite {self.suite.root}` once, into the cache the shards share")
        if adapter is None and self.no_train:
            raise Unavailable(f"--no-train and no cached adapter; train it first with "
                              f"`harness train --suite {self.suite.root}`")
        if adapter is None:
            adapter = train_adapter(base, pairs, settings, path, key, contexts=context() if context else None,
                                    start=start, checkpoints=checkpoints)
        return adapter, self._answerer(base, adapter, settings)

    def _answerer(self, base: HFGenerator, adapter: Adapter, settings: LoraSettings) -> Answerer:
        view = AdapterGenerator(base, adapter.key[:16] + adapter.key.partition("@")[2], adapter.path)
        # Trained on pairs, it is asked as it was trained: the question alone. Trained on the documents,
        # it is asked as the base model is: the suite's instructions and worked examples.
        cfg = self.suite.config
        prompt = (cfg.instructions, cfg.examples) if settings.train_on == "corpus" else ("", ())
        return Answerer(lambda: view, view.identity, cfg.generation, *prompt, self.cache)


class Updated:
    """The adapters after a change of the documents, as a Context's ``adapters``: each system's old
    adapter brought up to date (``refresh: update``), or trained anew on the changed material in full
    (``refresh: full``)."""

    def __init__(self, old: Adapters, new: Adapters, changed_pairs, refresh: str):
        self.old, self.new = old, new
        self.changed_pairs = changed_pairs
        self.refresh = refresh

    def get(self, settings: LoraSettings, contexts=None) -> tuple[Adapter, Answerer]:
        if self.refresh == "full":
            return self.new.get(settings, contexts)
        return self.new.update(self.old, self.changed_pairs, settings, contexts)


class Checkpointed:
    """A study's adapters, as a Context's ``adapters``: settings that differ from a longer run's only in a
    whole number of epochs get that run's adapter saved after those epochs (a decaying learning rate
    makes it differ from a shorter run of its own); the rest are trained as themselves."""

    def __init__(self, adapters: Adapters, runs: dict[str, tuple[float, tuple[int, ...]]]):
        self.adapters = adapters
        self.runs = runs  # run_group(settings) -> (the run's epochs, the epochs saved on the way)

    def plan(self, settings: LoraSettings) -> tuple[LoraSettings, tuple[int, ...]]:
        """The run these settings are answered from, and the checkpoints it saves."""
        epochs, saved = self.runs.get(run_group(settings), (settings.epochs, ()))
        return settings.model_copy(update={"epochs": epochs}), saved

    def get(self, settings: LoraSettings, contexts=None) -> tuple[Adapter, Answerer]:
        run, saved = self.plan(settings)
        if settings.epochs in saved:
            return self.adapters.checkpoint(run, int(settings.epochs), saved, contexts)
        return self.adapters.get(run, contexts, saved)


def run_group(settings: LoraSettings) -> str:
    """What runs that may share checkpoints have in common: every setting but epochs."""
    return cache_key("run-group", settings.model_dump(mode="json", exclude={"epochs", "seeds"}))
