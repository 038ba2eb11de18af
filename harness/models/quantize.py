"""GPTQ: a 4-bit checkpoint of a transformers generator, calibrated on the suite's own corpus.

transformers' GPTQ integration quantizes on load (optimum's GPTQQuantizer, gptqmodel's kernels) and
saves a checkpoint that ``generator:`` then points at, like any other; gptqmodel's torch kernels run
it, and LoRA trains on it, on any CPU.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

from harness.core.errors import HarnessError, Unavailable
from harness.core.progress import progress

GPTQ_RUNTIME = ("optimum", "gptqmodel")  # what transformers' GPTQ integration loads and writes GPTQ with
INSTALL = 'pip install -e ".[gptq]"'
RECORD = "harness-quantize.json"  # how the checkpoint was made, beside its weights


def missing_runtime() -> list[str]:
    return [name for name in GPTQ_RUNTIME if importlib.util.find_spec(name) is None]


def require_runtime(what: str) -> None:
    missing = missing_runtime()
    if missing:
        raise Unavailable(f"{what} needs {' and '.join(missing)}: {INSTALL}")


def quantization_config(model: str) -> dict:
    """The ``quantization_config`` a checkpoint's config.json holds (local folder or local HF cache), unloaded."""
    config = Path(model) / "config.json"
    if not config.exists():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json")
        if not isinstance(cached, str):
            return {}
        config = Path(cached)
    return json.loads(config.read_text()).get("quantization_config") or {}


def quantize(source: Path | str, source_identity: str, texts: Sequence[str], out: Path, bits: int = 4,
             group_size: int = 128) -> dict:
    """Quantize ``source`` (a transformers checkpoint) into ``out``, written whole or not at all."""
    require_runtime("harness quantize")
    if out.exists():
        raise HarnessError(f"{out} exists: remove it or choose another --out (a checkpoint is never overwritten)")
    if not texts:
        raise HarnessError("no calibration text: the suite's corpus has no chunk to calibrate GPTQ on")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPTQConfig

    tokenizer = AutoTokenizer.from_pretrained(source)
    config = GPTQConfig(bits=bits, group_size=group_size, dataset=list(texts), tokenizer=tokenizer)
    start = time.perf_counter()
    with progress(f"quantizing {source_identity} to {bits}-bit GPTQ on {len(texts)} corpus chunks"):
        try:  # float32 on load: Gemma's activations overflow float16, and every CPU runs float32
            model = AutoModelForCausalLM.from_pretrained(source, quantization_config=config, dtype=torch.float32)
        except ValueError as err:  # a shape gptqmodel cannot pack, say; its reason in one line
            raise HarnessError(f"GPTQ cannot quantize {source_identity}: {err}") from None
    record = {"source": source_identity, "bits": bits, "group_size": group_size, "calibration_texts": len(texts),
              "seconds": round(time.perf_counter() - start, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))  # one per run: two runs never share it
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        tmp.rename(out)
    except OSError as err:  # another run wrote `out` first, or the disk is full: nothing half-written is kept
        raise HarnessError(f"could not write {out}: {err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record
