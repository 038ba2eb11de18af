"""How far generation is from the machine's limit: achieved FLOP/s against a measured matmul peak.

A transformer's forward pass costs 2 FLOPs per weight per token, plus attention over the context
(left out: under 5% at the default model's ~450-token RAG prompts). The output layer runs only on
the positions that pick a token: the last prompt position and each answer token. Achieved counts
useful work only (the prompts' own tokens and the answers' tokens), not padding or the copies that
fill a short batch, so the gap to the peak includes what batching spends on them.
"""
from __future__ import annotations

from benchmarks.interleave import Summary, interleave

PEAK_SHAPE = (1024, 2048, 2048)  # rows, in, out: large enough that one F.linear is compute-bound


def generation_flops(model, prompt_tokens: int, answer_tokens: int, prompts: int) -> int:
    """The useful FLOPs of answering ``prompts`` prompts of ``prompt_tokens`` tokens in all, with
    ``answer_tokens`` generated tokens in all."""
    output = model.get_output_embeddings().weight.numel()
    tied = model.get_input_embeddings().weight is model.get_output_embeddings().weight
    body = sum(p.numel() for p in model.parameters()) - model.get_input_embeddings().weight.numel()
    body -= 0 if tied else output
    return 2 * body * (prompt_tokens + answer_tokens) + 2 * output * (prompts + answer_tokens)


def matmul_peak(dtype: str, rounds: int) -> float:
    """FLOP/s of one large F.linear in ``dtype`` on the run's threads: the median of ``rounds``."""
    import torch
    import torch.nn.functional as F

    rows, n_in, n_out = PEAK_SHAPE
    x = torch.full((rows, n_in), 0.01, dtype=getattr(torch, dtype))
    w = torch.full((n_out, n_in), 0.01, dtype=getattr(torch, dtype))
    seconds = interleave({dtype: lambda: F.linear(x, w)}, rounds)[dtype]
    return 2 * rows * n_in * n_out / Summary.of(seconds).median


def limit_line(label: str, flops: int, seconds: float, dtype: str, peak: float) -> str:
    achieved = flops / seconds
    return (f"  {label}: {achieved / 1e9:.1f} GFLOP/s useful, {achieved / peak:.0%} of this machine's {dtype} "
            f"matmul peak ({peak / 1e9:.0f} GFLOP/s, F.linear {PEAK_SHAPE[0]}x{PEAK_SHAPE[1]}->{PEAK_SHAPE[2]})")
