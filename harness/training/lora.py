"""Fine-tune a LoRA adapter on a suite's training pairs with TRL's SFT trainer and PEFT.

The adapter is cached under a key made of the base model, the pairs, the settings and the
library versions, and written atomically. Training uses a fresh copy of the base weights, so
the generator every system shares is never modified; the adapter is switched on for LoRA
systems only (see HFGenerator.adapter).
"""
from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Sequence

from harness.core.cache import cache_key, intact, seal
from harness.core.errors import HarnessError
from harness.core.progress import progress
from harness.inputs.config import LoraSettings
from harness.inputs.trainset import TrainPair
from harness.models.prompts import PromptParts, completion_prompt
from harness.training.progress import progress_callback

TRAIN_VERSION = 1
LIBRARIES = ("torch", "transformers", "peft", "trl")


def lora_prompt(question: str, context: Sequence[str] | None = None) -> str:
    """The prompt a LoRA system is trained and asked with: no instructions, no worked examples."""
    return completion_prompt(PromptParts("", (), tuple(context) if context is not None else None, question))


# Context per pair for RAFT (the chunk texts in its prompt); None: the question alone.
Contexts = Sequence[Sequence[str]] | None


def adapter_key(base_identity: str, pairs: Sequence[TrainPair], settings: LoraSettings,
                plan: str | None = None) -> str:
    """The adapter's cache key; ``plan``: what RAFT's training contexts depend on (RaftPlanner.identity)."""
    # phrasings and pairs_per_fact act through `pairs` and seeds through `seed`, and the defaults of train_on and dtype add
    # nothing: left out, a plain lora key is unchanged. ``settings.dtype`` is resolved (resolve_dtype).
    parts = ["adapter", TRAIN_VERSION, base_identity, [p.model_dump(exclude_none=True) for p in pairs],
             settings.model_dump(exclude={"phrasings", "pairs_per_fact", "seeds", "train_on", "dtype"}),
             {lib: version(lib) for lib in LIBRARIES}]
    parts += [value for value, default in ((settings.train_on, "pairs"), (settings.dtype, "float32"))
              if value != default]
    if plan is not None:
        parts.append(plan)
    return cache_key(*parts)


def resolve_dtype(settings: LoraSettings, generation_dtype: str) -> LoraSettings:
    """``dtype: auto`` made concrete: bfloat16 autocast where generation chose bfloat16 (a GPU that
    supports it, or a CPU where it measured faster), float32 elsewhere. On the default suite bfloat16
    training changed no accuracy significantly and no eval loss beyond 0.002 (docs/scaling.md)."""
    if settings.dtype != "auto":
        return settings
    return settings.model_copy(update={"dtype": "bfloat16" if generation_dtype == "bfloat16" else "float32"})


def _linear_types() -> tuple[type, ...]:
    import torch

    if importlib.util.find_spec("gptqmodel") is None:
        return (torch.nn.Linear,)
    from gptqmodel.nn_modules.qlinear import BaseQuantLinear  # a GPTQ checkpoint's linears

    return torch.nn.Linear, BaseQuantLinear


def linear_layers(model) -> list[str]:
    """Names (last path part) of the model's linear layers that LoRA may target, quantized ones included."""
    kinds = _linear_types()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, kinds) and not name.endswith("lm_head")})


def lora_targets(model, target_modules: str | list[str]) -> str | list[str]:
    """PEFT's "all-linear" finds torch linears only: on a quantized base, name its GPTQ linears."""
    if target_modules == "all-linear" and getattr(model, "hf_quantizer", None) is not None:
        return linear_layers(model)
    return target_modules


def check_fits(settings: LoraSettings, model, model_name: str) -> None:
    """Settings the model cannot take stop with one line, before any training starts."""
    if settings.target_modules != "all-linear":
        layers = linear_layers(model)
        missing = sorted(set(settings.target_modules) - set(layers))
        if missing:
            raise HarnessError(f"LoRA target modules {missing} are not linear layers of {model_name}; "
                               f"its linear layers are: {', '.join(layers)}")
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and settings.max_length > limit:
        raise HarnessError(f"LoRA max_length {settings.max_length} exceeds {model_name}'s {limit} positions")
    hidden = getattr(model.config, "hidden_size", None)
    if hidden and settings.rank > hidden:
        raise HarnessError(f"LoRA rank {settings.rank} exceeds {model_name}'s hidden size {hidden}")


