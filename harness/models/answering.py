"""Turn questions (and retrieved context) into answers: one batched pass, cached per prompt.

Each answer is cached under the generator's identity, the generation settings, the prompt
layout version and the prompt's parts, so an identical rerun makes no model call at all and a
new question costs one generation. An answer is cached the moment the generator reports it, so
a killed run keeps what it finished; workers sharing a cache generate each prompt once. Inside
``asking(pool)``, systems that share a model can have their missing answers generated together (Pool).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from harness.core.cache import DiskCache, cache_key
from harness.inputs.config import Example, Generation
from harness.models.base import CountsTokens, Generator, Loads
from harness.models.prompts import PROMPT_VERSION, PromptParts, Reply, clean_reply
from harness.models.stopping import STOP_RULE


@dataclass(frozen=True)
class Generated:
    text: str
    seconds: float
    cached: bool
    debris: str | None = None  # what the raw reply ran on into (prompts.Reply)
    prompt_tokens: int | None = None  # counted by the generator when it generated the answer, where it can


PENDING = Generated("", 0.0, False)  # what a deferring Pool hands back for an answer not generated yet


@dataclass
class Pool:
    """The prompts several systems ask of one model, generated together in one call per model.

    The transformers backend runs batches of one fixed shape per prompt length (models.padding): a
    system alone fills the last batch of each length with copies. Asked together, the systems that share
    a model (the baseline and every RAG system; the systems and conditions of one adapter) fill each
    other's batches: on the default suite about 15% fewer prompt tokens computed for the same answers,
    since a row's arithmetic depends on its own prompt alone. While ``deferring``, an Answerer records
    what it misses here and hands back PENDING; ``generate`` then fills the cache, and the answers it
    generated read back as generated in this run, not cached.
    """
    deferring: bool = False
    asked: dict[str, tuple[Answerer, dict[str, PromptParts]]] = field(default_factory=dict)  # identity ->
    askers: dict[str, list[tuple]] = field(default_factory=dict)  # identity -> who asked (the askers' labels)
    asker: tuple = ()  # who is asking now: the run's (system, condition)
    fresh: dict[str, Generated] = field(default_factory=dict)  # key -> generated in this run

    def defer(self, answerer: Answerer, prompts: dict[str, PromptParts]) -> None:
        self.asked.setdefault(answerer.identity, (answerer, {}))[1].update(prompts)
        self.askers.setdefault(answerer.identity, []).append(self.asker)

    def generate(self, identity: str) -> None:
        """One model's deferred prompts, generated in one call (those another worker claimed: waited for)."""
        answerer, prompts = self.asked.pop(identity)
        answerer.fill(list(prompts), prompts, self.fresh)


_POOL: ContextVar[Pool | None] = ContextVar("answer_pool", default=None)


@contextmanager
def asking(pool: Pool) -> Iterator[Pool]:
    """Answerers consult ``pool`` within the block: they defer to it, or read back what it generated."""
    token = _POOL.set(pool)
    try:
        yield pool
    finally:
        _POOL.reset(token)


def _reply(answer: Reply | str) -> Reply:
    return answer if isinstance(answer, Reply) else clean_reply(answer)


def _from_cache(entry: dict) -> Generated:
    # Cut on read rather than a PROMPT_VERSION bump: entries cached before answers were cut at template
    # markers are cut the same way now (cutting is idempotent), and the clean answers in a cache stay
    # valid instead of costing a cold run. The stop sequences sent since then end a reply at or after
    # the point where it is cut, so a fresh generation keeps the same text.
    reply = clean_reply(entry["text"])
    return Generated(reply.text, entry["seconds"], True, entry.get("debris") or reply.debris, entry.get("prompt_tokens"))


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
        # STOP_RULE: where a reply stops changes the answer (a reply that opened with a line break was empty).
        # batch_size: the transformers backend pads every batch to batch_size rows (hf.HFGenerator._batches),
        # and decodes decode_rows rows a step (hf.decoding): arithmetic rounds with the shape, so another
        # size may give other answers.
        return cache_key("answer", self.identity, self.settings.max_new_tokens, self.settings.prompt_style,
                         PROMPT_VERSION, parts.instructions, [e.model_dump() for e in parts.examples],
                         parts.context, parts.question, f"stop/{STOP_RULE}", self.settings.batch_size,
                         self.settings.decode_rows)

    def answer(self, questions: Sequence[str], contexts: Sequence[Sequence[str]] | None = None) -> list[Generated]:
        parts = [PromptParts(self.instructions, self.examples,
                             tuple(contexts[i]) if contexts is not None else None, q)
                 for i, q in enumerate(questions)]
        keys = [self._key(p) for p in parts]
        prompt_of = dict(zip(keys, parts))
        results: dict[str, Generated] = {}
        self._read(keys, results)
        missing = list(dict.fromkeys(k for k in keys if k not in results))  # a repeated prompt is asked once
        pool = _POOL.get()
        if missing and pool is not None and pool.deferring:
            pool.defer(self, {k: prompt_of[k] for k in missing})
            return [results.get(k, PENDING) for k in keys]
        self.fill(missing, prompt_of, results)
        return [results[k] for k in keys]

    def fill(self, missing: Sequence[str], prompt_of: dict[str, PromptParts], results: dict[str, Generated]) -> None:
        """Generate the ``missing`` keys' answers into ``results`` and the cache, once across workers."""
        if not missing:
            return
        with self.cache.claim("answer", missing) as mine:
            claimed = [k for k, got in zip(missing, mine) if got]
            self._read(claimed, results)  # a worker that held a claim until just now has written its answer
            self._generate([k for k in claimed if k not in results], prompt_of, results)
        for key in missing:  # claimed by another worker: wait for it, or generate it if that one died
            if key not in results:
                self.cache.wait("answer", key)
                self._read([key], results) or self._generate([key], prompt_of, results)

    def _read(self, keys: Sequence[str], results: dict[str, Generated]) -> bool:
        """Fill ``results`` from the cache, or as generated in this run (Pool); True when every key was there."""
        pool = _POOL.get()
        for key in keys:
            if pool is not None and key in pool.fresh:
                results[key] = pool.fresh[key]
                continue
            entry = self.cache.get("answer", key)
            if entry is not None:
                results[key] = _from_cache(entry)
        return all(k in results for k in keys)

    def _generate(self, todo: Sequence[str], prompt_of: dict[str, PromptParts], results: dict[str, Generated]) -> None:
        if not todo:
            return
        generator = self._generator()
        if isinstance(generator, Loads):  # answer times leave the one-time load out
            generator.load()
        count = generator.prompt_tokens if isinstance(generator, CountsTokens) else None
        fresh: dict[str, Generated] = {}
        clock = [perf_counter()]

        def done(indices: Sequence[int], answers: Sequence[Reply | str]) -> None:
            # The answers that arrived together share the wall time since the previous arrival.
            now = perf_counter()
            seconds, clock[0] = (now - clock[0]) / len(indices), now
            for i, reply in zip(indices, map(_reply, answers)):
                tokens = count(prompt_of[todo[i]]) if count else None
                self.cache.put("answer", todo[i], {"text": reply.text, "seconds": seconds, "debris": reply.debris,
                                                   "prompt_tokens": tokens})
                fresh[todo[i]] = Generated(reply.text, seconds, False, reply.debris, tokens)

        answers = generator.generate([prompt_of[k] for k in todo], done=done)
        unreported = [i for i in range(len(todo)) if todo[i] not in fresh]
        if unreported:
            done(unreported, [answers[i] for i in unreported])
        results.update(fresh)
