"""The corpus as training data for ``train_on: corpus``: the documents cut into passages that fit
``max_length`` tokens of the generator, next-token loss on every one of their tokens.

Each passage is a training row with no prompt (lora.tokenized labels every token after the
beginning-of-text one); rows are TrainPairs with an empty question, the passage as the answer and
its character offsets as the source, so that the adapter's cache key covers the corpus.
"""
from __future__ import annotations

from typing import Sequence

from harness.core.errors import HarnessError
from harness.inputs.corpus import Document
from harness.inputs.trainset import TrainPair
from harness.retrieval.chunking import chunk_corpus

SPECIAL_TOKENS = 2  # beginning and end of text, around each passage


def corpus_passages(documents: Sequence[Document], tokenizer, max_length: int) -> tuple[TrainPair, ...]:
    def spans(text: str) -> list[tuple[int, int]]:
        return [tuple(o) for o in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]]

    docs = {d.source: d for d in documents}
    size = max(1, max_length - SPECIAL_TOKENS)
    passages = tuple(TrainPair(question="", answer=docs[c.source].text[c.start:c.end], source=f"{c.source}@{c.start}-{c.end}")
                     for c in chunk_corpus(documents, spans, size, 0) if docs[c.source].text[c.start:c.end].strip())
    if not passages:
        raise HarnessError("train_on: corpus: the corpus has no text to train on")
    return passages
