"""Synthesize training pairs from the corpus with a generator (self-instruct), then clean them.

Each chunk of the corpus is sent with a prompt asking for question/answer pairs answerable from
it alone. Replies that won't parse are counted and skipped. Exact and near-duplicate questions
are dropped (near: embedding cosine above ``near_duplicate``, kept high so that several
phrasings of one fact survive), and so is any pair too close to an evaluation question.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.inputs.trainset import TrainPair
from harness.retrieval.chunking import chunk_corpus
from harness.training.decontam import find_leaks

if TYPE_CHECKING:  # the suite is loaded above this layer; synthesis only reads it
    from harness.suite import Suite

PROMPT = (
    "Read the passage and write {n} question and answer pairs that can be answered from the passage "
    "alone. Ask about different facts and do not repeat a question. Keep each answer under ten words. "
    'Reply with a JSON list of objects with the keys "question" and "answer".\n\n'
    "Passage:\n{passage}\n\nJSON:"
)


@dataclass
class SynthSummary:
    chunks: int = 0
    made: int = 0
    unparsable: int = 0
    duplicates: int = 0
    contaminated: int = 0
    kept: int = 0


def parse_pairs(reply: str) -> list[tuple[str, str]] | None:
    """Pairs from a JSON list (or a run of JSON objects) in the reply; None when there are none."""
    candidates = re.findall(r"\[.*\]", reply, re.DOTALL) + ["[" + ",".join(re.findall(r"\{[^{}]*\}", reply)) + "]"]
    for text in candidates:
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            continue
        pairs = [(str(i["question"]).strip(), str(i["answer"]).strip()) for i in items
                 if isinstance(i, dict) and i.get("question") and i.get("answer")]
        if pairs:
            return pairs
    return None


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def synthesize(suite: Suite, generator, embedder, pairs_per_chunk: int, near_duplicate: float = 0.95,
               max_new_tokens: int = 256) -> tuple[list[TrainPair], SynthSummary]:
    import numpy as np

    cfg = suite.config
    docs = {d.source: d for d in suite.documents}
    chunks = chunk_corpus(suite.documents, embedder.token_spans, cfg.chunking.tokens, cfg.chunking.overlap)
    texts = [docs[c.source].text[c.start:c.end] for c in chunks]
    replies = generator.complete([PROMPT.format(n=pairs_per_chunk, passage=t) for t in texts], max_new_tokens)
    summary = SynthSummary(chunks=len(chunks))
    made: list[TrainPair] = []
    for chunk, reply in zip(chunks, replies):
        parsed = parse_pairs(reply)
        if parsed is None:
            summary.unparsable += 1
            continue
        made += [TrainPair(question=q, answer=a, source=f"{chunk.source}@{chunk.start}-{chunk.end}") for q, a in parsed]
    summary.made = len(made)

    seen, unique = set(), []
    for pair in made:
        if _norm(pair.question) not in seen:
            seen.add(_norm(pair.question))
            unique.append(pair)
    if unique:
        vectors = np.asarray(embedder.embed([p.question for p in unique]), dtype="float32")
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        kept_idx: list[int] = []
        for i in range(len(unique)):
            if not kept_idx or float(np.max(vectors[kept_idx] @ vectors[i])) <= near_duplicate:
                kept_idx.append(i)
        unique = [unique[i] for i in kept_idx]
    summary.duplicates = len(made) - len(unique)

    limits = cfg.training.decontamination
    leaks = find_leaks([p.question for p in unique], [(q.id, q.question) for q in suite.questions], embedder.embed,
                       max_ngram_jaccard=limits.max_ngram_jaccard, max_cosine=limits.max_cosine) if unique else []
    leaked = {leak.train for leak in leaks}
    kept = [p for p in unique if p.question not in leaked]
    summary.contaminated = len(unique) - len(kept)
    summary.kept = len(kept)
    return kept, summary
