"""How the ``hf`` backend pads its batches so that a row's arithmetic depends on its own prompt alone.

A row is (its shared head's tokens, the rest of its prompt's tokens); see HFGenerator._split.
"""
from __future__ import annotations

from itertools import groupby
from typing import Sequence

PAD_MULTIPLE = 64  # tokens; a prompt's padded length, hence its arithmetic, is fixed by its own length

Row = tuple[tuple[int, ...], list[int]]


def padded_length(tokens: int) -> int:
    return -(-tokens // PAD_MULTIPLE) * PAD_MULTIPLE


def padded_batches(rows: Sequence[Row], size: int) -> list[list[int]]:
    """Greedy answers come in batches of one fixed shape: ``size`` rows (a short batch is filled with
    copies, in padded_rows), each prompt's shared head (computed once, HFGenerator._head_cache) and its
    rest padded to the rest's own length rounded up to PAD_MULTIPLE tokens. A row's arithmetic then
    depends on its own prompt alone, not on which prompts share its batch (what the cache missed,
    ``--systems``, the order of questions, shards), which changed up to 9 of 58 bfloat16 answers with
    batches padded to their longest. The indices of ``rows``, batched: prompts of one head and one
    padded length together."""
    shape = [(head, padded_length(len(rest))) for head, rest in rows]
    order = sorted(range(len(rows)), key=lambda i: (shape[i], i))
    groups = [list(group) for _, group in groupby(order, key=shape.__getitem__)]
    return [group[start:start + size] for group in groups for start in range(0, len(group), size)]


def padded_rows(rows: list[Row], size: int, pad: int) -> tuple[list[list[int]], list[list[int]]]:
    """One batch of rows of one head as (token ids, attention mask), ``size`` rows of
    [head | left padding | rest]; a short batch is filled with copies of its last row."""
    head = rows[0][0]
    rows = rows + rows[-1:] * (size - len(rows))
    width = padded_length(max(len(rest) for _, rest in rows))
    ids = [[*head, *[pad] * (width - len(rest)), *rest] for _, rest in rows]
    mask = [[1] * len(head) + [0] * (width - len(rest)) + [1] * len(rest) for _, rest in rows]
    return ids, mask


def cache_length(row: Row) -> int:
    """The columns of a row's cache after its prefill: its head and its padded rest."""
    head, rest = row
    return len(head) + padded_length(len(rest))


def decode_waves(rows: Sequence[Row], batches: list[list[int]], most: int) -> list[list[list[int]]]:
    """The prefill ``batches`` of ``rows`` in waves that decode together (decoding.decode): batches
    whose caches have one length, at most ``most`` rows a wave (a wave's caches are held at once)."""
    by_length: dict[int, list[list[int]]] = {}
    for batch in batches:
        by_length.setdefault(cache_length(rows[batch[0]]), []).append(batch)
    waves: list[list[list[int]]] = []
    for group in by_length.values():
        wave: list[list[int]] = []
        for batch in group:
            if wave and sum(map(len, wave)) + len(batch) > most:
                waves.append(wave)
                wave = []
            wave.append(batch)
        waves.append(wave)
    return waves
