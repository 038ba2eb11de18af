"""The LoRA adapters of one run: each loaded from the cache, or trained now, once per settings.

Systems with identical settings share one adapter; every adapter sits on the one shared base
model, switched on only for its own calls. An ``Adapters`` learns from one material: the suite (its
training pairs, its corpus for RAFT's contexts) of the Context it is given, which need not be the
corpus a system retrieves from. After a change of the documents, ``Updated`` brings each adapter up
to date: the old adapter trained further on the changed material alone, or retrained in full.
"""
from __future__ import annotations

from harness.core.cache import DiskCache, cache_key
from harness.core.errors import HarnessError, Unavailable
from harness.inputs.config import LoraSettings
from harness.inputs.trainset import cap_phrasings
from harness.models import AdapterGenerator, HFGenerator
from harness.models.answering import Answerer
from harness.training.corpus import corpus_passages
from harness.training.lora import Adapter, adapter_key, load_adapter, resolve_dtype, train_adapter


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

    def get(self, settings: LoraSettings, contexts=None) -> tuple[Adapter, Answerer]:
        """The adapter for these settings and an Answerer that uses it.

        ``contexts(pairs, seed, material)``, for RAFT, gives the chunk texts each pair is trained with,
        drawn from the material's corpus, and ``contexts.identity(pairs, seed, material)`` what they depend
        on: the key is made of that, and the contexts are drawn only when the adapter is trained.
        """
        base, settings = self._base(settings)
        pairs = self._pairs(base, settings)
        plan = contexts.identity(pairs, settings.seed, self.material) if contexts else None
        return self._made_once(base, adapter_key(base.weights_identity, pairs, settings, plan), pairs, settings,
                               self._drawn(contexts, pairs, settings.seed))

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
                   start: Adapter | None = None) -> tuple[Adapter, Answerer]:
        if key not in self._made:
            self._made[key] = self._make(base, key, pairs, settings, context, start)
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
            pairs = cap_phrasings(changed_pairs, settings.phrasings)
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
        return cap_phrasings(self.suite.train_pairs, settings.phrasings)

    def _make(self, base: HFGenerator, key: str, pairs, settings: LoraSettings, context,
              start: Adapter | None = None) -> tuple[Adapter, Answerer]:
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
                                    start=start)
        view = AdapterGenerator(base, key[:16], adapter.path)
        # Trained on pairs, it is asked as it was trained: the question alone. Trained on the documents,
        # it is asked as the base model is: the suite's instructions and worked examples.
        cfg = self.suite.config
        prompt = (cfg.instructions, cfg.examples) if settings.train_on == "corpus" else ("", ())
        return adapter, Answerer(lambda: view, view.identity, cfg.generation, *prompt, self.cache)


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
