"""``openai``: chat or completions on any OpenAI-compatible server (OpenAI, vLLM, llama.cpp)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import cached_property
from pathlib import Path
from typing import Sequence

from harness.core.errors import HarnessError
from harness.core.progress import notice, progress
from harness.inputs.config import Generation
from harness.models.base import BACKENDS, Done
from harness.models.prompts import (WRITE_STOPS, PromptParts, Reply, chat_messages, clean_reply, completion_prompt,
                                    free_text, stop_sequences)

# One worked example, as a suite's examples are sent: a model that does not know the server's chat
# template imitates the template's text after it and runs on into an invented next turn.
PROBE = [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "4."},
         {"role": "user", "content": "What is the capital of France?"}]


@BACKENDS.register("openai")
class OpenAICompatibleGenerator:
    """``openai:MODEL[@BASE_URL]``: chat (or, with prompt_style completion, completions) on any
    OpenAI-compatible server, greedy, one request per prompt and up to ``generation.max_concurrency``
    in flight, with the bounded retries of openai_api."""

    def __init__(self, model: str, settings: Generation, cache_root: Path):
        self.model_name, _, self.base_url = model.partition("@")
        self.settings = settings

    @cached_property
    def chat(self) -> bool:
        """auto: chat, unless one probe's reply runs on into chat-template debris (then completions)."""
        style = self.settings.prompt_style
        return style == "chat" or (style == "auto" and not self._probe_runs_on())

    def _probe_runs_on(self) -> bool:
        from harness.models.openai_api import call

        try:
            reply = call(f"generation ({self.model_name})", self.endpoint,
                         lambda: self._chat(self.endpoint.client(), PROBE, 16))
        except HarnessError:  # no evidence: chat, and the generation requests say why the server failed
            return False
        if reply.debris:
            notice(f"openai:{self.model_name} at {self.endpoint.base_url}: its chat reply ran on into "
                   f"{reply.debris!r}, a chat template it does not know; prompt_style auto uses completions "
                   "(generation.prompt_style: chat keeps chat)")
        return reply.debris is not None

    @cached_property
    def endpoint(self):
        from harness.models.openai_api import Endpoint

        return Endpoint.from_env(self.base_url or None)

    @property
    def identity(self) -> str:
        return f"openai:{self.model_name}@{self.endpoint.base_url}:{'chat' if self.chat else 'completion'}"

    def check_available(self) -> None:
        self.endpoint  # noqa: B018  (Unavailable without a key or a base URL)

    def _chat(self, client, messages: list, max_tokens: int, free: tuple[str, ...] | None = None) -> Reply:
        reply = client.chat.completions.create(model=self.model_name, messages=messages, temperature=0, max_tokens=max_tokens,
                                               stop=WRITE_STOPS if free is not None else stop_sequences(chat=True))
        return _cleaned(reply.choices[0].message.content if reply.choices else None, free)

    def _one(self, client, prompt, max_tokens: int, free: tuple[str, ...] | None = None) -> Reply:
        """An answer (its first line), or with ``free`` (its stop strings) a free-text reply (models.writing)."""
        if self.chat:
            return self._chat(client, prompt, max_tokens, free)
        stop = (list(free) + WRITE_STOPS)[:4] if free is not None else stop_sequences(chat=False)  # the API takes 4
        reply = client.completions.create(model=self.model_name, prompt=prompt, temperature=0, max_tokens=max_tokens,
                                          stop=stop)
        return _cleaned(reply.choices[0].text if reply.choices else None, free)

    @property
    def max_concurrency(self) -> int:
        return self.settings.max_concurrency

    def _ask(self, prompts: list, max_tokens: int, done: Done | None = None,
             free: tuple[str, ...] | None = None) -> list[Reply]:
        """Up to max_concurrency requests in flight (a server batches what arrives together), each
        with its own retries; answers in the order of ``prompts``, each reported as it arrives."""
        from harness.models.openai_api import call

        client = self.endpoint.client()
        ask = lambda p: call(f"generation ({self.model_name})", self.endpoint,  # noqa: E731
                             lambda: self._one(client, p, max_tokens, free))
        out: list = [None] * len(prompts)
        with ThreadPoolExecutor(self.max_concurrency) as pool, \
                progress("generating", total=len(prompts), unit="answers") as bar:
            futures = {pool.submit(ask, p): i for i, p in enumerate(prompts)}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    out[i] = future.result()
                    if done:
                        done([i], [out[i]])
                    bar.update(1)
            except BaseException:  # the first failure ends the run's requests: the rest are not sent
                pool.shutdown(cancel_futures=True)
                raise
        return out

    def generate(self, prompts: Sequence[PromptParts], done: Done | None = None) -> list[Reply]:
        rendered = [chat_messages(p) if self.chat else completion_prompt(p) for p in prompts]
        return self._ask(rendered, self.settings.max_new_tokens, done)

    def complete(self, texts: Sequence[str], max_new_tokens: int | None = None) -> list[str]:
        rendered = [[{"role": "user", "content": t}] if self.chat else t for t in texts]
        return [r.text for r in self._ask(rendered, max_new_tokens or self.settings.max_new_tokens)]

    def write(self, texts: Sequence[str], max_new_tokens: int, done=None, stop: Sequence[str] = ()) -> list[str]:
        """Free text (models.writing), with the answers' concurrency and retries."""
        rendered = [[{"role": "user", "content": t}] if self.chat else t for t in texts]
        told = (lambda indices, replies: done(indices, [r.text for r in replies])) if done else None
        return [r.text for r in self._ask(rendered, max_new_tokens, told, free=tuple(stop))]


def _cleaned(text: str | None, free: tuple[str, ...] | None = None) -> Reply:
    from harness.models.openai_api import Malformed

    if text is None:
        raise Malformed("a reply with no text")
    return Reply(free_text(text, free)) if free is not None else clean_reply(text)
