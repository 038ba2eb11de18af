"""Embeddings cached on disk per (model, text), saved batch by batch as they are computed."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, Sequence

from harness.core.cache import DiskCache, cache_key
from harness.core.errors import HarnessError
from harness.core.progress import progress

BATCH = 64  # texts embedded and saved at a time: an interrupted run keeps what it finished


def cached_rows(identity: str, embed: Callable[[list[str]], Sequence], texts: Sequence[str], cache: DiskCache,
                namespace: str = "embedding") -> list:
    """One array per text; each text is embedded once per model, ever. A batch is cached only when
    the model returned every array asked for."""
    keys = [cache_key(namespace, identity, t) for t in texts]
    rows = [cache.get_array(namespace, key) for key in keys]
    missing = [i for i, row in enumerate(rows) if row is None]
    if not missing:
        return rows
    # A bar only for more than one batch: the eval's one-question retrievals stay quiet.
    with progress(f"embedding with {identity}", total=len(missing), unit="texts") if len(missing) > BATCH \
            else nullcontext() as bar:
        for start in range(0, len(missing), BATCH):
            batch = missing[start:start + BATCH]
            fresh = embed([texts[i] for i in batch])
            if len(fresh) != len(batch):
                raise HarnessError(f"{identity} returned {len(fresh)} embeddings for {len(batch)} texts")
            for i, row in zip(batch, fresh):
                cache.put_array(namespace, keys[i], row)
                rows[i] = row
            if bar:
                bar.update(len(batch))
    return rows


def embed_cached(embedder, texts: Sequence[str], cache: DiskCache):
    """A float32 matrix, one row per text, from ``embedder.embed`` through the cache."""
    import numpy as np

    rows = cached_rows(embedder.identity, embedder.embed, texts, cache)
    return np.stack(rows) if rows else np.zeros((0, 0), dtype="float32")


def unit(matrix):
    import numpy as np

    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)
