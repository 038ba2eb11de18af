"""The names of a checkpoint's linear layers, read from its safetensors headers without loading it, so that
LoRA's ``target_modules`` are checked when a run starts rather than when training does."""
from __future__ import annotations

import json
import struct
from pathlib import Path

# The packaged Gemma 3 270M, as converted (models.hf_gguf): read from its safetensors header once, here,
# because the first run checks its settings before it converts anything.
EMBEDDED_LINEARS = frozenset({"down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"})


def _header(path: Path) -> dict:
    with path.open("rb") as handle:
        size = struct.unpack("<Q", handle.read(8))[0]
        return json.loads(handle.read(size))


def linear_names(folder: Path) -> frozenset[str] | None:
    """The last name part of every 2-D ``*.weight`` but the embeddings and the output layer; None when the
    folder holds no such tensor (no safetensors, or a quantized checkpoint's packed weights)."""
    names = set()
    for path in sorted(Path(folder).glob("*.safetensors")):
        for key, info in _header(path).items():
            module = key.removesuffix(".weight").rsplit(".", 1)[-1]
            if key.endswith(".weight") and len(info.get("shape", ())) == 2 and "embed" not in module \
                    and module != "lm_head":
                names.add(module)
    return frozenset(names) or None
