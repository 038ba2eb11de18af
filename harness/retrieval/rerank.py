"""``cross-encoder``: an optional second stage that rescores the first stage's candidates.

sentence-transformers' ``CrossEncoder`` loads the model from a local path or the local Hugging Face
cache; scores are cached per (model, query, candidates), so a rerun loads no model.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Sequence

from harness.core.cache import DiskCache, cache_key
from harness.core.errors import Unavailable
from harness.models.hub import hub_unavailable_reason
from harness.retrieval.base import RERANKERS


@RERANKERS.register("cross-encoder")
class CrossEncoderReranker:
    def __init__(self, model_id: str, cache: DiskCache):
        self.model_id, self.cache = model_id, cache
        reason = hub_unavailable_reason(model_id)
        if reason:
            raise Unavailable(f"rerank model {reason}")
        path = Path(model_id)
        # A local folder is identified by its weights' size and time, which change when it is rebuilt.
        weights = sorted(path.glob("*.safetensors")) if path.is_dir() else []
        self.identity = f"cross-encoder:{model_id}" + "".join(f"|{w.stat().st_size}:{w.stat().st_mtime_ns}"
                                                              for w in weights)

    @cached_property
    def model(self):
        from sentence_transformers import CrossEncoder

        return CrossEncoder(self.model_id, device="cpu")

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        key = cache_key("rerank", self.identity, query, list(texts))
        cached = self.cache.get("rerank", key)
        if cached is None:
            cached = [float(s) for s in self.model.predict([(query, t) for t in texts], show_progress_bar=False)]
            self.cache.put("rerank", key, cached)
        return cached
