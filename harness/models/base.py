"""What a generator is, the registry of backends, and how a spec picks one.

A spec is ``backend:model``; one with no registered backend prefix is a Hugging Face model id or
path for the ``hf`` backend. Backends register in ``BACKENDS`` (new ones too: see tests/fakes.py).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol, Sequence

from harness.core.registry import Registry
from harness.inputs.config import Generation
from harness.models.prompts import PromptParts, Reply


class Generator(Protocol):
    identity: str  # everything about the model that changes its answers; part of cache keys

    def check_available(self) -> None: ...

    # Answers cleaned by prompts.clean_reply, which records what it cut; a plain string (a backend of your
    # own) is cleaned by the Answerer.
    def generate(self, prompts: Sequence[PromptParts]) -> list[Reply | str]: ...

    def complete(self, texts: Sequence[str], max_new_tokens: int | None = None) -> list[str]: ...

    # Optional: ``load()`` loads the weights now, so that answer times leave the one-time load out.


BACKENDS: Registry[type] = Registry("generator backend")


def make_generator(spec: str, settings: Generation, cache_root: Path) -> Generator:
    """``backend:model``; a spec with no registered backend prefix is a Hugging Face model id or path."""
    backend, sep, model = spec.partition(":")
    if not sep or backend not in BACKENDS:
        backend, model = "hf", spec
    return BACKENDS.get(backend)(model, settings, cache_root)


def timed_generate(generator: Generator, prompts: Sequence[PromptParts]) -> tuple[list[Reply | str], float]:
    """Answers and the seconds generating them took; loading the model first is not counted."""
    getattr(generator, "load", lambda: None)()
    start = time.perf_counter()
    answers = generator.generate(prompts)
    return answers, time.perf_counter() - start
