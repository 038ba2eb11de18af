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
import functools
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


@functools.cache
def _in_place_kinds() -> dict[type, type]:
    """transformers' growing cache layers (and their twins), each to its twin that appends in place (_InPlace)."""
    from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

    class _InPlace:
        """Keys and values kept in buffers with room for the positions still to come. transformers' own
        layers concatenate every layer's whole cache again for each new token: on a CPU, with 32 rows at
        460 positions, a 540 MB copy per decode step (about 7% of it). Here a step writes its column
        alone, and the layer's keys are a view of the buffer."""

        def _append(self, key_states, value_states):
            """The cached states and the new ones, as one view of the buffers (what the concatenation gave)."""
            start, end = self._end - self.keys.shape[-2], self._end + key_states.shape[-2]
            self._key_buffer[:, :, self._end:end] = key_states
            self._value_buffer[:, :, self._end:end] = value_states
            self._end = end
            return self._key_buffer[:, :, start:end], self._value_buffer[:, :, start:end]

    class InPlaceLayer(_InPlace, DynamicLayer):
        def update(self, key_states, value_states, *args, **kwargs):
            self.keys, self.values = self._append(key_states, value_states)
            return self.keys, self.values

    class InPlaceSlidingLayer(_InPlace, DynamicSlidingWindowLayer):
        def update(self, key_states, value_states, *args, **kwargs):
            # as DynamicSlidingWindowLayer.update: the whole states go to attention, the last window - 1 stay
            self.cumulative_length += key_states.shape[-2]
            keys, values = self._append(key_states, value_states)
            self.keys, self.values = keys[:, :, -self.sliding_window + 1:], values[:, :, -self.sliding_window + 1:]
            return keys, values

    # a layer packed again is one of the twins already
    return {DynamicLayer: InPlaceLayer, DynamicSlidingWindowLayer: InPlaceSlidingLayer,
            InPlaceLayer: InPlaceLayer, InPlaceSlidingLayer: InPlaceSlidingLayer}


def _layer(template, rows: Sequence[tuple[Any, int]], room: int):
    """A layer like ``template`` holding ``rows`` ((a source layer, a row of it) per row), each copied
    straight into place; a kind transformers grows by concatenation gets room for ``room`` more
    positions, appended in place (_in_place_kinds)."""
    kind = _in_place_kinds().get(type(template))
    grows = kind is not None and not getattr(template, "record_past", False)
    kind = kind if grows else type(template)
    layer = kind.__new__(kind)
    layer.__dict__.update(template.__dict__)
    keys, values = template.keys, template.values
    length = keys.shape[-2]
    shape = (len(rows), *keys.shape[1:-2], length + (room if grows else 0), keys.shape[-1])
    key_buffer, value_buffer = keys.new_empty(shape), values.new_empty(shape)
    for slot, (source, row) in enumerate(rows):
        key_buffer[slot, ..., :length, :], value_buffer[slot, ..., :length, :] = source.keys[row], source.values[row]
    layer.keys, layer.values = key_buffer[..., :length, :], value_buffer[..., :length, :]
    if grows:
        layer._key_buffer, layer._value_buffer, layer._end = key_buffer, value_buffer, length
    return layer


def _gathered(caches: Sequence[Any], slots: Sequence[Sequence[int]], room: int) -> list[Any]:
    """A cache per list of ``slots``, rows over the caches' rows one after another, all of one length,
    with room for ``room`` more positions. Each row is copied from its cache into place: joining every
    cache's rows first held a third copy of a wave's caches (up to WAVE_BYTES) at once."""
    sources = [(cache, row) for cache in caches for row in range(cache.layers[0].keys.shape[0])]
    out = []
    for members in slots:
        cache = copy.copy(caches[0])
        cache.layers = [_layer(template, [(sources[i][0].layers[at], sources[i][1]) for i in members], room)
                        for at, template in enumerate(caches[0].layers)]
        out.append(cache)
    return out


def _pack(steps: Sequence[_Step], live: list[int], rows: int, room: int) -> list[_Step]:
    """The ``live`` rows of ``steps`` packed into steps of ``rows`` rows, the last filled with copies, their
    caches with room for ``room`` more positions."""
    import torch

    place = {}
    for offset, slot in enumerate(r for step in steps for r in step.slots):
        place.setdefault(slot, offset)
    masks = torch.cat([step.mask for step in steps])
    slots = [live[start:start + rows] for start in range(0, len(live), rows)]
    slots = [members + members[-1:] * (rows - len(members)) for members in slots]
    offsets = [[place[r] for r in chunk] for chunk in slots]
    caches = _gathered([step.cache for step in steps], offsets, room)
    return [_Step(cache, masks[chunk], members) for cache, chunk, members in zip(caches, offsets, slots)]


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
    steps = _pack(prefilled, live, rows, max_new_tokens - 1)
    for left in range(max_new_tokens - 1, 0, -1):
        if not live:
            break
        going = set(live)
        for step in steps:
            _advance(model, step, tokens, going)
        live = _live(tokens, live, stopped, eos)
        if -(-len(live) // rows) < len(steps):
            steps = _pack(steps, live, rows, left - 1)
    return tokens
