"""The dtype the ``hf`` backend generates in: ``generation.dtype``, or for ``auto`` bfloat16 on a GPU that
supports it and, on a CPU, bfloat16 only where harness/core/dtype.py measured it faster on this model's
own shapes (once per machine and workload, kept in the cache).

torch and transformers are imported only when a decision is made.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from harness.core.dtype import Decision, Shape, cached_decision, emulated, measured_decision
from harness.core.progress import notice, progress
from harness.core.threads import generation_threads
from harness.inputs.config import Generation
from harness.models.padding import PAD_MULTIPLE


def model_shapes(config, batch_size: int, max_new_tokens: int, decode_rows: int) -> list[Shape]:
    """The linears of one batch of answers, per layer (the layer count scales both dtypes alike):
    the prefill of one padded block (batch_size x PAD_MULTIPLE tokens), then ``max_new_tokens``
    decoding steps of decode_rows rows each, and the output layer on those rows at every step."""
    config = getattr(config, "text_config", None) or config
    hidden, inner = config.hidden_size, config.intermediate_size
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    attn, kv = heads * head_dim, getattr(config, "num_key_value_heads", heads) * head_dim
    layer = [(hidden, inner, 2), (inner, hidden, 1), (hidden, attn, 1), (attn, hidden, 1), (hidden, kv, 2)]
    steps = [(batch_size * PAD_MULTIPLE, 1), (decode_rows, max_new_tokens)]
    return [Shape(rows, n_in, n_out, count * times) for rows, times in steps for n_in, n_out, count in layer] + [
        Shape(batch_size, hidden, config.vocab_size, 1, weight_major=True),
        Shape(decode_rows, hidden, config.vocab_size, max_new_tokens, weight_major=True)]


@contextmanager
def cpu_turn(cache_root: Path):
    """The run's thread count, and one process at a time on the CPU (harness/core/threads.py)."""
    import torch
    from filelock import FileLock

    lock = Path(cache_root) / "locks" / "cpu-generation.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock):
        before = torch.get_num_threads()
        torch.set_num_threads(generation_threads())
        try:
            yield
        finally:
            torch.set_num_threads(before)


@contextmanager
def device_turn(device, cache_root: Path):
    """On a CPU: the run's thread count, and one process at a time (cpu_turn); elsewhere nothing."""
    if device.type != "cpu":
        yield
        return
    with cpu_turn(cache_root):
        yield


def contiguous_output_layer(model) -> None:
    """For a bfloat16 model on a CPU. torch runs a CPU bfloat16 linear over a non-contiguous 3-D input (the
    last position that generate() keeps) as a batched matmul that first copies the weight once per row of
    the batch: 18 s instead of 0.06 s for Gemma's 262k-row output layer (benchmarks/answer_speed.py)."""
    model.get_output_embeddings().register_forward_pre_hook(lambda module, args: tuple(a.contiguous() for a in args))


WEIGHT_MAJOR = "output-weight-major/1"  # in a float32 generator's identity: its output layer's product (below)


def weight_major_output_layer(model) -> None:
    """For a float32 model: the output layer's product taken as weight @ hidden.T, its transpose returned.
    For the few rows of a decode step, F.linear's hidden @ weight.T ran at 47 GFLOP/s against 77 this way
    (32 rows, Gemma's 640 -> 262,144 layer, AVX2-only EPYC; 8 rows 20 against 49): with the slower
    argmax over the transposed logits, 174 ms a step instead of 253. There the two orders gave the same
    bits, but a float32 generator's answers are keyed on it (WEIGHT_MAJOR) all the same."""
    import torch

    head = model.get_output_embeddings()
    if type(head) is not torch.nn.Linear:  # another kind of output layer keeps its own product
        return

    def forward(hidden):
        flat = hidden.reshape(-1, hidden.shape[-1])
        logits = torch.addmm(head.bias[:, None], head.weight, flat.T) if head.bias is not None else head.weight @ flat.T
        return logits.T.reshape(*hidden.shape[:-1], logits.shape[0])

    head.forward = forward


def workload(weights_identity: str, settings: Generation) -> str:
    """What the dtype probe measures: this model's shapes at this batch size and answer length."""
    return f"{weights_identity}|batch {settings.batch_size}|decode {settings.decode_rows}|new {settings.max_new_tokens}"


def kept_decision(settings: Generation, cache_root: Path, workload: Callable[[], str]) -> str | None:
    """The kept `auto` choice on this CPU, or None: for the pytest header, which imports no torch."""
    if settings.dtype != "auto":
        return str(Decision(settings.dtype, "set"))
    if emulated() is not None:
        return str(emulated())
    try:
        key = workload()
    except ImportError:  # the embedded model's package is missing: check_available says so later
        return None
    decision = cached_decision(cache_root, key)
    return None if decision is None else str(decision)


def decide(settings: Generation, cache_root: Path, workload: Callable[[], str],
           weights_path: Callable[[], Path | str]) -> Decision:
    """`auto`: bfloat16 on a GPU that supports it; on a CPU, bfloat16 only where measured faster."""
    if settings.dtype != "auto":
        return Decision(settings.dtype, "set")
    import torch

    if torch.cuda.is_available():
        return Decision("bfloat16" if torch.cuda.is_bf16_supported() else "float32", "gpu")
    if emulated() is not None:
        return emulated()
    key = workload()
    decision = cached_decision(cache_root, key)
    if decision is not None:
        return decision
    from transformers import AutoConfig

    shapes = model_shapes(AutoConfig.from_pretrained(weights_path()), settings.batch_size, settings.max_new_tokens,
                          settings.decode_rows)
    with cpu_turn(cache_root):  # one process measures, alone on the CPU; the others read its choice
        decision = cached_decision(cache_root, key)
        if decision is None:
            with progress("measuring float32 against bfloat16 matrix products (once per machine)"):
                decision = measured_decision(cache_root, key, shapes)
            notice(f"generation: {decision}")
    return decision