@dataclass(frozen=True)
class Adapter:
    path: Path
    key: str
    log: dict  # {"train": [[step, loss]], "eval": [[step, loss]], "seconds", "examples_per_second", ...}


def load_adapter(path: Path, key: str) -> Adapter | None:
    """The cached adapter, or None when there is none or it is damaged (then it is retrained)."""
    if not intact(path):
        return None
    return Adapter(path, key, json.loads((path / "training_log.json").read_text()))


def _split(pairs: Sequence[TrainPair], settings: LoraSettings, contexts: Contexts = None):
    if settings.train_on == "corpus":  # a passage of the documents (training.corpus): loss on all its tokens
        rows = [{"prompt": "", "completion": p.answer} for p in pairs]
    else:
        rows = [{"prompt": lora_prompt(p.question, contexts[i] if contexts is not None else None),
                 "completion": " " + p.answer} for i, p in enumerate(pairs)]
    random.Random(settings.seed).shuffle(rows)
    held = int(len(rows) * settings.eval_fraction)
    return rows[held:], rows[:held]


def tokenized(rows: Sequence[dict], tokenizer, max_length: int) -> list[dict]:
    """Rows as TRL's SFT preparation makes them: prompt+completion+EOS ids, labels -100 outside the answer.

    Done here rather than by TRL because its `datasets.map` calls fingerprint every transform by
    pickling its arguments, Gemma's 262k-entry tokenizer among them: 9.4 s per adapter on a quiet
    2-core machine (far more under load), against 0.11 s for the tokenizing itself. Like TRL, the answer starts
    where prompt and prompt+answer tokenize differently, the end is cut at max_length, and a row
    left with no answer token is dropped.
    """
    eos = tokenizer.eos_token or ""
    out = []
    for row in rows:
        completion = row["completion"] if row["completion"].endswith(eos) else row["completion"] + eos
        prompt_ids = tokenizer(text=row["prompt"])["input_ids"]
        ids = tokenizer(text=row["prompt"] + completion)["input_ids"]
        start = next((i for i, (a, b) in enumerate(zip(prompt_ids, ids)) if a != b), min(len(prompt_ids), len(ids)))
        labels = [-100] * start + ids[start:]
        if any(label != -100 for label in labels[:max_length]):
            out.append({"input_ids": ids[:max_length], "labels": labels[:max_length]})
    return out


def answer_only_loss(model, inputs):
    """Cross-entropy over the answer tokens, projecting only their hidden states to the vocabulary.

    The loss TRL computes for prompt/completion data, but the output layer (262k rows for Gemma 3)
    runs on the answer positions alone instead of every position: about 3x faster per step on CPU.
    """
    import torch
    import torch.nn.functional as F

    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal.get_decoder()(input_ids=inputs["input_ids"],
                                  attention_mask=inputs["attention_mask"]).last_hidden_state
    labels = inputs["labels"][:, 1:]
    keep = labels != -100
    logits = causal.get_output_embeddings()(hidden[:, :-1][keep])
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return F.cross_entropy(logits.float(), labels[keep])


