"""What a generator is, the registry of backends, and how a spec picks one.

A spec is ``backend:model``; one with no registered backend prefix is a Hugging Face model id or
path for the ``hf`` backend. Backends register in ``BACKENDS`` (new ones too: see tests/fakes.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Protocol, Sequence

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

    # Optional: ``load()`` loads the weights now, so that answer times leave the one-time load out.


BACKENDS: Registry[type] = Registry("generator backend")


def make_generator(spec: str, settings: Generation, cache_root: Path) -> Generator:
    """``backend:model``; a spec with no registered backend prefix is a Hugging Face model id or path."""
    backend, sep, model = spec.partition(":")
    if not sep or backend not in BACKENDS:
        backend, model = "hf", spec
    return BACKENDS.get(backend)(model, settings, cache_root)
