"""Free-text generation, for drafting questions and synthesizing training pairs.

An answer is the first line of a reply (prompts.clean_reply), and the backends stop generating at
a line break. A draft or a JSON list is not one line: a reply may open with a line break and hold
several. ``write`` stops only at the end of text or a chat-template marker (prompts.free_text).
A backend provides it as ``write(texts, max_new_tokens, done)``; the transformers backend's is here.
"""
from __future__ import annotations

from typing import Callable, Sequence

from harness.core.progress import progress
from harness.models.base import Generator
from harness.models.hf import HFGenerator
from harness.models.prompts import TEMPLATE_MARKERS, free_text

Written = Callable[[Sequence[int], Sequence[str]], None]  # (indices into texts, their replies)


def write(generator: Generator, texts: Sequence[str], max_new_tokens: int, done: Written | None = None,
          stop: Sequence[str] = ()) -> list[str]:
    """Replies to raw prompts (a chat model gets each as one user turn), in order; ``done`` as they
    arrive. ``stop``: where a base model continuing a worked-example layout starts the next example
    (each a line's label, so a reply that opens with a line break is not cut)."""
    own = getattr(generator, "write", None)
    if own is not None:
        return own(texts, max_new_tokens, done, stop)
    if isinstance(generator, HFGenerator):
        return _hf_write(generator, texts, max_new_tokens, done, stop)
    raise TypeError(f"generator {generator.identity} has no write(texts, max_new_tokens, done) for free text")


def _hf_stop_ids(tokenizer) -> list[int]:
    """End of text and any template marker that is one token (Gemma's <end_of_turn>), never a line break."""
    vocab = tokenizer.get_vocab()
    return sorted({tokenizer.eos_token_id, *(vocab[m] for m in TEMPLATE_MARKERS if m in vocab)} - {None})


def _stop_strings(tokenizer, prompt_length: int, stop_at: Sequence[str]):
    """Each row ends once its reply holds a stop string (decoded, so any tokenizer's spelling of it counts)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopAt(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            replies = tokenizer.batch_decode(input_ids[:, prompt_length:], skip_special_tokens=True)
            return torch.tensor([any(s in r for s in stop_at) for r in replies], device=input_ids.device)

    return StoppingCriteriaList([StopAt()] if stop_at else [])


def _hf_write(generator: HFGenerator, texts: Sequence[str], max_new_tokens: int, done: Written | None,
              stop_at: Sequence[str]) -> list[str]:
    import torch

    tokenizer, model = generator.tokenizer, generator.model
    if generator.chat:
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                               add_generation_prompt=True) for t in texts]
    stop, size = _hf_stop_ids(tokenizer), generator.settings.batch_size
    out: list[str] = []
    with progress("writing", total=len(texts), unit="replies") as bar:
        for first in range(0, len(texts), size):
            batch = list(texts[first:first + size])
            enc = tokenizer(batch, return_tensors="pt", padding=True,
                            add_special_tokens=not generator.chat).to(model.device)
            with torch.inference_mode():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=stop,
                                     pad_token_id=tokenizer.pad_token_id,
                                     stopping_criteria=_stop_strings(tokenizer, enc.input_ids.shape[1], stop_at))
            replies = [free_text(tokenizer.decode(row, skip_special_tokens=True), stop_at)
                       for row in ids[:, enc.input_ids.shape[1]:]]
            out += replies
            if done:
                done(range(first, first + len(batch)), replies)
            bar.update(len(batch))
    return out
