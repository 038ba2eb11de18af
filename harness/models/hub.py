"""Is a Hugging Face model available offline? Models load from a local path or the local HF cache only."""
from __future__ import annotations

from pathlib import Path


def hub_unavailable_reason(model_id: str) -> str | None:
    """Why a Hugging Face id cannot be loaded here, or None when it can.

    Models load from a local path or the local Hugging Face cache only: a run never waits on the
    network, and a missing model is a one-line skip that says how to fetch it.
    """
    if Path(model_id).exists():
        return None
    from huggingface_hub import try_to_load_from_cache

    for name in ("config.json", "modules.json"):
        if isinstance(try_to_load_from_cache(model_id, name), str):
            return None
    return (f"{model_id} is not in the local Hugging Face cache; run `hf download {model_id}` "
            f"on a machine with network access (or point HF_HOME at a cache that has it)")
