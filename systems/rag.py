"""rag: retrieve the top-k chunks, put them in the prompt, then answer.

How it retrieves is set per system: the chunking strategy and size, a retriever kind from
``harness.retrieval.RETRIEVERS`` (dense, bm25, hybrid, late) and an optional rerank stage.
"""
from __future__ import annotations

from typing import Sequence

from harness.inputs.config import Question
from harness.retrieval import Pipeline, RetrievalOptions, make_retriever, retrieval_defaults
from systems import system_kind
from systems.base import Answer, Context


class Rag:
    def __init__(self, name: str, retriever: Pipeline, answerer):
        self.name = name
        self.retriever = retriever
        self.answerer = answerer

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        hits = self.retriever.retrieve([q.question for q in questions])
        generated = self.answerer.answer([q.question for q in questions],
                                         [[h.text for h in row] for row in hits])
        return [Answer.of(g, row) for g, row in zip(generated, hits)]


@system_kind("rag", options=RetrievalOptions, retrieves=True, defaults=retrieval_defaults)
def build(name: str, options: RetrievalOptions, ctx: Context) -> Rag:
    ctx.generator.check_available()
    return Rag(name, make_retriever(options, ctx), ctx.answerer)
