"""Would 8-bit matrix products pay for the default generator on this CPU, and what would they change?

The base model answers the same prompts (question-only and RAG) with its linear layers in float32 (the
default) and as 8-bit products: each row of a layer's input scaled to [-1, 1] by its own largest
value, quantized by torch's dynamic int8 linear (fbgemm; a fixed anchor row pins the quantization
grid, so a row's result does not depend on its batch-mates, as the harness's answers must not), the
weights per output channel. The output layer stays as the harness computes it. Interleaved rounds
(benchmarks/interleave.py); then how many answers the 8-bit products changed.

On CPUs with AVX512-VNNI or AMX int8 products run several times faster than on an AVX2-only CPU, where
vpmaddubsw limits them: run it there before deciding. torch's ``torch.ao`` int8 modules are deprecated.

    .venv/bin/python benchmarks/int8.py [--prompts 32] [--rounds 3] [--full-range]
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.backends import rag_prompts  # noqa: E402
from benchmarks.interleave import interleave, report  # noqa: E402
from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.inputs.config import Generation  # noqa: E402
from harness.models import EMBEDDED, make_generator  # noqa: E402


def int8_forward(linear, reduce_range: bool):
    """``linear``'s product as per-row scaled 8-bit arithmetic (see the module's docstring)."""
    import torch

    weight = linear.weight.detach()
    n_out, n_in = weight.shape
    scales = (weight.abs().amax(1) / 127).clamp_min(1e-12).double()
    packed = torch.ops.quantized.linear_prepack(
        torch.quantize_per_channel(weight, scales, torch.zeros(n_out, dtype=torch.long), 0, torch.qint8), None)
    anchor = torch.zeros(n_in)
    anchor[:2] = torch.tensor([1.0, -1.0])  # every batch spans [-1, 1]: one grid whatever the other rows hold

    def forward(x):
        flat = x.reshape(-1, n_in)
        scale = torch.linalg.vector_norm(flat, float("inf"), dim=1, keepdim=True).clamp_min(1e-30)
        rows = torch.empty(flat.shape[0] + 1, n_in)
        torch.div(flat, scale, out=rows[:-1])
        rows[-1] = anchor
        out = torch.ops.quantized.linear_dynamic(rows, packed, reduce_range)[:-1].mul_(scale)
        out = out if linear.bias is None else out + linear.bias
        return out.reshape(*x.shape[:-1], n_out)

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--full-range", action="store_true",
                        help="8-bit inputs (x86's default is 7, against vpmaddubsw's saturation)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import torch

    hf = make_generator(EMBEDDED, Generation(dtype="float32"), ROOT / DEFAULT_DIR)
    model = hf.model
    head = model.get_output_embeddings()
    int8 = {m: int8_forward(m, not args.full_range) for m in model.modules()
            if isinstance(m, torch.nn.Linear) and m is not head}
    rag = rag_prompts(args.prompts)
    question_only = [p.__class__(p.instructions, p.examples, None, p.question) for p in rag]
    answers: dict[tuple[str, str], list[str]] = {}

    def contender(arithmetic: str, kind: str, prompts):
        def call():
            for linear, forward in int8.items():
                if arithmetic == "int8":
                    linear.forward = forward
                else:
                    linear.__dict__.pop("forward", None)
            hf._heads.clear()  # the shared head's cached keys were computed in the other arithmetic
            answers[arithmetic, kind] = [r.text for r in hf.generate(prompts)]
        return call

    for kind, prompts in (("question-only", question_only), ("rag", rag)):
        seconds = interleave({a: contender(a, kind, prompts) for a in ("float32", "int8")}, args.rounds)
        print(f"{kind}, {len(prompts)} prompts:")
        print("\n".join(report(seconds, "float32", work=len(prompts), unit="answers")))
        changed = sum(a != b for a, b in zip(answers["float32", kind], answers["int8", kind]))
        print(f"  answers changed by int8: {changed} of {len(prompts)}")


if __name__ == "__main__":
    main()
