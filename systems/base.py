"""What a System is (something that answers questions; retrieval results ride along for grading),
and the Context a system kind is built with."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

from harness.core.cache import DiskCache
from harness.inputs.config import Question
from harness.models import Generator
from harness.models.answering import Answerer
from harness.retrieval import Embedder
from harness.retrieval.base import Hit
from harness.training.adapters import Adapters


@dataclass(frozen=True)
class Answer:
    text: str
    retrieved: tuple[Hit, ...] | None = None  # None: the system does not retrieve
    seconds: float = 0.0  # generation time when this answer was computed (cached answers keep it)
    cached: bool = False
    by_seed: tuple[tuple[int, "Answer"], ...] = ()  # systems trained with several seeds: each seed's answer
    debris: str | None = None  # what the raw reply ran on into before it was cut (models.prompts.Reply)
    prompt_tokens: int | None = None  # the prompt's length in the generator's tokens, where it counts them

    @classmethod
    def of(cls, generated, retrieved: tuple[Hit, ...] | None = None, by_seed: tuple = ()) -> "Answer":
        """The answer to a generated reply (models.answering.Generated)."""
        return cls(generated.text, retrieved, generated.seconds, generated.cached, by_seed, generated.debris,
                   generated.prompt_tokens)


class System(Protocol):
    name: str

    def answer(self, questions: Sequence[Question]) -> list[Answer]: ...


# What a system may also be: each checked with isinstance by the run that uses it.

@runtime_checkable
class Retrieving(Protocol):
    """A system that retrieves before it answers: the run indexes its corpus first (timed) and grades its
    recall. ``retriever`` may be None (a LoRA system asked without context)."""

    retriever: Any  # harness.retrieval.Pipeline | None


@runtime_checkable
class Trained(Protocol):
    """A system fine-tuned on the suite's material: its adapters (one per seed) and their training log."""

    adapters: list  # [(seed, Adapter, Answerer)]

    @property
    def training_log(self) -> dict: ...


def retriever_of(system: System):
    """The system's retriever, or None when it does not retrieve."""
    return system.retriever if isinstance(system, Retrieving) else None


class Context(Protocol):
    """What a system kind may use from the run that builds it: all shared, all loaded lazily."""

    suite: Any  # the loaded Suite: documents, questions, training pairs, config
    cache: DiskCache
    adapters: Adapters  # LoRA adapters by settings, cached or trained on first use

    @property
    def generator(self) -> Generator: ...  # the one base model every system shares

    @property
    def answerer(self) -> Answerer: ...  # the generator with the suite's prompt, answers cached

    def embedder(self, name: str) -> Embedder: ...
