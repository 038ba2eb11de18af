"""Validated shapes of the suite's YAML files (pydantic, unknown fields rejected)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

METRICS = ("answer_accuracy", "recall", "mrr")

DEFAULT_INSTRUCTIONS = (
    "You are an expert on the rules of the sport described in the reference material. "
    "Answer each question in at most ten words."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class Question(Strict):
    id: str
    question: str
    answer: str
    accept: list[str] = []
    evidence: list[str] = []
    tags: list[str] = []

    _blank = field_validator("id", "question", "answer")(_not_blank)

    @field_validator("id", "question", "answer", mode="before")
    @classmethod
    def _scalar_to_text(cls, value):
        # `answer: 6` in YAML is an int; a gold answer is text.
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class Example(Strict):
    question: str
    answer: str


class Chunking(Strict):
    tokens: int = Field(100, gt=0)
    overlap: int = Field(50, ge=0)


class Generation(Strict):
    max_new_tokens: int = Field(24, gt=0)
    batch_size: int = Field(8, gt=0)
    prompt_style: Literal["auto", "completion", "chat"] = "auto"


class JudgeConfig(Strict):
    name: str = "match"
    model: str | None = None  # generator spec for llm/hybrid; default: the suite's generator
    max_new_tokens: int = Field(32, gt=0)


class Calibration(Strict):
    """Human-labelled candidates the judge is checked against (evals/test_judge.py)."""

    file: str = "judge_calibration.yaml"
    min_agreement: float = Field(0.9, ge=0, le=1)
    min_kappa: float = Field(0.75, ge=-1, le=1)


class SuiteConfig(Strict):
    """``suite.yaml``. Systems are names of built-in systems or mappings ``{name, kind, ...options}``."""

    name: str | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    examples: list[Example] = []
    generator: str = "gemma3-270m"
    generation: Generation = Generation()
    chunking: Chunking = Chunking()
    top_k: int = Field(3, gt=0)
    judge: JudgeConfig = JudgeConfig()
    calibration: Calibration = Calibration()
    systems: list[str | dict] | None = None
    thresholds: dict[str, dict[str, float]] = {}

    @field_validator("judge", mode="before")
    @classmethod
    def _judge_by_name(cls, value):
        return {"name": value} if isinstance(value, str) else value
