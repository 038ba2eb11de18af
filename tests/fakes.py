"""Fake models registered through the harness's real registries, for fast library tests.

``fake:copy`` answers with the sentence of the top retrieved chunk that shares most words with
the question, and "unknown" without context: so RAG is right exactly when retrieval ranks the
fact's chunk first, and the baseline is always wrong. ``bow`` embeds bags of hashed words, so retrieval is lexical and deterministic.
"""
from __future__ import annotations

import hashlib
import os
import re

import numpy as np

from harness.models import BACKENDS
from harness.retrieval.embedders import EMBEDDERS

CALLS = {"generate": 0, "sizes": []}  # prompts generated; prompts per generate() call


@BACKENDS.register("fake")
class CopyGenerator:
    def __init__(self, model, settings, cache_root):
        self.identity = f"fake:{model}"

    def check_available(self):
        pass

    def generate(self, prompts, done=None):
        CALLS["generate"] += len(prompts)
        CALLS["sizes"].append(len(prompts))
        if os.environ.get("FAKE_GENERATIONS"):  # counted across xdist workers, one line per prompt
            with open(os.environ["FAKE_GENERATIONS"], "a") as log:
                log.writelines(f"{p.question}|{p.context}\n" for p in prompts)
        out = []
        for p in prompts:
            if not p.context:
                out.append("unknown")
                continue
            asked = _words(p.question)
            sentences = [s.strip() for s in re.split(r"[.\n]", p.context[0]) if s.strip()]
            out.append(max(sentences, key=lambda s: len(asked & _words(s))))
        return out


def _words(text):
    return set(re.findall(r"[a-z0-9]+", text.lower()))


class BagOfWords:
    identity = "bow-64"
    max_tokens = None

    def check_available(self):
        pass

    def token_spans(self, text):
        return [m.span() for m in re.finditer(r"\S+", text)]

    def embed(self, texts):
        rows = np.zeros((len(texts), 64), dtype="float32")
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if len(word) > 3:
                    rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1
        return rows


EMBEDDERS.register("bow")(lambda generator: BagOfWords())


@BACKENDS.register("scripted")
class ScriptedGenerator:
    """Replies from REPLIES in order, for judge tests; records the prompts it was sent."""

    REPLIES: list[str] = []
    PROMPTS: list[str] = []

    def __init__(self, model, settings, cache_root):
        self.identity = f"scripted:{model}"

    def check_available(self):
        pass

    def complete(self, texts, max_new_tokens=None):
        self.PROMPTS.extend(texts)
        return [self.REPLIES.pop(0) for _ in texts]

    def write(self, texts, max_new_tokens, done=None, stop=()):
        return self.complete(texts, max_new_tokens)


class AlwaysRight:
    """A third-party judge, loaded through the entry-point group in tests."""

    identity = "always-right"
    model = None

    def __init__(self, config, ctx):
        pass

    def grade(self, question, candidate):
        from harness.judges import Verdict

        return Verdict(True, "always right")


@BACKENDS.register("crash")
class CrashingGenerator(CopyGenerator):
    """Fails every batch the same way: a crash that is not about any one question."""

    def generate(self, prompts, done=None):
        raise RuntimeError("the model fell over")


@BACKENDS.register("runon")
class RunOnGenerator(CopyGenerator):
    """A base model behind a chat API whose template it does not know: every answer runs on into an
    invented next turn. Plain strings, as a backend of your own returns them."""

    def generate(self, prompts, done=None):
        return [f"{answer} </s><s>[INST] What else?" for answer in super().generate(prompts)]


@BACKENDS.register("drafter")
class DraftingGenerator:
    """Free-text replies for drafting and synthesis tests (models.writing calls ``write``). A reply
    is chosen by the first key of RULES found in the prompt's last "Sentence: ..." or "Question: ..."
    line (the whole prompt for synthesis): (reply to the first prompt, reply to the stricter one). A
    prompt no rule matches gets DEFAULT. PROMPTS records every prompt sent."""

    RULES: dict[str, tuple[str, str]] = {}
    DEFAULT = ("", "")
    PROMPTS: list[str] = []

    def __init__(self, model, settings, cache_root):
        self.identity = f"drafter:{model}"

    def check_available(self):
        pass

    def write(self, texts, max_new_tokens, done=None, stop=()):
        self.PROMPTS.extend(texts)
        out = []
        for text in texts:
            about = [line for line in text.splitlines() if line.startswith(("Sentence: ", "Question: "))]
            subject = about[-1] if about else text
            first, strict = next((r for k, r in self.RULES.items() if k in subject), self.DEFAULT)
            out.append(strict if text.startswith("Reply with") else first)
        if done:
            done(range(len(texts)), out)
        return out
