"""Timings that hold still on a shared, noisy machine.

Contenders run interleaved, one call each per round, in rotating order (A B C, B C A, C A B, ...),
after one untimed warm-up call each: a slow spell then lands on every contender, not on whichever
happened to run during it. Each is reported as its median and its spread (slowest minus fastest, as a
share of the median), and a ratio is flagged when either side varied too much to trust it.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

MAX_SPREAD = 0.25  # above this, a contender's median moves with the machine's load, not its own speed


def interleave(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender over ``rounds`` interleaved rounds."""
    names = list(contenders)
    for name in names:
        contenders[name]()  # warm-up: model loads, caches, lazy imports
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


@dataclass(frozen=True)
class Summary:
    median: float
    fastest: float
    slowest: float

    @classmethod
    def of(cls, seconds: list[float]) -> "Summary":
        return cls(statistics.median(seconds), min(seconds), max(seconds))

    @property
    def spread(self) -> float:
        return (self.slowest - self.fastest) / self.median


def report(seconds: dict[str, list[float]], reference: str, *, work: int, unit: str,
           max_spread: float = MAX_SPREAD) -> list[str]:
    """One line per contender (median, range, spread, rate, speed against ``reference`` with the range
    that speed could take given both spreads), then a warning per contender too noisy to compare."""
    stats = {name: Summary.of(s) for name, s in seconds.items()}
    ref = stats[reference]
    width = max(map(len, stats))
    lines = []
    for name, s in stats.items():
        lines.append(f"  {name:<{width}}  median {s.median:7.2f} s  range {s.fastest:.2f}-{s.slowest:.2f} s "
                     f"(spread {s.spread:4.0%})  {work / s.median:6.2f} {unit}/s  {ref.median / s.median:5.2f}x "
                     f"{reference} [{ref.fastest / s.slowest:.2f}-{ref.slowest / s.fastest:.2f}]")
    noisy = [name for name, s in stats.items() if s.spread > max_spread]
    for name in noisy:
        rounds = len(seconds[name])
        lines.append(f"  WARNING: {name} varied by {stats[name].spread:.0%} of its median over {rounds} rounds "
                     f"(limit {max_spread:.0%}): ratios with it are not to be trusted; rerun on a quieter "
                     f"machine or with more rounds")
    return lines
