"""lora and lora-rag: the shared base model with a LoRA adapter trained on the suite's pairs.

The adapter is trained on demand (or ahead of time with `harness train`) and cached; ``lora``
answers with no context, ``lora-rag`` with the default retriever's chunks. Both use the prompt
they were trained with: the question alone, no instructions or worked examples.
"""
from __future__ import annotations

from typing import Sequence

from harness.config import LoraSettings, Question
from harness.retrieval import Retriever
from harness.system import Answer
from systems import system_kind
from systems.rag import RetrievalOptions, make_retriever, retrieval_defaults


class LoraRagOptions(LoraSettings, RetrievalOptions):
    pass


def _lora_defaults(config) -> dict:
    return config.training.lora.model_dump()


class Lora:
    def __init__(self, name: str, answerer, adapter, retriever: Retriever | None = None):
        self.name = name
        self.answerer = answerer
        self.adapter = adapter  # its training log goes into the report
        self.retriever = retriever

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        texts = [q.question for q in questions]
        hits = self.retriever.retrieve(texts) if self.retriever else None
        contexts = [[h.text for h in row] for row in hits] if hits else None
        generated = self.answerer.answer(texts, contexts)
        return [Answer(g.text, hits[i] if hits else None, g.seconds, g.cached) for i, g in enumerate(generated)]


def _settings(options) -> LoraSettings:
    return LoraSettings(**{k: getattr(options, k) for k in LoraSettings.model_fields})


@system_kind("lora", options=LoraSettings, defaults=_lora_defaults)
def build_lora(name: str, options: LoraSettings, ctx) -> Lora:
    adapter, answerer = ctx.lora(_settings(options))
    return Lora(name, answerer, adapter)


@system_kind("lora-rag", options=LoraRagOptions, retrieves=True,
             defaults=lambda config: {**_lora_defaults(config), **retrieval_defaults(config)})
def build_lora_rag(name: str, options: LoraRagOptions, ctx) -> Lora:
    adapter, answerer = ctx.lora(_settings(options))
    return Lora(name, answerer, adapter, make_retriever(options, ctx))
