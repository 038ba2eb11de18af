"""Greedy decoding of many prefilled rows in steps of one fixed shape (the ``hf`` backend's decode).

A decode step computes the next token of ``rows`` rows at once, whichever rows they are: rows whose
reply stopped leave, the others are packed into as few steps as hold them, and a short step is filled
with copies. A row's arithmetic then depends on its own tokens alone, as in prefill
(padding.padded_batches): every step has one shape, and rows decode together only where their caches
have one length (padding.decode_waves). Many rows per step pay on a CPU, since a step reads every
weight whatever its number of rows, the 262k-row output layer's 670 MB (float32) among them: on an
AVX2-only EPYC a decode step of Gemma 3 270M costs 24 ms a row with 8 rows, 10 ms with 32.

Greedy means the argmax of each step's logits: a model's generation_config (penalties, sampling) is
not applied, as it was not by the generate() call this replaces (do_sample=False, no penalties set).
torch is imported only when rows are decoded.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass
class Prefilled:
    """One prefill batch: its cache and attention mask, the first token of each row, and which rows of the
    wave it holds (its first ``len(rows)`` rows; the rest of the batch are copies)."""

    cache: Any
    mask: Any
    first: Any
    rows: list[int]


@dataclass
class _Step:
    """Rows decoding together: their cache and attention mask, and the row in each slot (a copy fills a
    short step; a row that stopped keeps its slot until the rows are packed again)."""

    cache: Any
    mask: Any
    slots: list[int]


def _gathered(caches: Sequence[Any], indexes: Sequence[Any]) -> list[Any]:
    """A cache per index tensor, of those rows (over the caches' rows, one after another), all of one
    length: each layer's rows are joined once, then picked for every cache."""
    import torch

    joined = [(torch.cat([one.keys for one in layers]), torch.cat([one.values for one in layers]))
              for layers in zip(*(c.layers for c in caches))]
    out = []
    for index in indexes:
        cache = copy.copy(caches[0])
        cache.layers = []
        for template, (keys, values) in zip(caches[0].layers, joined):
            layer = copy.copy(template)
            layer.keys, layer.values = keys[index], values[index]
            cache.layers.append(layer)
        out.append(cache)
    return out


def _pack(steps: Sequence[_Step], live: list[int], rows: int) -> list[_Step]:
    """The ``live`` rows of ``steps`` packed into steps of ``rows`` rows, the last filled with copies."""
    import torch

    place = {}
    for offset, slot in enumerate(r for step in steps for r in step.slots):
        place.setdefault(slot, offset)
    masks = torch.cat([step.mask for step in steps])
    slots = [live[start:start + rows] for start in range(0, len(live), rows)]
    slots = [members + members[-1:] * (rows - len(members)) for members in slots]
    indexes = [torch.tensor([place[r] for r in chunk], device=masks.device) for chunk in slots]
    caches = _gathered([step.cache for step in steps], indexes)
    return [_Step(cache, masks[index], chunk) for cache, index, chunk in zip(caches, indexes, slots)]


def _live(tokens: dict[int, list[int]], rows: list[int], stopped: Callable[[Any], Any], eos: int | None) -> list[int]:
    """The ``rows`` whose reply goes on: not ended by EOS nor by ``stopped``."""
    import torch

    if not rows:
        return []
    replies = torch.tensor([tokens[r] for r in rows])
    ends = stopped(replies).tolist()
    return [r for r, end in zip(rows, ends) if not end and tokens[r][-1] != eos]


def _advance(model, step: _Step, tokens: dict[int, list[int]], live: set[int]) -> None:
    """One token more for each live row of ``step``; the step's cache and mask grow by one column."""
    import torch

    device = step.mask.device
    ids = torch.tensor([[tokens[r][-1]] for r in step.slots], device=device)
    step.mask = torch.cat([step.mask, step.mask.new_ones(len(step.slots), 1)], dim=1)
    out = model(input_ids=ids, attention_mask=step.mask, position_ids=step.mask.long().sum(1, keepdim=True) - 1,
                cache_position=torch.tensor([step.mask.shape[1] - 1], device=device),
                past_key_values=step.cache, use_cache=True)
    step.cache = out.past_key_values
    chosen = out.logits[:, -1].argmax(-1).tolist()
    for slot, (row, token) in enumerate(zip(step.slots, chosen)):
        if row in live and step.slots.index(row) == slot:  # a copy's token is its original's
            tokens[row].append(token)


def decode(model, batches: Sequence[Prefilled], rows: int, max_new_tokens: int,
           stopped: Callable[[Any], Any], eos: int | None) -> dict[int, list[int]]:
    """Each row's reply tokens, the token that stopped it included: greedy from the prefilled ``batches``
    until ``stopped`` (the reply tokens so far, a row each -> a bool per row) or EOS, at most
    ``max_new_tokens``. The live rows are packed again whenever fewer steps can hold them."""
    tokens = {r: [int(t)] for batch in batches for r, t in zip(batch.rows, batch.first.tolist())}
    prefilled = [_Step(b.cache, b.mask, b.rows + [-1] * (b.mask.shape[0] - len(b.rows))) for b in batches]
    live = _live(tokens, list(tokens), stopped, eos)
    steps = _pack(prefilled, live, rows)
    for _ in range(max_new_tokens - 1):
        if not live:
            break
        going = set(live)
        for step in steps:
            _advance(model, step, tokens, going)
        live = _live(tokens, live, stopped, eos)
        if -(-len(live) // rows) < len(steps):
            steps = _pack(steps, live, rows)
    return tokens
