"""Turn questions (and retrieved context) into answers: one batched pass, cached per prompt.

Each answer is cached under the generator's identity, the generation settings, the prompt
layout version and the prompt's parts, so an identical rerun makes no model call at all and a
new question costs one generation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from harness.core.cache import DiskCache, cache_key
from harness.inputs.config import Example, Generation
from harness.models.base import Generator, timed_generate
from harness.models.prompts import PROMPT_VERSION, PromptParts, Reply, clean_reply


@dataclass(frozen=True)
class Generated:
    text: str
    seconds: float
    cached: bool
    debris: str | None = None  # what the raw reply ran on into (prompts.Reply)


def _reply(answer: Reply | str) -> Reply:
    return answer if isinstance(answer, Reply) else clean_reply(answer)


def _from_cache(entry: dict) -> Generated:
    # Cut on read rather than a PROMPT_VERSION bump: entries cached before answers were cut at template
    # markers are cut the same way now (cutting is idempotent), and the clean answers in a cache stay
    # valid instead of costing a cold run. The stop sequences sent since then end a reply at or after
    # the point where it is cut, so a fresh generation keeps the same text.
    reply = clean_reply(entry["text"])
    return Generated(reply.text, entry["seconds"], True, entry.get("debris") or reply.debris)


class Answerer:
    def __init__(self, generator: Callable[[], Generator], identity: str, settings: Generation,
                 instructions: str, examples: Sequence[Example], cache: DiskCache):
        self._generator = generator  # called only on a cache miss, so cached runs load no model
        self.identity = identity
        self.settings = settings
        self.instructions = instructions
        self.examples = tuple(examples)
        self.cache = cache

    def _key(self, parts: PromptParts) -> str:
        return cache_key("answer", self.identity, self.settings.max_new_tokens, self.settings.prompt_style,
                         PROMPT_VERSION, parts.instructions, [e.model_dump() for e in parts.examples],
                         parts.context, parts.question)

    def answer(self, questions: Sequence[str], contexts: Sequence[Sequence[str]] | None = None) -> list[Generated]:
        parts = [PromptParts(self.instructions, self.examples,
                             tuple(contexts[i]) if contexts is not None else None, q)
                 for i, q in enumerate(questions)]
        keys = [self._key(p) for p in parts]
        found = [self.cache.get("answer", k) for k in keys]
        missing = [i for i, entry in enumerate(found) if entry is None]
        results = [_from_cache(e) if e else None for e in found]
        if missing:
            answers, elapsed = timed_generate(self._generator(), [parts[i] for i in missing])
            for i, reply in zip(missing, map(_reply, answers)):
                entry = {"text": reply.text, "seconds": elapsed / len(missing), "debris": reply.debris}
                self.cache.put("answer", keys[i], entry)
                results[i] = Generated(reply.text, entry["seconds"], False, reply.debris)
        return results
