"""Training pairs for fine-tuning: a YAML list of {question, answer, source}."""
from __future__ import annotations

from pathlib import Path

from harness.config import Strict, Text
from harness.errors import HarnessError
from harness.validation import validate
from harness.yamlfile import load_yaml


class TrainPair(Strict):
    question: Text
    answer: Text
    source: Text = ""


def load_train_pairs(path: Path) -> tuple[TrainPair, ...]:
    raw = load_yaml(path)
    if not isinstance(raw, list) or not raw:
        raise HarnessError("expected a non-empty list of {question, answer, source} pairs", path=path)
    pairs = []
    for i, entry in enumerate(raw, 1):
        pair = validate(TrainPair, entry, path, item=f"pair {i}")
        if not pair.question.strip() or not pair.answer.strip():
            raise HarnessError("question and answer must not be empty", path=path,
                               line=getattr(entry, "line", None), item=f"pair {i}")
        pairs.append(pair)
    return tuple(pairs)
