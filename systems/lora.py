"""lora and lora-rag: the shared base model with a LoRA adapter trained on the suite's pairs, or
with ``train_on: corpus`` on the documents themselves (the built-in lora-docs and lora-docs-rag).

The adapter is trained on demand (or ahead of time with `harness train`) and cached; ``lora``
answers with no context, ``lora-rag`` with the default retriever's chunks. Both use the prompt
they were trained with: on pairs, the question alone, no instructions or worked examples; on the
corpus, the suite's own prompt. With ``seeds: [0, 1, 2]`` a system trains one adapter per seed and
answers with each.
"""
from __future__ import annotations

from typing import Sequence

from harness.inputs.config import LoraSettings, Question
from harness.retrieval import RetrievalOptions, Retriever, make_retriever, retrieval_defaults
from systems import system_kind
from systems.base import Answer, Context


class LoraRagOptions(LoraSettings, RetrievalOptions):
    pass


def lora_defaults(config) -> dict:
    return config.training.lora.model_dump()


class Lora:
    def __init__(self, name: str, adapters: list[tuple], retriever: Retriever | None = None, seeded: bool = False):
        self.name = name
        self.adapters = adapters  # [(seed, Adapter, Answerer)]; each adapter's training log goes into the report
        self.adapter = adapters[0][1]
        self.retriever = retriever
        self.seeded = seeded

    @property
    def training_log(self) -> dict:
        log = {**self.adapter.log, "adapter": self.adapter.key[:16]}
        if self.seeded:
            log["seeds"] = [{**a.log, "seed": seed, "adapter": a.key[:16]} for seed, a, _ in self.adapters]
        return log

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        texts = [q.question for q in questions]
        hits = self.retriever.retrieve(texts) if self.retriever else None
        contexts = [[h.text for h in row] for row in hits] if hits else None
        per_seed = [(seed, answerer.answer(texts, contexts)) for seed, _, answerer in self.adapters]

        def answer(generated, i: int, by_seed=()) -> Answer:
            return Answer.of(generated[i], hits[i] if hits else None, by_seed)

        return [answer(per_seed[0][1], i, tuple((seed, answer(gen, i)) for seed, gen in per_seed)
                       if self.seeded else ()) for i in range(len(texts))]


def settings_of(options) -> LoraSettings:
    return LoraSettings(**{k: getattr(options, k) for k in LoraSettings.model_fields})


def lora_adapters(options, ctx: Context, contexts=None) -> list[tuple]:
    """[(seed, Adapter, Answerer)], one per seed: cached, or trained now."""
    settings = settings_of(options)
    seeds = settings.seeds or [settings.seed]
    return [(seed, *ctx.adapters.get(settings.model_copy(update={"seed": seed}), contexts)) for seed in seeds]


def build_lora_family(name: str, options, ctx: Context, retriever: Retriever | None = None, contexts=None) -> Lora:
    adapters = lora_adapters(options, ctx, contexts)
    return Lora(name, adapters, retriever, seeded=len(adapters) > 1)


@system_kind("lora", options=LoraSettings, trains=True, defaults=lora_defaults)
def build_lora(name: str, options: LoraSettings, ctx: Context) -> Lora:
    return build_lora_family(name, options, ctx)


@system_kind("lora-rag", options=LoraRagOptions, retrieves=True, trains=True,
             defaults=lambda config: {**lora_defaults(config), **retrieval_defaults(config)})
def build_lora_rag(name: str, options: LoraRagOptions, ctx: Context) -> Lora:
    return build_lora_family(name, options, ctx, make_retriever(options, ctx))
