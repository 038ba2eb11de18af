"""Synthesize training pairs from the corpus with a generator (self-instruct), then clean them.

Each chunk of the corpus is sent with a prompt asking for question/answer pairs answerable from
it alone, as free text (models.writing: a JSON list spans lines). A reply that won't parse is asked
again with a stricter prompt, then counted; when too few of the first batch parse, synthesis stops
before the rest (training.writing). Exact and near-duplicate questions are dropped (near: embedding
cosine above ``near_duplicate``, kept high so that several phrasings of one fact survive), and so is
any pair too close to an evaluation question.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from harness.inputs.trainset import TrainPair
from harness.training.facts import group_facts
from harness.retrieval.chunking import chunk_corpus
from harness.training.decontam import find_leaks
from harness.training.writing import Asked, SuiteFiles, Writer, ask, unique_indices

PROMPT = (
    "Read the passage and write {n} question and answer pairs that can be answered from the passage "
    "alone. Ask about different facts and do not repeat a question. Keep each answer under ten words. "
    'Reply with a JSON list of objects with the keys "question" and "answer".\n\n'
    "Passage:\n{passage}\n\nJSON:"
)
STRICT = (
    'Reply with a JSON list and nothing else, in this form: [{{"question": "...?", "answer": "..."}}]. '
    "Write {n} question and answer pairs about the passage, each answer under ten words.\n\n"
    "Passage:\n{passage}\n\nJSON:"
)


@dataclass
class SynthSummary:
    chunks: int = 0
    asked: Asked = field(default_factory=Asked)
    made: int = 0
    duplicates: int = 0
    contaminated: int = 0
    kept: int = 0

    def line(self, generator: str) -> str:
        a = self.asked
        return (f"made by `harness synth` with {generator}: {self.chunks} chunks, {a.replies} replies, {a.retried} "
                f"retried with a stricter prompt, {a.unparsable} unparsable, {self.made} pairs made, "
                f"{self.duplicates} duplicates dropped, {self.contaminated} contaminated dropped, {self.kept} kept")


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


def synthesize(suite: SuiteFiles, writer: Writer, embedder, pairs_per_chunk: int, near_duplicate: float = 0.95
               ) -> tuple[list[TrainPair], SynthSummary]:
    cfg = suite.config
    docs = {d.source: d for d in suite.documents}
    chunks = chunk_corpus(suite.documents, embedder.token_spans, cfg.chunking.tokens, cfg.chunking.overlap)
    texts = [docs[c.source].text[c.start:c.end] for c in chunks]
    summary = SynthSummary(chunks=len(chunks))
    replies = ask(writer, [PROMPT.format(n=pairs_per_chunk, passage=t) for t in texts],
                  [STRICT.format(n=pairs_per_chunk, passage=t) for t in texts], parse_pairs, summary.asked,
                  "synthesizing training pairs", check_first=True)
    made = [TrainPair(question=q, answer=a, source=f"{chunk.source}@{chunk.start}-{chunk.end}")
            for chunk, parsed in zip(chunks, replies) for q, a in parsed or ()]
    summary.made = len(made)
    unique = [made[i] for i in unique_indices([p.question for p in made], embedder.embed, near_duplicate)]
    summary.duplicates = len(made) - len(unique)

    limits = cfg.training.decontamination
    leaks = find_leaks([p.question for p in unique], [(q.id, q.question) for q in suite.questions], embedder.embed,
                       max_ngram_jaccard=limits.max_ngram_jaccard,
                       max_cosine=limits.max_cosine) if unique and suite.questions else []
    leaked = {leak.train for leak in leaks}
    kept = with_facts([p for p in unique if p.question not in leaked], embedder.embed)
    summary.contaminated = len(unique) - len(kept)
    summary.kept = len(kept)
    return kept, summary


def with_facts(pairs: list[TrainPair], embed) -> list[TrainPair]:
    """Each pair with its fact id: the pairs one chunk gave, clustered (harness.training.facts), written
    out so that a reviewer can correct them."""
    facts = group_facts(pairs, embed)
    return [p.model_copy(update={"fact": fact}) for p, fact in zip(pairs, facts.ids)]
