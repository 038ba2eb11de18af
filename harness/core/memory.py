"""A process's peak resident memory over a stretch of work (Linux: VmHWM, reset through clear_refs).

Where the peak cannot be reset, a stretch's peak cannot be told from an earlier one's, so nothing
is reported ("where it is known")."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

STATUS, CLEAR = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _reset() -> bool:
    try:
        CLEAR.write_text("5")  # 5: reset the peak RSS to the current RSS
        return True
    except OSError:
        return False


def _peak_mb() -> float | None:
    try:
        line = next(line for line in STATUS.read_text().splitlines() if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024  # kB


@contextmanager
def peak_rss(record: dict[str, float], name: str) -> Iterator[None]:
    """Measure the peak resident memory of the block into ``record[name]`` (the larger of what it holds)."""
    known = _reset()
    try:
        yield
    finally:
        peak = _peak_mb() if known else None
        if peak is not None:
            record[name] = round(max(record.get(name) or 0.0, peak), 1)
