"""The packaged GGUF (models.embedded) for the ``hf`` backend: converted once to a safetensors folder
in the cache, and its tokenizer alone read once from the GGUF (to count tokens without converting).

transformers is imported only when a conversion runs.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.core.cache import intact, seal
from harness.core.progress import progress
from harness.models.embedded import EMBEDDED, embedded_gguf, embedded_sha, parsed_once_gguf


def converted_path(cache_root: Path) -> Path:
    return Path(cache_root) / "models" / f"{EMBEDDED}-{embedded_sha()[:16]}"


def embedded_path(cache_root: Path) -> Path:
    """The safetensors copy of the packaged GGUF, converted on first use."""
    target = converted_path(cache_root)
    if intact(target):
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    with progress("converting the packaged Gemma GGUF to safetensors (once; about 30 s)", total=2,
                  unit="steps") as bar:
        gguf = embedded_gguf(cache_root)
        with parsed_once_gguf():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        bar.update(1)
        # The weights are dequantized to float32 on load; drop the GGUF marker so they save plainly.
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        seal(tmp)
        bar.update(1)
    try:
        tmp.rename(target)
    except OSError:  # another worker finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def embedded_tokenizer(cache_root: Path):
    """The packaged model's tokenizer without its weights: from the converted folder where there is one,
    else read from the GGUF once and kept beside it."""
    from transformers import AutoTokenizer

    converted = converted_path(cache_root)
    alone = converted.with_name(converted.name + "-tokenizer")  # read from the GGUF once, then kept
    for folder in (converted, alone):
        if (folder / "tokenizer.json").exists():
            return AutoTokenizer.from_pretrained(folder)
    gguf = embedded_gguf(cache_root)
    with parsed_once_gguf():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tmp = alone.with_name(f"{alone.name}.tmp{os.getpid()}")
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(alone)
    except OSError:  # another process kept it first
        shutil.rmtree(tmp, ignore_errors=True)
    return tokenizer
