"""What a System is: something that answers questions. Retrieval results ride along for grading."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from harness.config import Question


@dataclass(frozen=True)
class Hit:
    source: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    retrieved: tuple[Hit, ...] | None = None  # None: the system does not retrieve
    seconds: float = 0.0  # generation time when this answer was computed (cached answers keep it)
    cached: bool = False
    by_seed: tuple[tuple[int, "Answer"], ...] = ()  # systems trained with several seeds: each seed's answer


class System(Protocol):
    name: str

    def answer(self, questions: Sequence[Question]) -> list[Answer]: ...