def sft_trainer(model, tokenizer, pairs: Sequence[TrainPair], settings: LoraSettings, output_dir: Path,
                answer_only: bool = True, contexts: Contexts = None, phase: str = "training",
                start: Path | None = None, checkpoints: Sequence[int] | None = None):
    """TRL's SFTTrainer with a PEFT LoRA adapter (a new one, or the one at ``start`` trained further);
    loss on the answer tokens only. With ``checkpoints`` (a study's run), loss is logged about 10 times an
    epoch (eval loss 4 times and at each epoch's end) and the adapter saved after each of those epochs."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    gpu = torch.cuda.is_available()  # `accelerate launch -m harness.cli train ...` spreads it over GPUs

    class AnswerOnlySFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            with self.accelerator.autocast():  # accelerate autocasts model.forward, which this loss goes around
                loss = answer_only_loss(model, inputs)
            return (loss, {"loss": loss}) if return_outputs else loss

    train_rows, eval_rows = _split(pairs, settings, contexts)
    steps = max(1, int(len(train_rows) * settings.epochs / settings.batch_size))
    every = max(1, -(-steps // 10))  # at most 10 train-loss points
    every_eval = max(1, -(-steps // 5))  # and 5 eval-loss points: each costs a pass over the held-out rows
    callbacks = [progress_callback(phase)]
    if checkpoints is not None:  # a study's run: curves to draw, and adapters saved at some epochs on the way
        per_epoch = -(-len(train_rows) // settings.batch_size)
        every, every_eval = max(1, per_epoch // 10), max(1, per_epoch // 4)
        callbacks.append(checkpoint_saver(checkpoints, output_dir.parent / CHECKPOINTS))
    config = SFTConfig(
        output_dir=str(output_dir), num_train_epochs=settings.epochs, learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size, per_device_eval_batch_size=settings.batch_size,
        max_length=settings.max_length, seed=settings.seed, logging_steps=every,
        eval_strategy="steps" if eval_rows else "no", eval_steps=every_eval, save_strategy="no", report_to=[],
        use_cpu=not gpu, bf16=settings.dtype == "bfloat16",  # autocast; the weights stay float32
        gradient_checkpointing=False,  # recomputing activations costs time; memory is not short here
        disable_tqdm=True, dataloader_pin_memory=False, prediction_loss_only=True,  # harness.core.progress shows it
        dataset_kwargs={"skip_prepare_dataset": True})  # see tokenized()
    lora = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                      target_modules=lora_targets(model, settings.target_modules), task_type="CAUSAL_LM")
    if start is not None:
        from peft import PeftModel

        model, lora = PeftModel.from_pretrained(model, str(start), is_trainable=True), None
    trainer = AnswerOnlySFTTrainer if answer_only else SFTTrainer
    train = tokenized(train_rows, tokenizer, settings.max_length)
    held = tokenized(eval_rows, tokenizer, settings.max_length)
    built = trainer(model=model, args=config, train_dataset=Dataset.from_list(train),
                    eval_dataset=Dataset.from_list(held) if held else None,
                    processing_class=tokenizer, peft_config=lora, callbacks=callbacks)
    from transformers.trainer_callback import PrinterCallback

    built.remove_callback(PrinterCallback)  # it prints each log as a dict; progress_callback says it in a line
    return built, len(train)  # rows whose answer max_length cut off entirely are not trained on


CHECKPOINTS = "checkpoints"  # an adapter's folder holds the adapters saved on the way here, one per epoch


def checkpoint_saver(epochs: Sequence[int], folder: Path):
    """A TrainerCallback that saves the adapter after each of ``epochs`` (with the seconds trained so far),
    and takes the eval loss at every epoch's end: a checkpoint's last eval loss is its own."""
    from transformers import TrainerCallback

    class CheckpointSaver(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.began = time.perf_counter()

        def on_epoch_end(self, args, state, control, model=None, **kwargs):
            epoch = round(state.epoch)
            if abs(state.epoch - epoch) < 1e-6 and epoch in epochs:
                model.save_pretrained(folder / f"epoch-{epoch}")
                (folder / f"epoch-{epoch}" / "seconds").write_text(f"{time.perf_counter() - self.began:.1f}")
            if not any(h.get("step") == state.global_step and "eval_loss" in h for h in state.log_history):
                control.should_evaluate = True
            return control

    return CheckpointSaver()


def checkpoint(adapter: Adapter, epochs: int) -> Adapter:
    """The adapter saved after ``epochs`` on the way to ``adapter``, its log cut there."""
    path = adapter.path / CHECKPOINTS / f"epoch-{epochs}"
    log = dict(adapter.log)
    per_epoch = log["steps_per_epoch"]
    log.update(train=[p for p in log["train"] if p[0] <= epochs * per_epoch + 1e-9],
               eval=[p for p in log["eval"] if p[0] <= epochs * per_epoch + 1e-9],
               seconds=float((path / "seconds").read_text()), checkpoint_of=adapter.key[:16],
               settings={**log["settings"], "epochs": epochs})
    return Adapter(path, f"{adapter.key}@{epochs}", log)


def train_adapter(generator, pairs: Sequence[TrainPair], settings: LoraSettings, target: Path,
                  key: str, contexts: Contexts = None, start: Adapter | None = None,
                  checkpoints: Sequence[int] | None = None) -> Adapter:
    """A LoRA adapter trained on ``pairs`` into ``target`` (atomically); from ``start``'s weights when given;
    with ``checkpoints``, the adapters after those epochs saved beside it (a study's run)."""
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    with progress(f"preparing to train LoRA adapter {key[:8]} (a copy of the base model, tokenized pairs)"):
        model, tokenizer = generator.fresh_copy()
        check_fits(settings, model, generator.model_name)
        what = "passages of the corpus" if settings.train_on == "corpus" else "pairs"
        phase = (f"updating LoRA adapter {start.key[:8]} on {len(pairs)} changed {what}" if start else
                 f"training LoRA adapter {key[:8]} on {len(pairs)} {what}")
        trainer, n_train = sft_trainer(model, tokenizer, pairs, settings, tmp / "trainer", contexts=contexts,
                                       phase=phase, start=start.path if start else None, checkpoints=checkpoints)
    began = time.perf_counter()
    trainer.train()
    history = trainer.state.log_history
    if trainer.eval_dataset is not None and not any(h.get("step") == trainer.state.global_step and "eval_loss" in h
                                                    for h in history):
        trainer.evaluate()  # the last eval loss is the scorecard's overfitting figure: take it at the end
    seconds = time.perf_counter() - began
    log = {"train": [[h["step"], h["loss"]] for h in history if "loss" in h],
           "eval": [[h["step"], h["eval_loss"]] for h in history if "eval_loss" in h],
           "seconds": round(seconds, 1), "examples": n_train,
           "steps_per_epoch": -(-n_train // settings.batch_size),
           "examples_per_second": round(n_train * settings.epochs / seconds, 3),
           "settings": settings.model_dump()}
    if start is not None:
        log["updated_from"] = start.key[:16]
    trainer.model.save_pretrained(tmp)
    shutil.rmtree(tmp / "trainer", ignore_errors=True)
    (tmp / "training_log.json").write_text(json.dumps(log))
    seal(tmp)
    try:
        tmp.rename(target)
    except OSError:  # another worker finished the same adapter first
        shutil.rmtree(tmp, ignore_errors=True)
    return load_adapter(target, key)


def training_rate(generator, pairs: Sequence[TrainPair], settings: LoraSettings, contexts: Contexts = None,
                  steps: int = 3) -> float:
    """Examples trained per second with these settings, timed over ``steps`` steps after a first one (which
    warms up), on a fresh copy of the base model: what a study's estimate multiplies."""
    import tempfile

    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        def __init__(self):
            self.ticks: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.ticks.append(time.perf_counter())

    n = settings.batch_size * (steps + 1)
    probe = settings.model_copy(update={"epochs": 1, "eval_fraction": 0.0})
    model, tokenizer = generator.fresh_copy()
    with tempfile.TemporaryDirectory() as tmp:
        trainer, trained = sft_trainer(model, tokenizer, list(pairs[:n]), probe, Path(tmp),
                                       contexts=list(contexts[:n]) if contexts is not None else None,
                                       phase="timing a few training steps for the estimate")
        clock = Clock()
        trainer.add_callback(clock)
        trainer.train()
    timed = len(clock.ticks) - 1
    if timed < 1:
        raise HarnessError(f"too few training pairs ({trained}) to time two steps of {settings.batch_size}")
    return settings.batch_size * timed / (clock.ticks[-1] - clock.ticks[0])
