"""How many threads generation uses: the run's count, on every xdist worker alike.

On a CPU, oneDNN's bfloat16 matrix products divide their work by the thread count, and some
shapes then sum in another order: 7 of the default model's 58 RAG answers differed between one
and two threads. So a worker, which otherwise gets its share of the cores (harness/workers.py),
generates with the run's full count, and one process generates on the CPU at a time, so that
the workers do not oversubscribe the cores.
"""
from __future__ import annotations

import os

GENERATION_THREADS = "HARNESS_GENERATION_THREADS"  # set on xdist workers to the controller's count


def generation_threads() -> int:
    """The run's thread count: OMP_NUM_THREADS when the user set it, else every core."""
    for name in (GENERATION_THREADS, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1
