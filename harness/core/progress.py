"""Progress of long phases (conversion, embedding, training, generation), shown without ``-s``.

On a terminal it is a tqdm bar; elsewhere (CI logs, pipes) a plain line every few seconds, so a
log shows what phase the run is in, how far it is and how long is left. Under pytest the plugin
calls :func:`attach` with the real terminal and a way to step around output capture; without
it (the CLI, benchmarks) progress goes to stderr.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Callable, ContextManager, Iterator, TextIO

PLAIN_EVERY_S = 10.0  # a plain line at most this often, plus the first and the last

_scope: ContextVar[str] = ContextVar("progress_scope", default="")
_stream: TextIO | None = None
_uncaptured: Callable[[], ContextManager] = nullcontext


def attach(stream: TextIO, uncaptured: Callable[[], ContextManager]) -> None:
    """Send progress to ``stream``, writing inside ``uncaptured()`` (pytest's capture suspended)."""
    global _stream, _uncaptured
    _stream, _uncaptured = stream, uncaptured


def detach() -> None:
    global _stream, _uncaptured
    _stream, _uncaptured = None, nullcontext


class _Terminal:
    """A file for tqdm that writes past pytest's capture."""

    def write(self, text: str) -> None:
        with _uncaptured():
            stream = _stream or sys.stderr
            stream.write(text)
            stream.flush()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        with _uncaptured():
            return bool(getattr(_stream or sys.stderr, "isatty", lambda: False)())


def notice(line: str) -> None:
    """One line for the user (a discarded cache entry, say), shown without ``-s``."""
    _Terminal().write(f"[harness] {line}\n")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds // 60 % 60:02d}"


class PlainBar:
    """A line per update, at most every PLAIN_EVERY_S: ``phase: 16/58 answers (28%), 0:45 elapsed, ~1:52 left``."""

    def __init__(self, phase: str, total: int | None, unit: str, out: _Terminal):
        self.phase, self.total, self.unit, self.out, self.every = phase, total, unit, out, PLAIN_EVERY_S
        self.done, self.postfix = 0, {}
        self.start = self.last = time.monotonic()
        self._line()

    def update(self, n: int = 1, **postfix) -> None:
        self.done += n
        self.postfix.update(postfix)
        now = time.monotonic()
        if now - self.last >= self.every and self.done != self.total:  # the last line is close()'s
            self._line(now)

    def close(self) -> None:
        self._line(final=True)

    def _line(self, now: float | None = None, final: bool = False) -> None:
        now = now or time.monotonic()
        self.last = now
        elapsed = now - self.start
        parts = [f"{self.done}/{self.total} {self.unit} ({self.done / self.total:.0%})" if self.total
                 else f"{self.done} {self.unit}" if self.done else "started"]
        parts.append(f"{_clock(elapsed)} elapsed")
        if self.total and 0 < self.done < self.total and not final:
            parts.append(f"~{_clock(elapsed / self.done * (self.total - self.done))} left")
        parts += [f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.postfix.items()]
        self.out.write(f"[harness] {self.phase}: {', '.join(parts)}{' done' if final else ''}\n")


class _TqdmBar:
    def __init__(self, phase: str, total: int | None, unit: str, out: _Terminal):
        from tqdm import tqdm

        out.write("\n")  # off pytest's line of dots
        self.bar = tqdm(total=total, desc=phase, unit=f" {unit}", file=out, mininterval=0.5, dynamic_ncols=True)

    def update(self, n: int = 1, **postfix) -> None:
        if postfix:
            self.bar.set_postfix({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in postfix.items()},
                                 refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


@contextmanager
def scope(label: str) -> Iterator[None]:
    """Name what the phases inside work for: ``rag-minilm: generating 16/58 answers``."""
    token = _scope.set(label)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def progress(phase: str, total: int | None = None, unit: str = "items") -> Iterator[PlainBar | _TqdmBar]:
    """``with progress("training lora", total=116, unit="steps") as bar: bar.update(1, loss=1.8)``."""
    out = _Terminal()
    phase = f"{_scope.get()}: {phase}" if _scope.get() else phase
    bar = _TqdmBar(phase, total, unit, out) if out.isatty() else PlainBar(phase, total, unit, out)
    try:
        yield bar
    finally:
        bar.close()
