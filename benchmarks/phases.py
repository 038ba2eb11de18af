"""Where the main job's time goes, against this machine's limit, phase by phase.

Each round runs every phase once, interleaved (benchmarks/interleave.py), beside the reference: one
large F.linear in the generator's dtype, whose median gives this machine's peak in that arithmetic
in the same run. Per phase it prints the median seconds and, where there is matrix arithmetic, the
useful FLOPs (what the answers or the loss need), the FLOPs computed (with the padding rows and
columns of the batches, and outputs nobody reads), and the useful FLOP/s as a share of the peak.

FLOPs count the weights: 2 per weight per token through the body, and 2 per output-layer weight per
position that picks a token or carries loss; and prefill's attention, 4 per query-key pair per unit of
attention width (heads x head_dim, every layer): for Gemma 3 270M's RAG prompts a sixth of prefill's
arithmetic, since its attention is wider (4 x 256) than its hidden size (640). Decode's and training's
attention are left out (one query a row, and training's 30-token rows). Training's backward pass through frozen weights costs what the forward did (the
input gradients alone; LoRA's own are negligible).

    .venv/bin/python benchmarks/phases.py [--prompts 16] [--pairs 64] [--rounds 3] [--conversion]

``--conversion`` adds the GGUF-to-safetensors conversion (about 30 s a round).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.backends import rag_prompts  # noqa: E402
from benchmarks.flops import PEAK_SHAPE  # noqa: E402
from benchmarks.interleave import Summary, interleave  # noqa: E402
from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.judges.match import MatchJudge  # noqa: E402
from harness.models.hf_gguf import embedded_path  # noqa: E402
from harness.models.padding import decode_waves, padded_length  # noqa: E402
from harness.models.prompts import completion_head  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from harness.training.lora import sft_trainer  # noqa: E402

CACHE = ROOT / DEFAULT_DIR


@dataclass(frozen=True)
class Work:
    """A phase's arithmetic: what its results need, and what it computed."""

    useful: float
    computed: float


class Weights:
    """The generator's weight counts: the body's, and the output layer's (the vocabulary head); and the
    width of its attention over all layers."""

    def __init__(self, model):
        embedding = model.get_input_embeddings().weight
        head = model.get_output_embeddings().weight
        self.head = head.numel()
        self.body = sum(p.numel() for p in model.parameters()) - embedding.numel() - (
            0 if head is embedding else head.numel())
        config = getattr(model.config, "text_config", None) or model.config
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.attention_width = config.num_hidden_layers * config.num_attention_heads * head_dim

    def forward(self, tokens: float, picked: float) -> float:
        return 2 * self.body * tokens + 2 * self.head * picked

    def attention(self, pairs: float) -> float:
        """Scores and weighted values over ``pairs`` query-key pairs."""
        return 4 * self.attention_width * pairs


