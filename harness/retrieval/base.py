"""What every retriever kind shares: the chunks it ranks, how it is built, and its registry."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from harness.core.cache import DiskCache
from harness.core.registry import Registry
from harness.retrieval.chunking import Chunk

Ranking = list[tuple[int, float]]  # (chunk index, score), best first


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: where it lies in the corpus, its text, and its score."""

    source: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Chunks:
    spans: list[Chunk]
    texts: list[str]  # the exact text of each span: what the prompt gets
    indexed: list[str]  # what retrievers index: the text, after its section title when asked


@dataclass(frozen=True)
class Env:
    """What a retriever kind may use: the corpus's chunks (computed on first call), embedders by name, the cache."""

    chunks: Callable[[], Chunks]
    embedder: Callable[[str], Any]
    cache: DiskCache


class Ranker(Protocol):
    def prepare(self) -> None: ...  # build the index (timed apart from queries by the sweep)

    def rank(self, queries: Sequence[str], depth: int) -> list[Ranking]: ...


# name -> build(stage options, env) -> Ranker. Building checks availability (Unavailable) but loads nothing.
RETRIEVERS: Registry[Callable[[Any, Env], Ranker]] = Registry("retriever")


# name -> build(model, cache) -> an object with ``scores(query, texts) -> list[float]``.
RERANKERS: Registry[Callable[[str, Any], Any]] = Registry("reranker")


def build_ranker(stage, env: Env) -> Ranker:
    return RETRIEVERS.get(stage.retriever)(stage, env)


def top(scores, depth: int) -> Ranking:
    """The ``depth`` best (index, score) pairs of a score vector, ties in chunk order."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")[:depth]
    return [(int(i), round(float(scores[i]), 6)) for i in order]
