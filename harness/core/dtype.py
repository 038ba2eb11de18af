"""`generation.dtype: auto` on a CPU: bfloat16 where it is measured faster than float32 on this machine.

A CPU flag says whether bfloat16 instructions exist, not whether torch's kernels beat float32 with
them: a 2-core Zen 4 EPYC (AVX512-BF16, no AMX) runs the default model's matrix products 3.4x
faster in bfloat16, and a CPU that emulates bfloat16 runs them slower. So the first run on a
machine times the model's own matrix shapes in both dtypes, interleaved (about a second), and
keeps the choice on disk under everything that changes it: the CPU, its cores, the run's thread
count, torch's version and the workload measured. Reading a kept choice imports no torch (the
pytest header prints it).
"""
from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.core.cache import cache_key, write_atomic
from harness.core.threads import generation_threads

# What holds torch (ATen, oneDNN, MKL) to an older CPU's kernels, and the values that leave no bfloat16
# arithmetic. Under them the probe misleads: on an AVX512-BF16 EPYC held to AVX2 it measured bfloat16 at
# 1.4x float32, where real AVX2-only EPYCs measured 0.9-1.2x and kept float32.
WITHOUT_BF16 = {"ATEN_CPU_CAPABILITY": {"default", "avx2"},
                "ONEDNN_MAX_CPU_ISA": {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2"},
                "MKL_ENABLE_INSTRUCTIONS": {"SSE4_2", "AVX", "AVX2"}}
FASTER_BY = 1.25  # bfloat16 changes a few answers: it is chosen only when clearly faster, not within noise
ROUNDS = 3  # interleaved float32/bfloat16 rounds; the median of each dtype's rounds is compared


@dataclass(frozen=True)
class Shape:
    """One matrix product of a generation step: ``rows`` tokens through an ``n_in -> n_out`` linear,
    ``count`` times per batch of answers."""

    rows: int
    n_in: int
    n_out: int
    count: int = 1
    weight_major: bool = False  # in float32, taken as weight @ x.T, as generation takes its output layer

    @property
    def flops(self) -> int:
        return 2 * self.rows * self.n_in * self.n_out * self.count


@dataclass(frozen=True)
class Decision:
    dtype: str
    why: str  # "measured", "set", "gpu", "emulated"
    ratio: float | None = None  # float32 time over bfloat16 time, when measured
    held: str = ""  # emulated: the environment that holds torch to older kernels

    def __str__(self) -> str:
        if self.why == "emulated":
            return f"float32 (emulated CPU without bfloat16 arithmetic: {self.held}; such CPUs measured and kept float32)"
        if self.why == "set":
            return f"{self.dtype} (generation.dtype: {self.dtype})"
        if self.why == "gpu":
            return f"{self.dtype} (GPU {'with' if self.dtype == 'bfloat16' else 'without'} bfloat16 support)"
        if self.dtype == "bfloat16":
            return f"bfloat16 (measured {self.ratio:.1f}× float32 on this CPU)"
        return f"float32 (bfloat16 measured {self.ratio:.1f}× float32 on this CPU, below {FASTER_BY}×)"


def emulated() -> Decision | None:
    """float32 when the environment holds torch to kernels without bfloat16 arithmetic (WITHOUT_BF16)."""
    held = [f"{name}={os.environ[name]}" for name, values in WITHOUT_BF16.items()
            if os.environ.get(name, "").strip().upper() in {v.upper() for v in values}]
    return Decision("float32", "emulated", held=" ".join(held)) if held else None


def cpu_model() -> str:
    """The CPU's model name and flags (a VM may hide some flags of the same model)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: the platform's name is all there is
        import platform

        return platform.processor() or platform.machine()
    lines = text.splitlines()
    first = lambda field: next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(field)), "")  # noqa: E731
    return f"{first('model name')} [{first('flags')}]"


def _key(workload: str) -> str:
    return cache_key("dtype-decision/2", cpu_model(), os.cpu_count(), generation_threads(),
                     metadata.version("torch"), workload)


def _path(cache_root: Path, workload: str) -> Path:
    return Path(cache_root) / "dtype" / f"{_key(workload)}.json"


def cached_decision(cache_root: Path, workload: str) -> Decision | None:
    """The choice kept for this machine and workload, or None; imports no torch."""
    try:
        kept = json.loads(_path(cache_root, workload).read_text())
        return Decision(kept["dtype"], "measured", kept["ratio"])
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or a torn file from an older run: measure
        return None


def product(dtype: str, shape: Shape) -> Callable[[], Any]:
    """``shape``'s matrix product in ``dtype``, as generation computes it (hf_dtype.weight_major_output_layer)."""
    import torch
    import torch.nn.functional as F

    kind = getattr(torch, dtype)
    x = torch.full((shape.rows, shape.n_in), 0.01, dtype=kind)  # constants: no denormals, no RNG cost
    w = torch.full((shape.n_out, shape.n_in), 0.01, dtype=kind)
    if shape.weight_major and dtype == "float32":
        return lambda: w @ x.T
    return lambda: F.linear(x, w)


def seconds(dtype: str, shape: Shape) -> float:
    """One timed product of ``shape`` in ``dtype`` (after one untimed warm-up)."""
    run = product(dtype, shape)
    run()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def workload_seconds(shapes: Sequence[Shape]) -> dict[str, float]:
    """Each dtype's time for one batch of answers: the median of ROUNDS interleaved rounds (a loaded,
    shared machine slows both dtypes alike within a round), each shape weighted by its count."""
    rounds: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(ROUNDS):
        for dtype, times in rounds.items():
            times.append(sum(s.count * seconds(dtype, s) for s in shapes))
    return {dtype: statistics.median(times) for dtype, times in rounds.items()}


def measured_decision(cache_root: Path, workload: str, shapes: Sequence[Shape]) -> Decision:
    """Time ``shapes`` in both dtypes, choose, and keep the choice for this machine and workload."""
    timed = workload_seconds(shapes)
    ratio = timed["float32"] / timed["bfloat16"]
    decision = Decision("bfloat16" if ratio >= FASTER_BY else "float32", "measured", round(ratio, 2))
    write_atomic(_path(cache_root, workload), json.dumps(
        {"dtype": decision.dtype, "ratio": decision.ratio, "seconds": timed, "cpu": cpu_model(),
         "threads": generation_threads(), "torch": metadata.version("torch"), "workload": workload}))
    return decision
