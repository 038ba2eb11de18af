"""What drafting and synthesis share: cached free-text replies, a retry with a stricter prompt, the
first-batch check, duplicate removal and the guards on the files they write.

Replies are cached per prompt under the generator's identity (a rerun asks the model nothing), each
the moment it arrives. A reply that does not parse is asked once more with a stricter prompt; if too
few of the first batch parse even then, the run stops with one line before the rest is asked. A
file is never written empty and never overwritten: a new one goes beside it, or ``--append`` merges.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence, TypeVar

import yaml

from harness.core.cache import DiskCache, cache_key, write_atomic
from harness.core.errors import HarnessError
from harness.models import EMBEDDED, Generator
from harness.models.writing import write
from harness.inputs.config import Question, SuiteConfig
from harness.inputs.corpus import Document
from harness.inputs.yamlfile import load_yaml

WRITE_VERSION = 1  # part of every reply's cache key: bump when the stop rules change
FIRST_BATCH = 8  # replies checked before the rest is asked
MIN_PARSED = 0.25  # of the first batch, after the retry; below it the generator cannot do the job

T = TypeVar("T")


class SuiteFiles(Protocol):
    """What drafting and synthesis read of a loaded suite (harness.suite.Suite, a layer above)."""

    config: SuiteConfig
    documents: Sequence[Document]
    questions: Sequence[Question]


class Writer:
    """Free-text replies to raw prompts, cached per prompt."""

    def __init__(self, generator: Generator, cache: DiskCache, max_new_tokens: int, stop: Sequence[str] = ()):
        self.generator, self.cache, self.max_new_tokens, self.stop = generator, cache, max_new_tokens, tuple(stop)

    def _key(self, prompt: str) -> str:
        return cache_key("write", WRITE_VERSION, self.generator.identity, self.max_new_tokens, self.stop, prompt)

    def __call__(self, prompts: Sequence[str]) -> list[str]:
        keys = [self._key(p) for p in prompts]
        got: dict[str, str] = {}
        for key in keys:
            entry = self.cache.get("write", key)
            if entry is not None:
                got[key] = entry["text"]
        todo = list(dict.fromkeys(k for k in keys if k not in got))  # a repeated prompt is asked once
        if todo:
            prompt_of = dict(zip(keys, prompts))

            def done(indices, replies) -> None:
                for i, reply in zip(indices, replies):
                    if todo[i] not in got:
                        self.cache.put("write", todo[i], {"text": reply})
                        got[todo[i]] = reply

            done(range(len(todo)), write(self.generator, [prompt_of[k] for k in todo], self.max_new_tokens, done,
                                         self.stop))
        return [got[k] for k in keys]


@dataclass
class Asked:
    replies: int = 0  # replies read (a retry's too)
    retried: int = 0
    unparsable: int = 0  # still unparsable after the retry


def ask(writer: Writer, prompts: Sequence[str], stricter: Sequence[str], parse: Callable[[str], T | None],
        counts: Asked, what: str, check_first: bool = False) -> list[T | None]:
    """Each prompt's parsed reply, or None when neither it nor the stricter prompt's reply parsed.
    With ``check_first``, the first FIRST_BATCH are asked and checked before the rest."""
    cut = FIRST_BATCH if check_first else 0
    head = _ask_once(writer, prompts[:cut], stricter[:cut], parse, counts) if cut else []
    if cut and prompts and sum(p is not None for p in head) < MIN_PARSED * len(head):
        rest = len(prompts) - len(head)
        raise HarnessError(
            f"{what}: {sum(p is not None for p in head)} of the first {len(head)} replies of "
            f"{writer.generator.identity} parsed, even asked again with a stricter prompt; "
            f"{f'stopped before the other {rest}' if rest else 'nothing written'}. This generator cannot write "
            "them: use a stronger one, e.g. --generator openai:MODEL@URL (vLLM, llama.cpp's server) or a local "
            "instruction-tuned model")
    return head + _ask_once(writer, prompts[cut:], stricter[cut:], parse, counts)


def _ask_once(writer, prompts, stricter, parse, counts: Asked) -> list:
    parsed = [parse(r) for r in writer(prompts)]
    again = [i for i, p in enumerate(parsed) if p is None]
    for i, reply in zip(again, writer([stricter[i] for i in again])):
        parsed[i] = parse(reply)
    counts.replies += len(prompts) + len(again)
    counts.retried += len(again)
    counts.unparsable += sum(p is None for p in parsed)
    return parsed


def weak_note(generator: Generator) -> str:
    """The summary line's warning when the generator is the embedded default."""
    return (f" ({EMBEDDED}, the embedded default, is weak: read every draft, or use a stronger --generator)"
            if EMBEDDED in generator.identity else "")


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def unique_indices(texts: Sequence[str], embed: Callable, near_duplicate: float, seen: Sequence[str] = ()) -> list[int]:
    """Indices of ``texts`` that are neither an exact (normalised) nor a near duplicate (embedding
    cosine above ``near_duplicate``) of an earlier one or of ``seen``."""
    import numpy as np

    known = {norm(t) for t in seen}
    first = []
    for i, text in enumerate(texts):
        if norm(text) not in known:
            known.add(norm(text))
            first.append(i)
    if not first:
        return []
    rows = np.asarray(embed(list(seen) + [texts[i] for i in first]), dtype="float32")
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    kept_rows, kept = list(range(len(seen))), []
    for j, i in enumerate(first, len(seen)):
        if not kept_rows or float(np.max(rows[kept_rows] @ rows[j])) <= near_duplicate:
            kept_rows.append(j)
            kept.append(i)
    return kept


def destination(path: Path, append: bool) -> Path:
    """``path`` itself when appending or when it does not exist yet; otherwise the first free
    ``NAME.2.yaml``, ``NAME.3.yaml``... beside it: an existing file is never overwritten."""
    if append or not path.exists():
        return path
    n = 2
    while path.with_name(f"{path.stem}.{n}{path.suffix}").exists():
        n += 1
    return path.with_name(f"{path.stem}.{n}{path.suffix}")


def existing_entries(path: Path) -> list[dict]:
    """The entries of a YAML list file written before (for --append); [] when there is none."""
    if not path.is_file():
        return []
    raw = load_yaml(path)
    if not isinstance(raw, list):
        raise HarnessError("expected a YAML list to append to", path=path)
    return [dict(e) for e in raw]


def save_entries(path: Path, entries: Sequence[dict], header: str, append: bool) -> Path:
    """Write ``entries`` (after those already there, with ``append``) and return where; never an empty file."""
    if not entries:
        raise HarnessError(f"nothing to write to {path.name}: no entry survived (see the summary line)")
    target = destination(path, append)
    merged = existing_entries(target) + list(entries) if append else list(entries)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    write_atomic(target, comment + yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=120))
    return target
