"""``llamacpp``: a GGUF run in-process by llama-cpp-python (an optional extra)."""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Sequence

from harness.core.errors import Unavailable
from harness.inputs.config import Generation
from harness.models.base import BACKENDS, Done
from harness.models.embedded import EMBEDDED, embedded_gguf, embedded_sha
from harness.models.prompts import (WRITE_STOPS, PromptParts, Reply, chat_messages, clean_reply, completion_prompt,
                                    free_text, stop_sequences)


@BACKENDS.register("llamacpp")
class LlamaCppGenerator:
    """``llamacpp:PATH.gguf`` or ``llamacpp:gemma3-270m`` (the packaged GGUF), run in-process by
    llama-cpp-python, for GGUF files of your own. Greedy, one prompt at a time."""

    def __init__(self, model: str, settings: Generation, cache_root: Path):
        self.model_name, self.settings, self.cache_root = model, settings, Path(cache_root)
        self.chat = settings.prompt_style == "chat"  # a GGUF's template is not trusted to exist

    @cached_property
    def identity(self) -> str:
        if self.model_name == EMBEDDED:
            return f"llamacpp:{EMBEDDED}@sha256:{embedded_sha()}"
        path = Path(self.model_name)
        return f"llamacpp:{path.name}@{path.stat().st_size if path.exists() else 'missing'}"

    def check_available(self) -> None:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise Unavailable("the llamacpp backend needs llama-cpp-python: `pip install -e '.[llamacpp]'` "
                              "(it builds from source in about 3 minutes)") from None
        if self.model_name != EMBEDDED and not Path(self.model_name).is_file():
            raise Unavailable(f"GGUF file not found: {self.model_name}")

    @cached_property
    def llm(self):
        from llama_cpp import Llama

        path = embedded_gguf(self.cache_root) if self.model_name == EMBEDDED else self.model_name
        return Llama(model_path=str(path), n_ctx=2048, n_threads=os.cpu_count(), seed=0, verbose=False)

    def load(self) -> None:
        self.llm  # noqa: B018

    def _one(self, prompt, max_tokens: int, free: Sequence[str] | None = None) -> Reply:
        """An answer (its first line), or with ``free`` (its stop strings) a free-text reply (models.writing)."""
        stop = [*free, *WRITE_STOPS] if free is not None else stop_sequences(self.chat)
        clean = (lambda text: Reply(free_text(text, free))) if free is not None else clean_reply
        if self.chat:
            reply = self.llm.create_chat_completion(messages=prompt, max_tokens=max_tokens, temperature=0.0, stop=stop)
            return clean(reply["choices"][0]["message"]["content"] or "")
        reply = self.llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stop=stop)
        return clean(reply["choices"][0]["text"])

    def generate(self, prompts: Sequence[PromptParts], done: Done | None = None) -> list[Reply]:
        out = []
        for i, p in enumerate(prompts):
            out.append(self._one(chat_messages(p) if self.chat else completion_prompt(p), self.settings.max_new_tokens))
            if done:
                done([i], out[-1:])
        return out

    def complete(self, texts: Sequence[str], max_new_tokens: int | None = None) -> list[str]:
        return [self._one([{"role": "user", "content": t}] if self.chat else t,
                          max_new_tokens or self.settings.max_new_tokens).text for t in texts]

    def write(self, texts: Sequence[str], max_new_tokens: int, done=None, stop: Sequence[str] = ()) -> list[str]:
        out = []
        for i, t in enumerate(texts):
            out.append(self._one([{"role": "user", "content": t}] if self.chat else t, max_new_tokens, tuple(stop)).text)
            if done:
                done([i], out[-1:])
        return out