def generation_work(hf, parts, answers, weights: Weights) -> tuple[Work, Work]:
    """(prefill, decode): prompts' own tokens and their answers' against the fixed-shape steps run.

    Prefill picks each answer's first token; each later token is one decode forward of its row. Decode
    runs ``decode_rows`` rows a step, the live rows of a wave packed into as few steps as hold them
    (harness/models/decoding.py), so a step's unused rows are copies."""
    rows = [hf._split(hf.render(p), completion_head(p)) for p in parts]
    batch, per_step = hf.settings.batch_size, hf.settings.decode_rows
    lengths = [len(hf._tokens(a.text)) + 1 for a in answers]  # + the token that stopped it
    # a prompt's own query-key pairs: each token of its rest sees the head and the rest up to itself;
    # a batch computes every padded row's queries against all its columns (padding is masked, not skipped)
    pairs = sum(len(rest) * len(head) + len(rest) * (len(rest) + 1) // 2 for head, rest in rows)
    prefill_useful = weights.forward(sum(len(rest) for _, rest in rows), len(rows)) + weights.attention(pairs)
    decode_useful = weights.forward(sum(lengths) - len(rows), sum(lengths) - len(rows))
    batches = hf._batches(rows)
    widths = [(len(rows[group[0]][0]), padded_length(max(len(rows[i][1]) for i in group))) for group in batches]
    prefill_computed = sum(weights.forward(batch * width, batch) + weights.attention(batch * width * (head + width))
                           for head, width in widths)
    stepped = sum(-(-sum(lengths[i] > s for b in wave for i in b) // per_step) * per_step
                  for wave in decode_waves(rows, batches, hf._wave_rows(rows)) for s in range(1, max(lengths)))
    return Work(prefill_useful, prefill_computed), Work(decode_useful, weights.forward(stepped, stepped))


def training_work(trainer, weights: Weights) -> tuple[Work, Work]:
    """(forward, backward) of one epoch: real tokens and answer positions against padded batches."""
    useful_tokens = useful_picked = computed_tokens = 0
    for batch in trainer.get_train_dataloader():
        real = batch["attention_mask"]
        useful_tokens += int(real.sum())
        useful_picked += int((batch["labels"][:, 1:] != -100).sum())
        computed_tokens += real.numel()
    forward = Work(weights.forward(useful_tokens, useful_picked), weights.forward(computed_tokens, useful_picked))
    return forward, forward  # input gradients through frozen weights: the forward's products again


def training_phases(run: EvalRun, pairs, weights: Weights) -> tuple[dict, dict]:
    """Making a fresh copy of the model and its trainer (each adapter's start), then a forward-only pass
    and a training epoch over the same pairs, each on a copy of its own made beforehand: the epoch
    trains one adapter further each round, the same work as its first epoch."""
    import torch

    settings = run.suite.config.training.lora.model_copy(update={"epochs": 1, "eval_fraction": 0.0})
    tmp = tempfile.mkdtemp()

    def trainer():
        model, tokenizer = run.models.generator.fresh_copy()
        return sft_trainer(model, tokenizer, pairs, settings, Path(tmp))[0]

    def forward_only(built):
        with torch.no_grad():
            for batch in built.get_train_dataloader():
                built.compute_loss(built.model, batch)

    built, trained = trainer(), trainer()
    forward, backward = training_work(built, weights)
    phases = {"training: a model copy and its trainer": trainer,
              "training: forward alone": lambda: forward_only(built),
              "training: forward and backward": trained.train}
    return phases, {"training: forward alone": forward, "training: forward and backward":
                    Work(forward.useful + backward.useful, forward.computed + backward.computed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversion", action="store_true")
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F

    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    run = EvalRun(suite, suite.systems, cache_dir=CACHE)
    hf = run.models.generator
    hf.load()
    weights = Weights(hf.model)
    parts = rag_prompts(args.prompts)
    answers = hf.generate(parts)
    rag = run.system("rag-minilm")
    questions = [q.question for q in suite.questions[:args.prompts]]
    judge, golds = MatchJudge(), suite.questions[:args.prompts]
    rows, n_in, n_out = PEAK_SHAPE
    x = torch.full((rows, n_in), 0.01, dtype=getattr(torch, hf.dtype))
    w = torch.full((n_out, n_in), 0.01, dtype=getattr(torch, hf.dtype))
    reference = f"reference: F.linear {rows}x{n_in}->{n_out}, {hf.dtype}"
    prefill, decode = generation_work(hf, parts, answers, weights)

    def prefill_only():  # one new token: the prompt's pass and the first pick
        hf._run([hf.render(p) for p in parts], 1, heads=[completion_head(p) for p in parts])

    def with_threads(fn):
        def call():
            with hf._cpu_turn():
                return fn()
        return call

    phases = {reference: with_threads(lambda: F.linear(x, w)),
              "model load (converted weights)": lambda: hf._load(hf.dtype),
              "retrieval, rag-minilm (query embeddings cached)": lambda: rag.retriever.retrieve(questions),
              "generation: prefill (+ first token)": prefill_only,
              "generation: prefill and decode": lambda: hf.generate(parts),
              "judging, match/5": lambda: [judge.grade(q, a.text) for q, a in zip(golds, answers)]}
    training, training_flops = training_phases(run, suite.train_pairs[:args.pairs], weights)
    phases.update(training)
    if args.conversion:  # into a new cache each round: the package's GGUF read, dequantized and saved
        phases["conversion, GGUF to safetensors"] = lambda: embedded_path(Path(tempfile.mkdtemp()))
    seconds = interleave(phases, args.rounds)
    peak = 2 * rows * n_in * n_out / Summary.of(seconds[reference]).median
    decode_seconds = Summary.of(seconds["generation: prefill and decode"]).median - Summary.of(
        seconds["generation: prefill (+ first token)"]).median
    work = {"generation: prefill (+ first token)": prefill, **training_flops}
    print(f"phases of the main job, {args.prompts} RAG prompts, {args.pairs} training pairs, {args.rounds} interleaved "
          f"rounds; generation in {hf.dtype} ({hf.dtype_decision}); peak {peak / 1e9:.0f} GFLOP/s ({reference})")
    for name, times in seconds.items():
        if name == reference:
            continue
        s = Summary.of(times)
        print(f"  {name:<50} {s.median:7.2f} s (spread {s.spread:4.0%})" + _flops_line(work.get(name), s.median, peak))
    print(f"  {'generation: decode (the difference)':<50} {decode_seconds:7.2f} s" +
          _flops_line(decode, decode_seconds, peak))


def _flops_line(work: Work | None, seconds: float, peak: float) -> str:
    if work is None or seconds <= 0:
        return ""
    achieved = work.useful / seconds
    return (f"  {work.useful / 1e9:8.0f} GFLOP useful, {work.computed / 1e9:8.0f} computed "
            f"({1 - work.useful / work.computed:4.0%} spent on padding and unread outputs)  "
            f"{achieved / 1e9:6.1f} GFLOP/s = {achieved / peak:4.0%} of peak")


if __name__ == "__main__":
    main()
