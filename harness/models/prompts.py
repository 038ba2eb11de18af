"""Prompt building: completion style for base models, chat messages for chat models."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from harness.inputs.config import Example

PROMPT_VERSION = 1  # bump when the layout below changes: it is part of every answer's cache key


@dataclass(frozen=True)
class PromptParts:
    instructions: str
    examples: tuple[Example, ...]
    context: tuple[str, ...] | None  # None: no retrieval
    question: str


def _context_block(context: Sequence[str]) -> str:
    return "Reference material:\n" + "\n\n".join(f"[{i}] {text.strip()}" for i, text in enumerate(context, 1))


def completion_prompt(parts: PromptParts) -> str:
    blocks = [parts.instructions.strip()] if parts.instructions.strip() else []
    blocks += [f"Question: {ex.question}\nAnswer: {ex.answer}" for ex in parts.examples]
    if parts.context is not None:
        blocks.append(_context_block(parts.context))
    blocks.append(f"Question: {parts.question}\nAnswer:")
    return "\n\n".join(blocks)


def chat_messages(parts: PromptParts) -> list[dict]:
    messages = []
    for i, ex in enumerate(parts.examples):
        lead = parts.instructions.strip() + "\n\n" if i == 0 else ""
        messages += [{"role": "user", "content": lead + ex.question},
                     {"role": "assistant", "content": ex.answer}]
    lead = "" if parts.examples else parts.instructions.strip() + "\n\n"
    context = _context_block(parts.context) + "\n\n" if parts.context is not None else ""
    messages.append({"role": "user", "content": lead + context + parts.question})
    return messages


def clean_answer(text: str) -> str:
    """The first line of a completion: base models run on into the next 'Question:'."""
    return text.strip().split("\n", 1)[0].strip()
