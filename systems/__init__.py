"""System kinds: one module per kind, registered by name with the options it accepts.

A suite names systems; each is a kind plus options. ``build(name, options, ctx)`` makes the
System, whose only job is ``answer(questions)``; ``ctx`` is a :class:`systems.base.Context` (the
shared models, the cache, LoRA adapters). Modules here must not import torch at import time, and
may import harness.core, inputs, models, retrieval and training, never the run or its results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel

from harness.core.registry import Registry
from harness.retrieval import Hit
from systems.base import Answer, System

__all__ = ["Answer", "Hit", "System", "KINDS", "BUILTIN", "SystemSpec", "system_kind"]


@dataclass(frozen=True)
class Kind:
    options: type[BaseModel]
    build: Callable[..., System]  # build(name, options, ctx) -> System
    retrieves: bool = False
    trains: bool = False  # fine-tunes the generator (the verdict's families: retrieval, fine-tuning, both)
    defaults: Callable[[Any], dict] = lambda suite_config: {}  # option defaults from suite.yaml
    # check(options, specs) raises ValueError when the options name other systems wrongly
    check: Callable[[Any, tuple], None] = lambda options, specs: None


KINDS: Registry[Kind] = Registry("system kind")


def system_kind(name: str, options: type[BaseModel], retrieves: bool = False, trains: bool = False, defaults=None,
                check=None):
    """Register ``build(name, options, ctx)`` as the system kind ``name``."""
    def add(build):
        KINDS.register(name)(Kind(options, build, retrieves, trains, defaults or Kind.defaults, check or Kind.check))
        return build
    return add


@dataclass(frozen=True)
class SystemSpec:
    name: str
    kind: str
    options: Any  # the kind's validated options model
    # (option, its value, training.lora's): what the kind's or the built-in's preset sets over a value that
    # suite.yaml's training.lora states, when the system's own entry does not set it (the preset wins)
    preset: tuple[tuple[str, Any, Any], ...] = ()

    @property
    def retrieves(self) -> bool:
        return KINDS.get(self.kind).retrieves

    @property
    def family(self) -> str:
        """none (the plain model), retrieval, fine-tuning, or both."""
        kind = KINDS.get(self.kind)
        return FAMILIES[kind.retrieves, kind.trains]


FAMILIES = {(False, False): "none", (True, False): "retrieval", (False, True): "fine-tuning", (True, True): "both"}


SECTIONS = {"chunking": "sections", "chunk_overlap": 24}
# lora-docs: next-token loss on the documents, nothing held out (every fact is trained). One epoch: the
# loss covers every token of the text (about 10k for the default suite, against a few thousand answer
# tokens for lora's 511 pairs over 2 epochs), and the output layer over Gemma's 262k words dominates.
CORPUS = {"train_on": "corpus", "eval_fraction": 0, "epochs": 1}

# The systems a suite runs when it names none. rag-marco needs the model in the local HF cache;
# rag-openai needs OPENAI_API_KEY or OPENAI_BASE_URL.
BUILTIN: dict[str, dict] = {
    "baseline": {"kind": "baseline"},
    "rag-minilm": {"kind": "rag", "embedder": "minilm", "similarity": "cosine"},
    "rag-marco": {"kind": "rag", "embedder": "sentence-transformers/msmarco-distilbert-base-tas-b",
                  "similarity": "dot"},
    "rag-llama": {"kind": "rag", "embedder": "generator", "similarity": "dot"},
    # Chosen by `harness sweep` on a real rulebook (docs/models.md, "Retrieval"; benchmarks/grids/dev_tuning.yaml):
    # each is its retriever's best within 300 context tokens there. Section size and k set that budget
    # together, so these keep their own chunking and k whatever the suite's.
    "rag-bm25": {"kind": "rag", "retriever": "bm25", **SECTIONS, "chunk_tokens": 110, "k": 3},
    "rag-hybrid": {"kind": "rag", "retriever": "hybrid", **SECTIONS, "chunk_tokens": 80, "k": 4, "rrf_k": 20,
                   "retrievers": [{"retriever": "dense", "embedder": "minilm", "weight": 2}, {"retriever": "bm25"}]},
    # The best offline configuration of the sweep: MiniLM dense + BM25 (half weight) + MiniLM late interaction.
    "rag-hybrid3": {"kind": "rag", "retriever": "hybrid", **SECTIONS, "chunk_tokens": 120, "section_titles": True,
                    "k": 3, "rrf_k": 20,
                    "retrievers": [{"retriever": "dense", "embedder": "minilm"}, {"retriever": "bm25", "weight": 0.5},
                                   {"retriever": "late", "embedder": "minilm"}]},
    "rag-openai": {"kind": "rag", "embedder": "openai:text-embedding-3-small", "similarity": "cosine"},
    # Fine-tuned: on train.yaml's pairs (a suite without one skips these, saying so), or on the corpus
    # itself (lora-docs, CORPUS).
    "lora": {"kind": "lora"},
    "lora-rag": {"kind": "lora-rag"},
    "raft": {"kind": "raft", "retriever": "rag-minilm"},
    "lora-docs": {"kind": "lora", **CORPUS},
    "lora-docs-rag": {"kind": "lora-rag", **CORPUS},
}

from systems import baseline, lora, raft, rag  # noqa: E402,F401  (registers the kinds)
