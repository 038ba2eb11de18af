"""The shared base model with one LoRA adapter switched on: what lora, lora-rag and raft answer with."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.models.base import Done
from harness.models.hf import HFGenerator
from harness.models.prompts import PromptParts, Reply, completion_prompt


class AdapterGenerator:
    """The shared base generator with one LoRA adapter switched on for its calls."""

    def __init__(self, base: HFGenerator, name: str, path: Path):
        self.base, self.name, self.path = base, name, path
        self.identity = f"{base.identity}+lora:{name}"

    def check_available(self) -> None:
        self.base.check_available()

    def load(self) -> None:
        with self.base.adapter(self.name, self.path):
            pass

    def prompt_tokens(self, parts: PromptParts) -> int:
        """The prompt's length as the adapted model reads it: the completion layout, as generate() sends it."""
        return len(self.base._tokens(completion_prompt(parts)))

    def generate(self, prompts: Sequence[PromptParts], done: Done | None = None) -> list[Reply]:
        # Always the completion layout: it is what the adapter was trained on, chat model or not.
        texts = [completion_prompt(p) for p in prompts]
        self.base._check_fits(prompts, texts, self.base.settings.max_new_tokens)
        with self.base.adapter(self.name, self.path):
            return self.base._run(texts, self.base.settings.max_new_tokens, done)
