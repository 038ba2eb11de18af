"""How long `harness sweep` takes on the default suite with the default grid (24 configurations).

Cold: an empty cache, so every chunk and query is embedded and the generator's tokenizer is read
from the packaged GGUF. Warm: the same command again on that cache. Prints wall and CPU seconds of
both and their ratio, and the load average; the budget is 5 minutes cold on 2 CPU cores.

    .venv/bin/python benchmarks/sweep_speed.py [--suite fixtures/touch_rugby]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 300


def sweep(suite: str, cache: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one `harness sweep`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", "sweep", "--suite", suite, "--cache-dir", str(cache),
                    "--out", str(out), "--json", str(out / "sweep.json"), "--systems", "rag-minilm"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.perf_counter() - start, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="fixtures/touch_rugby")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "out"
        (cold, cold_cpu), (warm, warm_cpu) = sweep(args.suite, cache, out), sweep(args.suite, cache, out)
        configs = len(__import__("json").loads((out / "sweep.json").read_text())["configs"]) - 1
    print(f"harness sweep, default grid ({configs} configurations) on {args.suite}:")
    print(f"  cold (empty cache): {cold:.1f} s wall, {cold_cpu:.1f} s CPU   budget {BUDGET_S} s: "
          f"{'within' if cold <= BUDGET_S else 'OVER'}")
    print(f"  warm (cached):      {warm:.1f} s wall, {warm_cpu:.1f} s CPU   cold/warm {cold / warm:.1f}x")
    print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows the wall times)")


if __name__ == "__main__":
    main()
