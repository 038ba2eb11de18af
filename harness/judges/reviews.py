"""Human reviews: a suite's ``reviews.yaml`` overrules the judge on the answers it covers.

Each entry is ``{q: q03, answer: "Seven metres back.", label: true, note: "..."}``. A review
matches a result on the question id and the answer text with whitespace normalised. The
review's label is the verdict; the judge's verdict on that answer is kept beside it only to
measure the judge (agreement, and the correction in harness/ppi.py), never to decide.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pydantic import StrictBool

from harness.core.errors import HarnessError
from harness.inputs.config import Question, Strict, Text
from harness.inputs.yamlfile import load_yaml
from harness.judges.calibration import labelled_entries

REVIEWS_FILE = "reviews.yaml"


class Review(Strict):
    q: Text
    answer: Text
    label: StrictBool  # "yes" or 1 is a typo, not a verdict
    note: Text = ""


def normalise(answer: str) -> str:
    return " ".join(answer.split())


@dataclass(frozen=True)
class Reviews:
    path: Path
    by_key: dict[tuple[str, str], Review]  # (question id, normalised answer) -> review

    def get(self, qid: str, answer: str | None) -> Review | None:
        return None if answer is None else self.by_key.get((qid, normalise(answer)))

    def __len__(self) -> int:
        return len(self.by_key)


def load_reviews(path: Path, questions: Sequence[Question]) -> Reviews:
    """The reviews in ``path`` (none when it is missing or empty); bad entries stop with file:line."""
    if not path.is_file():
        return Reviews(path, {})
    raw = load_yaml(path)
    if raw is None:
        return Reviews(path, {})
    if not isinstance(raw, list):
        raise HarnessError("expected a list of {q, answer, label, note} entries", path=path)
    lines: dict[tuple[str, str], int] = {}
    by_key: dict[tuple[str, str], Review] = {}
    for review, line, item in labelled_entries(raw, Review, path, questions):
        key = (review.q, normalise(review.answer))
        if key in lines:
            raise HarnessError(f"duplicate review of this answer (first on line {lines[key]})", path=path,
                               line=line, item=item)
        lines[key], by_key[key] = line, review
    return Reviews(path, by_key)


def uncertain(row) -> bool:
    """A judge verdict the judge was not sure of: its rule was not decisive, or it could not decide.
    ``row`` is a result row (harness.results.model.Row, read here by its fields)."""
    return row.verdict_source != "human" and row.answer is not None and (row.certain is False or row.correct is None)


def stratified_sample(rows: Sequence, size: int, seed: int) -> list:
    """``size`` rows drawn at random within each system, in proportion to its answers, at least one each."""
    by_system: dict[str, list] = {}
    for row in rows:
        by_system.setdefault(row.system, []).append(row)
    total = len(rows)
    share = {name: max(1, size * len(mine) // total) for name, mine in by_system.items()} if total else {}
    # Hand out what rounding left over, to the systems with the most answers not yet drawn.
    for name in sorted(by_system, key=lambda n: len(by_system[n]) - share[n], reverse=True):
        if sum(share.values()) >= size:
            break
        share[name] += 1
    rng = random.Random(seed)
    return [row for name, mine in by_system.items() for row in rng.sample(mine, min(share[name], len(mine)))]


def review_queue(rows: Sequence, reviews: Reviews, sample: int | None, seed: int) -> list:
    """The answers to ask about, each (question, answer) once and none already reviewed.

    With ``sample``, a stratified random sample (so that the PPI correction is unbiased; a fixed
    seed draws the same sample again, so a review resumes); otherwise every answer, the judge's
    uncertain verdicts first.
    """
    answered = [r for r in rows if r.answer is not None]
    queue = stratified_sample(answered, sample, seed) if sample is not None else sorted(
        answered, key=lambda r: not uncertain(r))
    seen: set[tuple[str, str]] = set()
    out = []
    for row in queue:
        key = (row.id, normalise(row.answer))
        if key not in seen and reviews.get(*key) is None:
            seen.add(key)
            out.append(row)
    return out


_PLAIN = re.compile(r"[A-Za-z0-9_.-]+")


def review_line(q: str, answer: str, label: bool, note: str = "") -> str:
    """One reviews.yaml entry in flow style; the HTML report's script writes the same line."""
    qtext = q if _PLAIN.fullmatch(q) else json.dumps(q, ensure_ascii=False)
    note_part = f", note: {json.dumps(note, ensure_ascii=False)}" if note else ""
    return (f"- {{q: {qtext}, answer: {json.dumps(answer, ensure_ascii=False)}, "
            f"label: {'true' if label else 'false'}{note_part}}}")


def append_review(path: Path, line: str) -> None:
    """Append one entry at once, so that quitting mid-review keeps every verdict given so far."""
    fresh = not path.is_file() or path.stat().st_size == 0
    unterminated = not fresh and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("# human verdicts: they overrule the judge (harness review, or the marks in report.html)\n"
                      if fresh else "\n" if unterminated else "") + line + "\n")
