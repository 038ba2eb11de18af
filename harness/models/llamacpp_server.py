"""A llama.cpp server (llama-cpp-python's ``llama_cpp.server``) on loopback, for tests and benchmarks.

It is always stopped when the block ends, however it ends: SIGTERM, then SIGKILL after a short
grace period, because the server ignores SIGTERM while a request is in flight. On Linux it is also
killed if the process that started it dies first (killed, crashed) before it could stop it.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

GRACE_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGKILL when the parent dies (Linux)."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG


def stop(proc: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """Terminate ``proc``; kill it if it is still running ``grace`` seconds later."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def llama_server(model: Path, log: Path, *args: str, start_seconds: float = 120.0) -> Iterator[str]:
    """Serve the GGUF ``model`` with embeddings on; yields the base URL (``http://127.0.0.1:PORT/v1``).
    ``args`` are more server options; its output and access log go to ``log`` (a file: a full pipe
    would block it)."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                                 "--host", "127.0.0.1", "--port", str(port), "--embedding", "true",
                                 "--n_threads", str(os.cpu_count()), *args],
                                stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent if sys.platform == "linux" else None)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"llama.cpp server did not start: {Path(log).read_text()[-500:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        stop(proc)
