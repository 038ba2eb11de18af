"""What a generator is, the registry of backends, and how a spec picks one.

A spec is ``backend:model``; one with no registered backend prefix is a Hugging Face model id or
path for the ``hf`` backend. Backends register in ``BACKENDS`` (new ones too: see tests/fakes.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Protocol, Sequence, runtime_checkable

from harness.core.registry import Registry
from harness.inputs.config import Generation
from harness.models.prompts import PromptParts, Reply


Done = Callable[[Sequence[int], Sequence[Reply | str]], None]  # (indices into prompts, their answers)


class Generator(Protocol):
    identity: str  # everything about the model that changes its answers; part of cache keys

    def check_available(self) -> None: ...

    def generate(self, prompts: Sequence[PromptParts], done: Optional[Done] = None) -> list[Reply | str]:
        """Answers in the order of ``prompts``; ``done(indices, answers)`` as each batch (or single
        answer) is ready, so that it is cached at once. A backend may leave it uncalled. Answers are
        cleaned by prompts.clean_reply, which records what it cut; a plain string (a backend of your
        own) is cleaned by the Answerer."""

    def complete(self, texts: Sequence[str], max_new_tokens: int | None = None) -> list[str]: ...


# What a generator may also do: each optional, checked with isinstance where it is used.

@runtime_checkable
class Loads(Protocol):
    def load(self) -> None:
        """Load the weights now, so that answer times leave the one-time load out."""


@runtime_checkable
class CountsTokens(Protocol):
    def prompt_tokens(self, parts: PromptParts) -> int:
        """The prompt's length in the model's own tokens (the scorecard's cost per answer)."""


@runtime_checkable
class ChoosesDtype(Protocol):
    """A local model that computes in a dtype it chose (harness/core/dtype.py), and says why. Methods
    only: on Python 3.11 isinstance() reads every member, and reading ``dtype`` measures it."""

    def cached_dtype_decision(self) -> str | None: ...  # the decision already made on this machine, else None

    def chosen_dtype(self) -> tuple[str, str]: ...  # (dtype, why): measured on first use


BACKENDS: Registry[type] = Registry("generator backend")


def make_generator(spec: str, settings: Generation, cache_root: Path) -> Generator:
    """``backend:model``; a spec with no registered backend prefix is a Hugging Face model id or path."""
    backend, sep, model = spec.partition(":")
    if not sep or backend not in BACKENDS:
        backend, model = "hf", spec
    return BACKENDS.get(backend)(model, settings, cache_root)
