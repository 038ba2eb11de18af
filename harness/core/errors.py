"""Errors a user can act on: each renders as one line naming the file, line and item."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable


class HarnessError(Exception):
    """Bad input or configuration. ``str(err)`` is the whole message: one line, no traceback."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 item: str | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        if item:
            where += f"{item}: "
        super().__init__(where + message)


class PromptTooLong(HarnessError):
    """A prompt that does not fit the generator's context; found before anything is generated."""

    def __init__(self, question: str, tokens: int, new_tokens: int, limit: int, generator: str):
        self.question = question
        super().__init__(f"the prompt is {tokens} tokens, plus {new_tokens} to generate, but {generator} reads "
                         f"at most {limit}; lower k or chunk_tokens")


class Unavailable(Exception):
    """A system or model cannot run here; the message says how to make it available."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, else the list of valid names."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (choose from: {', '.join(choices)})"
