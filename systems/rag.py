"""rag: retrieve the top-k chunks with an embedder, put them in the prompt, then answer."""
from __future__ import annotations

from typing import Literal, Sequence

from pydantic import Field, model_validator

from harness.config import Question, Strict
from harness.retrieval import Retriever
from harness.system import Answer
from systems import system_kind


class RetrievalOptions(Strict):
    embedder: str = "minilm"
    similarity: Literal["dot", "cosine"] = "cosine"
    k: int = Field(gt=0)
    chunk_tokens: int = Field(gt=0)
    chunk_overlap: int = Field(ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self):
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self


def retrieval_defaults(config) -> dict:
    return {"k": config.top_k, "chunk_tokens": config.chunking.tokens, "chunk_overlap": config.chunking.overlap}


def make_retriever(options: RetrievalOptions, ctx) -> Retriever:
    embedder = ctx.embedder(options.embedder)
    embedder.check_available()
    return Retriever(embedder, ctx.suite.documents, ctx.suite.corpus_hash, ctx.cache, k=options.k,
                     similarity=options.similarity, chunk_tokens=options.chunk_tokens,
                     chunk_overlap=options.chunk_overlap)


class Rag:
    def __init__(self, name: str, retriever: Retriever, answerer):
        self.name = name
        self.retriever = retriever
        self.answerer = answerer

    def answer(self, questions: Sequence[Question]) -> list[Answer]:
        hits = self.retriever.retrieve([q.question for q in questions])
        generated = self.answerer.answer([q.question for q in questions],
                                         [[h.text for h in row] for row in hits])
        return [Answer(g.text, row, g.seconds, g.cached) for g, row in zip(generated, hits)]


@system_kind("rag", options=RetrievalOptions, retrieves=True, defaults=retrieval_defaults)
def build(name: str, options: RetrievalOptions, ctx) -> Rag:
    ctx.generator.check_available()
    return Rag(name, make_retriever(options, ctx), ctx.answerer)
