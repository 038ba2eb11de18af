"""Human reviews: a suite's ``reviews.yaml`` overrules the judge on the answers it covers.

Each entry is ``{q: q03, answer: "Seven metres back.", label: true, note: "..."}``. A review
matches a result on the question id and the answer text with whitespace normalised. The
review's label is the verdict; the judge's verdict on that answer is kept beside it only to
measure the judge (agreement, and the correction in harness/results/ppi.py), never to decide.

An entry written by ``harness review --sample N --seed S`` also says how it was drawn:
``sample: {seed: S, size: N, system: lora, population: "3f2a9c1b04de"}``. Only such entries enter
the judge-corrected accuracy, and only their system's, and only while that system's answers are
the ones they were drawn from (``population``, a hash of them): prediction-powered inference is
unbiased only over a uniform random sample of that system's answers as they are. An entry without ``sample`` is a hand
pick (report.html marks, ``harness review`` without ``--sample``): it overrules the judge, nothing
more. An answer drawn for several systems has one entry per system, all with the same label.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pydantic import StrictBool, StrictInt

from harness.core.errors import HarnessError
from harness.inputs.config import Question, Strict, Text
from harness.inputs.yamlfile import load_yaml
from harness.judges import Verdict
from harness.judges.calibration import labelled_entries

REVIEWS_FILE = "reviews.yaml"


class Draw(Strict):
    """How a random-sample review was drawn: the same seed and size over the same population draw it again."""

    seed: StrictInt
    size: StrictInt  # the N of --sample N, over all systems
    system: Text  # whose answer was drawn: the review enters that system's corrected accuracy only
    population: Text  # population_digests()[system] of the answers drawn from


class Review(Strict):
    q: Text
    answer: Text
    label: StrictBool  # "yes" or 1 is a typo, not a verdict
    note: Text = ""
    sample: Draw | None = None  # None: a hand pick


def normalise(answer: str) -> str:
    return " ".join(answer.split())


@dataclass(frozen=True)
class Reviews:
    path: Path
    by_key: dict[tuple[str, str], Review]  # (question id, normalised answer) -> its first review
    # (system, question id, normalised answer) of random-sample reviews -> the populations they were drawn from
    drawn_for: dict[tuple[str, str, str], frozenset[str]]

    def get(self, qid: str, answer: str | None) -> Review | None:
        return None if answer is None else self.by_key.get((qid, normalise(answer)))

    def drawn(self, system: str, qid: str, answer: str, population: str | None = None) -> bool:
        """Drawn for ``system`` in a random sample (of ``population``, when given)."""
        drawn_from = self.drawn_for.get((system, qid, normalise(answer)), frozenset())
        return bool(drawn_from) if population is None else population in drawn_from

    def overrule(self, system: str, qid: str, answer: str, judged: Verdict) -> Verdict:
        """The verdict on ``system``'s answer: its review's when there is one, else ``judged``."""
        review = self.get(qid, answer)
        if review is None:
            return judged
        # The review decides; the judge's verdict rides along only to measure the judge (harness/results/ppi.py).
        return Verdict(review.label, f"human review{': ' + review.note if review.note else ''}", source="human",
                       judge=judged, sampled=self.drawn(system, qid, answer))

    def __len__(self) -> int:
        return len(self.by_key)


def load_reviews(path: Path, questions: Sequence[Question]) -> Reviews:
    """The reviews in ``path`` (none when it is missing or empty); bad entries stop with file:line."""
    raw = load_yaml(path) if path.is_file() else None
    if raw is not None and not isinstance(raw, list):
        raise HarnessError("expected a list of {q, answer, label, note} entries", path=path)
    # (q, answer, (system, population) of its draw, or None for a hand pick) -> line
    lines: dict[tuple[str, str, tuple[str, str] | None], int] = {}
    first: dict[tuple[str, str], int] = {}
    by_key: dict[tuple[str, str], Review] = {}
    for review, line, item in labelled_entries(raw or [], Review, path, questions):
        key = (review.q, normalise(review.answer))
        entry = (*key, review.sample and (review.sample.system, review.sample.population))
        if entry in lines:
            raise HarnessError(f"duplicate review of this answer (first on line {lines[entry]})", path=path,
                               line=line, item=item)
        if key in by_key and by_key[key].label != review.label:
            said = str(by_key[key].label).lower()
            raise HarnessError(f"label {str(review.label).lower()}, but this answer is labelled {said} on line "
                               f"{first[key]}", path=path, line=line, item=item)
        lines[entry] = line
        first.setdefault(key, line)
        by_key.setdefault(key, review)
    drawn: dict[tuple[str, str, str], frozenset[str]] = {}
    for q, answer, draw in lines:
        if draw is not None:
            system, population = draw
            drawn[system, q, answer] = drawn.get((system, q, answer), frozenset()) | {population}
    return Reviews(path, by_key, drawn)


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


def population_digests(rows: Sequence) -> dict[str, str]:
    """Per system, a short hash of its answers: a system's sample is uniform over exactly these, so its
    reviews count only while they hash the same (other systems' answers may change meanwhile)."""
    answers: dict[str, list[str]] = {}
    for r in rows:
        if r.answer is not None:
            answers.setdefault(r.system, []).append(json.dumps([r.id, r.seed, r.answer], ensure_ascii=False))
    return {name: hashlib.sha256("\n".join(sorted(mine)).encode()).hexdigest()[:12] for name, mine in answers.items()}


@dataclass(frozen=True)
class Pending:
    """An answer to record a verdict on."""

    row: Any  # the first result row (harness.results.model.Row) that gave it
    draws: tuple[Draw, ...]  # one per system whose random sample drew it; none for a hand pick
    known: bool | None  # the label of an earlier review of the answer (drawn for another system, or hand-picked)


def review_queue(rows: Sequence, reviews: Reviews, sample: int | None, seed: int) -> list[Pending]:
    """The answers to record, each (question, answer) once.

    With ``sample``, a stratified random sample (so that the PPI correction is unbiased; a fixed
    seed draws the same sample again, so a review resumes): each drawn answer not yet recorded for
    its system from its answers as they are, also one reviewed before, so that no system's sample
    loses it (a sample drawn before a system's answers changed is drawn again). Otherwise every
    answer without a review, the judge's uncertain verdicts first.
    """
    answered = [r for r in rows if r.answer is not None]
    if sample is None:
        todo, draw = sorted((r for r in answered if reviews.get(r.id, r.answer) is None),
                            key=lambda r: not uncertain(r)), None
    else:
        digests = population_digests(answered)
        todo = [r for r in stratified_sample(answered, sample, seed)
                if not reviews.drawn(r.system, r.id, r.answer, digests[r.system])]
        draw = lambda system: Draw(seed=seed, size=sample, system=system, population=digests[system])  # noqa: E731
    same: dict[tuple[str, str], list] = {}
    for row in todo:
        same.setdefault((row.id, normalise(row.answer)), []).append(row)
    out = []
    for key, group in same.items():
        draws = tuple(draw(name) for name in dict.fromkeys(r.system for r in group)) if draw else ()
        earlier = reviews.get(*key)
        out.append(Pending(group[0], draws, earlier.label if earlier else None))
    return out


def carry_over(path: Path, queue: Sequence[Pending]) -> list[Pending]:
    """Record the drawn answers an earlier review already labelled (no need to ask again); the rest, to ask."""
    for pending in queue:
        if pending.known is not None:
            record_review(path, pending, pending.known)
    return [pending for pending in queue if pending.known is None]


def record_review(path: Path, pending: Pending, label: bool, note: str = "") -> None:
    """Append the verdict on a pending answer: one entry per system that drew it, or one hand pick."""
    for draw in pending.draws or (None,):
        append_review(path, review_line(pending.row.id, pending.row.answer, label, note, draw))


_PLAIN = re.compile(r"[A-Za-z0-9_.-]+")


def _scalar(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def review_line(q: str, answer: str, label: bool, note: str = "", draw: Draw | None = None) -> str:
    """One reviews.yaml entry in flow style; the HTML report's script writes the same line (hand picks)."""
    note_part = f", note: {json.dumps(note, ensure_ascii=False)}" if note else ""
    sample_part = (f", sample: {{seed: {draw.seed}, size: {draw.size}, system: {_scalar(draw.system)}, "
                   f"population: {json.dumps(draw.population)}}}" if draw else "")
    return (f"- {{q: {_scalar(q)}, answer: {json.dumps(answer, ensure_ascii=False)}, "
            f"label: {'true' if label else 'false'}{note_part}{sample_part}}}")


def append_review(path: Path, line: str) -> None:
    """Append one entry at once, so that quitting mid-review keeps every verdict given so far."""
    fresh = not path.is_file() or path.stat().st_size == 0
    unterminated = not fresh and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("# human verdicts: they overrule the judge (harness review, or the marks in report.html);\n"
                      "# those with `sample` (harness review --sample) also correct its accuracy\n"
                      if fresh else "\n" if unterminated else "") + line + "\n")
