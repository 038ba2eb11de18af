"""raft: a LoRA adapter trained with retrieved context in the prompt (RAFT, Zhang et al. 2024).

Each training pair's prompt carries, in the layout the RAG systems use, the chunk of its source
passage (the oracle) and distractor chunks from the named retriever, shuffled; a fraction
``1 - oracle_fraction`` of the pairs gets the distractors alone. At inference it answers with
retrieval, exactly like lora-rag. The adapter's cache key covers every training prompt, so
retrieval settings, chunking and corpus are all in it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from pydantic import Field

from harness.core.cache import cache_key
from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.config import LoraSettings
from harness.inputs.evidence import Span
from harness.inputs.trainset import TrainPair, resolve_source
from harness.retrieval import Hit, make_retriever
from harness.retrieval.build import retrieval_identity
from systems import system_kind
from systems.base import Context
from systems.lora import Lora, build_lora_family, lora_defaults

# Budget defaults: a prompt with two chunks is about 240 tokens against about 30
# for a bare pair. One epoch, one distractor and one phrasing per fact (75 pairs here) keep the default
# suite's cold run within its time budget; max_length is only a ceiling (batches pad to their longest row).
BUDGET = {"epochs": 1, "phrasings": 1, "max_length": 512}
PLAN_VERSION = 1  # plan_examples: how a pair's context is drawn from the ranking


class RaftOptions(LoraSettings):
    retriever: str = "rag-minilm"  # a system of the suite that retrieves: its embedder and chunking
    k: int = Field(gt=0)  # chunks retrieved at inference
    distractors: int = Field(1, ge=0)  # distractor chunks in each training prompt
    oracle_fraction: float = Field(0.8, ge=0, le=1)  # training prompts that hold the oracle chunk


def _defaults(config) -> dict:
    return {**lora_defaults(config), **BUDGET, "k": config.top_k}


def _retrievers(specs: Sequence) -> list[str]:
    return [s.name for s in specs if s.retrieves and s.kind != "raft"]


def _check(options: RaftOptions, specs: tuple) -> None:
    if options.train_on != "pairs":
        raise ValueError("raft trains on pairs with their retrieved chunks; train_on: corpus is for lora and lora-rag")
    if options.retriever not in _retrievers(specs):
        raise ValueError(f"unknown retriever {options.retriever!r}: name a system of the suite that retrieves"
                         f"{did_you_mean(options.retriever, _retrievers(specs))}")


@dataclass(frozen=True)
class RaftExample:
    context: tuple[str, ...]  # chunk texts, in prompt order
    oracle: str | None  # the oracle chunk's text, when the prompt holds it


def _overlap(chunk: Span | Hit, passage: Span) -> int:
    if chunk.source != passage.source:
        return 0
    return max(0, min(chunk.end, passage.end) - max(chunk.start, passage.start))


def _oracle(hits: Sequence[Hit], passage: Span) -> Hit | None:
    """The highest-ranked chunk holding the whole passage or lying at least half inside it, else the one
    overlapping it most; None when no chunk touches it."""
    whole = passage.end - passage.start
    inside = next((h for h in hits if _overlap(h, passage) == whole or 2 * _overlap(h, passage) >= h.end - h.start),
                  None)
    best = inside or max(hits, key=lambda h: _overlap(h, passage), default=None)
    return best if best is not None and _overlap(best, passage) else None


def plan_examples(pairs: Sequence[TrainPair], passages: Sequence[Span], ranked: Sequence[Sequence[Hit]],
                  distractors: int, oracle_fraction: float, seed: int) -> list[RaftExample]:
    """Each pair's training context, from the retriever's ranking of every chunk for its question.

    The oracle is the chunk of the pair's source passage that the retriever ranks highest: one that
    holds the whole passage or lies at least half inside it (else the chunk overlapping it most).
    Distractors are the highest-ranked chunks that do not touch the passage.
    ``round(oracle_fraction * n)`` pairs, chosen by ``seed``, get the oracle.
    """
    rng = random.Random(seed)
    with_oracle = set(rng.sample(range(len(pairs)), round(oracle_fraction * len(pairs))))
    examples = []
    for i, (pair, passage, hits) in enumerate(zip(pairs, passages, ranked)):
        oracle = _oracle(hits, passage)
        others = [h.text for h in hits if not _overlap(h, passage)][:distractors]
        if oracle is None or len(others) < distractors:
            raise HarnessError(f"training pair {pair.question!r} (source {pair.source!r}): "
                               + ("no chunk lies in its source passage" if oracle is None else
                                  f"only {len(others)} chunks lie outside its source passage; lower distractors"))
        context = others + [oracle.text] if i in with_oracle else others
        rng.shuffle(context)
        examples.append(RaftExample(tuple(context), oracle.text if i in with_oracle else None))
    return examples


class RaftPlanner:
    """``planner(pairs, seed)``: the context of each training pair (what the adapter is trained with);
    ``planner.identity(pairs, seed)``: what those contexts depend on besides the pairs, for the adapter's
    key, without ranking every chunk for every pair as drawing them does."""

    def __init__(self, name: str, options: RaftOptions, retriever_options, ctx):
        self.name, self.options, self.ctx = name, options, ctx
        self.retriever_options = retriever_options

    def examples(self, pairs: Sequence[TrainPair], seed: int, ctx=None) -> list[RaftExample]:
        """Drawn from ``ctx``'s corpus (the material an adapter learns from), by default the system's own."""
        ctx = ctx or self.ctx
        docs = ctx.suite.documents
        for pair in pairs:
            if not pair.source:
                raise HarnessError(f"system {self.name}: training pair {pair.question!r} has no source; RAFT needs "
                                   "it to find the oracle chunk")
        chunks = make_retriever(self.retriever_options, ctx).chunks.spans
        if self.options.distractors >= len(chunks):
            raise HarnessError(f"system {self.name}: distractors {self.options.distractors} but the corpus has "
                               f"{len(chunks)} chunks with {self.options.retriever}'s chunking; at most "
                               f"{len(chunks) - 1}")
        ranking = make_retriever(self.retriever_options.model_copy(update={"k": len(chunks)}), ctx)
        ranked = ranking.retrieve([p.question for p in pairs])
        passages = [resolve_source(docs, p.source) for p in pairs]
        try:
            return plan_examples(pairs, passages, ranked, self.options.distractors, self.options.oracle_fraction,
                                 seed)
        except HarnessError as err:
            raise HarnessError(f"system {self.name}: {err}") from None

    def __call__(self, pairs: Sequence[TrainPair], seed: int, ctx=None) -> list[tuple[str, ...]]:
        return [e.context for e in self.examples(pairs, seed, ctx)]

    def identity(self, pairs: Sequence[TrainPair], seed: int, ctx=None) -> str:
        # the pairs, sources included, are in the adapter's key already; the ranking covers every chunk
        return cache_key("raft-plan", PLAN_VERSION, retrieval_identity(self.retriever_options, ctx or self.ctx),
                         self.options.distractors, self.options.oracle_fraction, seed)


@system_kind("raft", options=RaftOptions, retrieves=True, trains=True, defaults=_defaults, check=_check)
def build_raft(name: str, options: RaftOptions, ctx: Context) -> Lora:
    source = ctx.suite.system(options.retriever).options.model_copy(update={"k": options.k})
    return build_lora_family(name, options, ctx, make_retriever(source, ctx),
                             RaftPlanner(name, options, source, ctx))
