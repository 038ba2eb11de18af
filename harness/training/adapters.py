"""The LoRA adapters of one run: each loaded from the cache, or trained now, once per settings.

Systems with identical settings share one adapter; every adapter sits on the one shared base
model, switched on only for its own calls.
"""
from __future__ import annotations

from typing import Callable

from harness.core.cache import DiskCache
from harness.core.errors import HarnessError, Unavailable
from harness.inputs.config import LoraSettings
from harness.inputs.trainset import cap_phrasings
from harness.models import AdapterGenerator, Generator, HFGenerator
from harness.models.answering import Answerer
from harness.training.corpus import corpus_passages
from harness.training.lora import Adapter, adapter_key, load_adapter, resolve_dtype, train_adapter


class Adapters:
    def __init__(self, base: Callable[[], Generator], suite, cache: DiskCache, no_train: bool = False,
                 shard: bool = False):
        self._base = base  # called on first use: a run with no LoRA system loads no model for it
        self.suite = suite
        self.cache = cache
        self.no_train = no_train
        self.shard = shard  # a shard of a run never trains: its adapters were trained before, once
        self._made: dict[str, tuple[Adapter, Answerer]] = {}

    def get(self, settings: LoraSettings, contexts=None) -> tuple[Adapter, Answerer]:
        """The adapter for these settings and an Answerer that uses it.

        ``contexts(pairs, seed)``, for RAFT, gives the chunk texts each pair is trained with.
        """
        base = self._base()
        base.check_available()
        if not isinstance(base, HFGenerator):
            raise Unavailable(f"LoRA needs a local transformers generator; {base.identity} is not one")
        settings = resolve_dtype(settings, base.dtype)
        pairs = self._pairs(base, settings)
        context = contexts(pairs, settings.seed) if contexts else None
        key = adapter_key(base.weights_identity, pairs, settings, context)
        if key not in self._made:
            self._made[key] = self._make(base, key, pairs, settings, context)
        return self._made[key]

    def _pairs(self, base: HFGenerator, settings: LoraSettings):
        if settings.train_on == "corpus":
            return corpus_passages(self.suite.documents, base.load_tokenizer(), settings.max_length)
        if self.suite.train_pairs is None:
            raise Unavailable(f"needs {self.suite.config.training.file}: run `harness draft` (then `harness review "
                              "--drafts`), or use lora-docs, which trains on the corpus itself")
        return cap_phrasings(self.suite.train_pairs, settings.phrasings)

    def _make(self, base: HFGenerator, key: str, pairs, settings: LoraSettings, context) -> tuple[Adapter, Answerer]:
        path = self.cache.root / "adapters" / key
        adapter = load_adapter(path, key)  # None when absent, or damaged and discarded
        if adapter is None and self.shard:
            raise HarnessError(f"a shard does not train, and no adapter is cached for these settings: run "
                               f"`harness train --suite {self.suite.root}` once, into the cache the shards share")
        if adapter is None and self.no_train:
            raise Unavailable(f"--no-train and no cached adapter; train it first with "
                              f"`harness train --suite {self.suite.root}`")
        if adapter is None:
            adapter = train_adapter(base, pairs, settings, path, key, contexts=context)
        view = AdapterGenerator(base, key[:16], adapter.path)
        # Trained on pairs, it is asked as it was trained: the question alone. Trained on the documents,
        # it is asked as the base model is: the suite's instructions and worked examples.
        cfg = self.suite.config
        prompt = (cfg.instructions, cfg.examples) if settings.train_on == "corpus" else ("", ())
        return adapter, Answerer(lambda: view, view.identity, cfg.generation, *prompt, self.cache)
