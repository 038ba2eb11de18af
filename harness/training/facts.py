"""Training pairs grouped by the fact they state, so that "pairs per fact" means what it says.

A pair's fact is its ``fact:`` id in the training file (`harness draft` writes the evidence sentence a
pair was drafted from, `harness synth` the cluster it found); a pair without one joins a cluster of
the pairs of its ``source`` (a section, a whole document) whose question and answer embed close
together. A source is no fact: a section of the rules states several.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from harness.inputs.trainset import TrainPair

NUMBER = re.compile(r"\d+(?:\.\d+)?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b")

# The cosine distance of "question answer" (averaged between two clusters) below which pairs state one
# fact. On the default suite's 511 pairs (minilm), 0.5 gave 240 facts: its numeric facts exactly (the
# 4 phrasings of "70 metres", of "50 metres", ...), and about one pair in five of the others with the
# wrong fact of its section, merged or split (read by hand over its first 70 pairs); 0.4 split phrasings
# apart (308 facts), 0.6 merged facts (182).
CLUSTER_DISTANCE = 0.5


@dataclass(frozen=True)
class Facts:
    ids: tuple[str, ...]  # each pair's fact
    named: int  # pairs whose fact the training file names
    clustered: int  # pairs whose fact was found by clustering

    @property
    def count(self) -> int:
        return len(set(self.ids))

    def describe(self, embedder: str) -> str:
        how = [f"{self.named} pairs by their fact: id"] if self.named else []
        how += [f"{self.clustered} pairs clustered within their source by {embedder} similarity (cosine "
                f"distance < {CLUSTER_DISTANCE})"] if self.clustered else []
        return f"{self.count} facts in {len(self.ids)} pairs: " + "; ".join(how)


def _numbers(text: str) -> frozenset[str]:
    return frozenset(NUMBER.findall(text.lower().replace(",", "")))


def clusters(pairs: Sequence[TrainPair], embed: Callable[[Sequence[str]], object],
             distance: float = CLUSTER_DISTANCE) -> list[int]:
    """A cluster number per pair: average-linkage agglomerative clustering on the cosine distance of
    "question answer", where answers that state other numbers are as far apart as can be (an embedder
    puts "70 metres" and "50 metres" close)."""
    if len(pairs) < 2:
        return [0] * len(pairs)
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    vectors = np.asarray(embed([f"{p.question} {p.answer}" for p in pairs]), dtype="float64")
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    apart = 1.0 - vectors @ vectors.T
    numbers = [_numbers(p.answer) for p in pairs]
    apart[np.array([[a != b for b in numbers] for a in numbers])] = 2.0
    np.fill_diagonal(apart, 0.0)
    found = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="precomputed",
                                    linkage="average").fit(np.clip(apart, 0.0, 2.0))
    return [int(label) for label in found.labels_]


def group_facts(pairs: Sequence[TrainPair], embed: Callable[[Sequence[str]], object] | None) -> Facts:
    """Each pair's fact; ``embed`` clusters the pairs that name none (None: each such pair is its own)."""
    ids: list[str | None] = [p.fact for p in pairs]
    by_source: dict[str, list[int]] = {}
    for i, pair in enumerate(pairs):
        if pair.fact is None:
            by_source.setdefault(pair.source, []).append(i)
    for source, members in by_source.items():
        labels = (clusters([pairs[i] for i in members], embed) if embed and source
                  else range(len(members)))  # a pair with no source shares its fact with no other
        for i, label in zip(members, labels):
            ids[i] = f"{source or '(no source)'}~{label if source else i}"
    named = sum(p.fact is not None for p in pairs)
    return Facts(tuple(ids), named, len(pairs) - named)


def cap_per_fact(pairs: Sequence[TrainPair], facts: Facts, n: int | None) -> tuple[TrainPair, ...]:
    """At most ``n`` pairs of each fact, the first ones in file order (None: every pair)."""
    if n is None:
        return tuple(pairs)
    seen: dict[str, int] = {}
    kept = []
    for pair, fact in zip(pairs, facts.ids):
        seen[fact] = seen.get(fact, 0) + 1
        if seen[fact] <= n:
            kept.append(pair)
    return tuple(kept)
