"""A content-addressed disk cache. Keys hash everything that changes a value; writes are atomic."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class DiskCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, namespace: str, key: str, suffix: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}{suffix}"

    def _write(self, path: Path, write: Callable[[Any], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
            os.replace(tmp, path)  # readers see the old file or the whole new one, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, namespace: str, key: str) -> Any | None:
        path = self._path(namespace, key, ".json")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, namespace: str, key: str, value: Any) -> None:
        data = json.dumps(value, ensure_ascii=False).encode()
        self._write(self._path(namespace, key, ".json"), lambda handle: handle.write(data))

    def get_array(self, namespace: str, key: str):
        import numpy as np

        path = self._path(namespace, key, ".npy")
        return np.load(path) if path.exists() else None

    def put_array(self, namespace: str, key: str, array) -> None:
        import numpy as np

        self._write(self._path(namespace, key, ".npy"), lambda handle: np.save(handle, array))
