"""Prompt building: completion style for base models, chat messages for chat models."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from harness.inputs.config import Example

PROMPT_VERSION = 1  # bump when the layout below changes: it is part of every answer's cache key

# Where a chat template ends a turn or opens the next. A model that does not know the template it is
# prompted with (a base model behind a server's chat API) writes them as text and runs on into an
# invented next turn: an answer ends at the first one.
TEMPLATE_MARKERS = ("</s>", "<s>", "[INST]", "[/INST]", "<|im_end|>", "<|im_start|>", "<|eot_id|>",
                    "<|start_header_id|>", "<|end_header_id|>", "<end_of_turn>", "<start_of_turn>",
                    "<|endoftext|>", "<|end|>", "<|user|>", "<|assistant|>")
# Stop sequences (the OpenAI API takes at most 4): where a next turn opens. Every template closes a turn
# before it opens the next (</s> before [INST], <|im_end|> before <|im_start|>, <end_of_turn> before
# <start_of_turn>, <|eot_id|> before <|start_header_id|>), so the closing marker stays in the reply, where
# clean_reply cuts and records it; a stop sequence itself is never returned.
TURN_OPENERS = ("[INST]", "<|im_start|>", "<start_of_turn>", "<|start_header_id|>")
SECOND_QUESTION = "a second question"
_MARKER = re.compile("|".join(map(re.escape, TEMPLATE_MARKERS)))
# The next question written by the model itself: our layout's label, or a question after the answer's sentence.
_NEXT_QUESTION = re.compile(r"\bQuestion:|[.!]\s+[A-Z][^.!?\n]*\?")


@dataclass(frozen=True)
class PromptParts:
    instructions: str
    examples: tuple[Example, ...]
    context: tuple[str, ...] | None  # None: no retrieval
    question: str


def _context_block(context: Sequence[str]) -> str:
    return "Reference material:\n" + "\n\n".join(f"[{i}] {text.strip()}" for i, text in enumerate(context, 1))


def _head_blocks(parts: PromptParts) -> list[str]:
    blocks = [parts.instructions.strip()] if parts.instructions.strip() else []
    return blocks + [f"Question: {ex.question}\nAnswer: {ex.answer}" for ex in parts.examples]


def completion_prompt(parts: PromptParts) -> str:
    blocks = _head_blocks(parts)
    if parts.context is not None:
        blocks.append(_context_block(parts.context))
    blocks.append(f"Question: {parts.question}\nAnswer:")
    return "\n\n".join(blocks)


def completion_head(parts: PromptParts) -> str:
    """What every completion prompt with these instructions and examples begins with."""
    blocks = _head_blocks(parts)
    return "\n\n".join(blocks) + "\n\n" if blocks else ""


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


@dataclass(frozen=True)
class Reply:
    """An answer as kept, and what its raw reply ran on into: a template marker (the answer was cut
    there) or SECOND_QUESTION (kept as is: there is no marker to cut at); None for a clean reply."""

    text: str
    debris: str | None = None


def stop_sequences(chat: bool) -> list[str]:
    """A completion's answer is its first line; a chat reply ends where a next turn would open."""
    return list(TURN_OPENERS) if chat else ["\n", *TURN_OPENERS[:3]]


# Free text (drafting and synthesis) runs on past line breaks: a reply may open with one (a base
# model's first token after "JSON:" often is) and hold several. It ends at a next turn or a marker.
WRITE_STOPS = list(TURN_OPENERS)


def free_text(raw: str, stop: Sequence[str] = ()) -> str:
    """A free-text reply cut at its first chat-template marker or ``stop`` string, its line breaks kept."""
    marker = _MARKER.search(raw)
    text = raw[:marker.start()] if marker else raw
    for word in stop:
        text = text.split(word, 1)[0]
    return text.strip()


def clean_reply(raw: str) -> Reply:
    """The first line of a reply, cut at its first chat-template marker: base models run on into the
    next 'Question:', models that do not know the chat template into an invented next turn."""
    marker = _MARKER.search(raw)
    text = (raw[:marker.start()] if marker else raw).strip().split("\n", 1)[0].strip()
    if marker:
        return Reply(text, marker.group())
    return Reply(text, SECOND_QUESTION if _NEXT_QUESTION.search(raw) else None)
