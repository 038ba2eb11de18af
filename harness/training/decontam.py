"""Decontamination: find training questions too close to an evaluation question.

Two measures, either one flags a pair: word 3-gram Jaccard overlap (copies with small edits)
and embedding cosine similarity (the same question reworded).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass(frozen=True)
class Leak:
    train: str
    eval_id: str
    eval_question: str
    jaccard: float
    cosine: float


def _grams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(len(words) - n + 1, 1))}


def jaccard(a: str, b: str) -> float:
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / len(ga | gb) if ga | gb else 0.0


def find_leaks(train: Sequence[str], evals: Sequence[tuple[str, str]], embed: Callable, *,
               max_ngram_jaccard: float, max_cosine: float) -> list[Leak]:
    """``evals`` are (id, question); ``embed(texts)`` returns one row per text."""
    import numpy as np

    def unit(rows):
        rows = np.asarray(rows, dtype="float32")
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)

    cosines = unit(embed(list(train))) @ unit(embed([q for _, q in evals])).T
    leaks = []
    for i, question in enumerate(train):
        for j, (qid, eval_question) in enumerate(evals):
            overlap = jaccard(question, eval_question)
            if overlap > max_ngram_jaccard or cosines[i, j] > max_cosine:
                leaks.append(Leak(question, qid, eval_question, round(overlap, 3), round(float(cosines[i, j]), 3)))
    return leaks


def side_by_side(leaks: Sequence[Leak]) -> str:
    return "\n".join(f"  train: {l.train!r}\n   eval {l.eval_id}: {l.eval_question!r}  "
                     f"(3-gram jaccard {l.jaccard}, cosine {l.cosine})" for l in leaks)
