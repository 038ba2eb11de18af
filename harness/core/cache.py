"""A content-addressed disk cache. Keys hash everything that changes a value; writes are atomic;
every entry carries a SHA-256 of its payload and is verified when read.

An entry that fails the check (truncated, overwritten, not UTF-8, not the shape written, an
array with NaN) is deleted and reported in one line, and the caller recomputes it: a corrupt
entry is never used and never breaks a run.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator, Sequence

from harness.core.errors import HarnessError
from harness.core.progress import notice

DEFAULT_DIR = ".cache/harness"  # relative to the project root, for pytest and the CLI alike
LAYOUT = "v2"  # entries of the unverified v1 layout (bare .json/.npy) are simply not looked at


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _digest(payload: bytes) -> bytes:
    return hashlib.sha256(payload).hexdigest().encode()


class Corrupt(ValueError):
    pass


def atomic_write(path: Path, write: Callable[[Any], None], mode: int | None = None) -> None:
    """``write(handle)`` into a temporary file beside ``path``, then rename it over ``path``:
    readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str) -> None:
    """A report file, written atomically and readable by all (mkstemp makes files private)."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")), mode=0o644)


class DiskCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, namespace: str, key: str, suffix: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}.{LAYOUT}{suffix}"

    def _put_bytes(self, path: Path, payload: bytes) -> None:
        atomic_write(path, lambda handle: handle.write(_digest(payload) + b"\n" + payload))

    def _get_bytes(self, path: Path, parse: Callable[[bytes], Any]) -> Any | None:
        """The parsed payload, or None when absent; a corrupt entry is deleted and reported."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            digest, sep, payload = data.partition(b"\n")
            if not sep or digest != _digest(payload):
                raise Corrupt("checksum mismatch")
            return parse(payload)
        except (Corrupt, ValueError, EOFError, OSError) as err:
            path.unlink(missing_ok=True)
            notice(f"cache entry {path} is corrupt ({err}); discarded, recomputing")
            return None

    def get(self, namespace: str, key: str) -> Any | None:
        return self._get_bytes(self._path(namespace, key, ".json"), lambda payload: json.loads(payload.decode()))

    def put(self, namespace: str, key: str, value: Any) -> None:
        payload = json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
        self._put_bytes(self._path(namespace, key, ".json"), payload)

    @contextmanager
    def claim(self, namespace: str, keys: Sequence[str]) -> Iterator[list[bool]]:
        """Hold a lock on each entry that no other process is computing: one flag per key, True where
        this process got it. Workers that share a cache (``-n``, shards on one file system) then
        compute each entry once; ``wait`` blocks until another's claim on a key ends."""
        with ExitStack() as held:
            yield [self._try_lock(namespace, key, held) for key in keys]

    def _lock(self, namespace: str, key: str):
        from filelock import FileLock

        path = self.root / "locks" / namespace / key[:2] / f"{key}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(path)

    def _try_lock(self, namespace: str, key: str, held: ExitStack) -> bool:
        from filelock import Timeout

        try:
            held.enter_context(self._lock(namespace, key).acquire(timeout=0))
        except Timeout:
            return False
        return True

    def wait(self, namespace: str, key: str) -> None:
        with self._lock(namespace, key):
            pass

    def get_array(self, namespace: str, key: str):
        return self._get_bytes(self._path(namespace, key, ".npy"), _load_array)

    def put_array(self, namespace: str, key: str, array) -> None:
        import numpy as np

        array = np.asarray(array)
        if not np.isfinite(array).all():
            raise HarnessError(f"the {namespace} came out with NaN or infinite values; it was not cached")
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self._put_bytes(self._path(namespace, key, ".npy"), buffer.getvalue())


def _load_array(payload: bytes):
    import numpy as np

    array = np.load(io.BytesIO(payload), allow_pickle=False)
    if array.size == 0 or not np.isfinite(array).all():
        raise Corrupt("empty, NaN or infinite values")
    return array


MANIFEST = "harness-manifest.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def seal(folder: Path) -> None:
    """Record every file's SHA-256 in the folder (a converted model, an adapter) before it is
    published, so that a later read can tell it is whole."""
    files = {str(p.relative_to(folder)): file_sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    (folder / MANIFEST).write_text(json.dumps(files, indent=1))


def intact(folder: Path) -> bool:
    """True when every file of a sealed folder matches its manifest. A folder that does not is
    deleted and reported, and the caller rebuilds it; an absent folder is simply False."""
    if not folder.exists():
        return False
    try:
        files = json.loads((folder / MANIFEST).read_text())
        damaged = [name for name, sha in files.items() if file_sha256(folder / name) != sha]
        problem = f"{len(damaged)} file(s) changed: {', '.join(damaged[:3])}" if damaged else None
    except (OSError, ValueError, AttributeError) as err:
        problem = f"no readable manifest ({type(err).__name__})"
    if problem is None:
        return True
    shutil.rmtree(folder, ignore_errors=True)
    notice(f"cached folder {folder} is damaged ({problem}); discarded, rebuilding")
    return False
