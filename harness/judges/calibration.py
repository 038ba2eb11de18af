"""Check a judge against human labels: agreement, Cohen's kappa, the confusion counts and, on
answers the systems really gave, how far each system's judged accuracy is from its labelled one."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Sequence

from pydantic import StrictBool

from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.config import Question, Strict, Text
from harness.inputs.validation import validate
from harness.inputs.yamlfile import load_yaml


class Candidate(Strict):
    q: Text
    candidate: Text
    label: bool | None = None


class RealAnswer(Strict):
    """An answer systems really gave (judge_real_answers.yaml), labelled by hand, with the systems that gave it."""

    q: Text
    answer: Text
    label: StrictBool
    systems: list[Text]
    note: Text = ""

    @property
    def candidate(self) -> str:  # graded like a calibration candidate
        return self.answer


def labelled_entries(raw: list, model: type[Strict], path: Path, questions: Sequence[Question]):
    """``(entry, line, item)`` for each ``{q, ..., label}`` mapping of a YAML list, validated against
    ``model``: a label that is not a boolean or an unknown question id stops with file and line."""
    ids = {q.id for q in questions}
    for entry in raw:
        line = getattr(entry, "line", None)
        qid = entry.get("q") if isinstance(entry, dict) else None
        item = f"question {qid}" if qid else None
        if isinstance(entry, dict) and "label" in entry and not isinstance(entry["label"], bool):
            raise HarnessError(f"label must be true or false, not {entry['label']!r}", path=path, line=line, item=item)
        parsed = validate(model, entry, path, item=item)
        if parsed.q not in ids:
            raise HarnessError(f"unknown question id {parsed.q!r}{did_you_mean(parsed.q, ids)}", path=path, line=line)
        yield parsed, line, item


def _load_labelled(path: Path, questions: Sequence[Question], model: type[Strict], fields: str,
                   require_labels: bool) -> list[tuple[Strict, int | None, str | None]]:
    """``(entry, line, item)`` per entry; bad entries and a second entry of one answer stop with file and line."""
    raw = load_yaml(path)
    if not isinstance(raw, list) or not raw:
        raise HarnessError(f"expected a non-empty list of {{{fields}}} entries", path=path)
    seen: dict[tuple[str, str], int] = {}
    out = []
    for entry, line, item in labelled_entries(raw, model, path, questions):
        if require_labels and entry.label is None:
            raise HarnessError("missing label (true or false)", path=path, line=line, item=item)
        key = (entry.q, " ".join(entry.candidate.lower().split()))
        if key in seen:
            raise HarnessError(f"duplicate entry (first on line {seen[key]})", path=path, line=line, item=item)
        seen[key] = line
        out.append((entry, line, item))
    return out


def load_candidates(path: Path, questions: Sequence[Question], require_labels: bool) -> tuple[Candidate, ...]:
    """A YAML list of {q, candidate, label}; bad entries stop with file, line and id."""
    return tuple(c for c, _, _ in _load_labelled(path, questions, Candidate, "q, candidate, label", require_labels))


def load_real_answers(path: Path, questions: Sequence[Question], systems: Collection[str]) -> tuple[RealAnswer, ...]:
    """A YAML list of {q, answer, label, systems, note}, validated like the calibration file; a system
    the suite does not know stops with file and line too."""
    entries = _load_labelled(path, questions, RealAnswer, "q, answer, label, systems, note", require_labels=True)
    for answer, line, item in entries:
        for name in answer.systems:
            if name not in systems:
                raise HarnessError(f"unknown system {name!r}{did_you_mean(name, systems)}", path=path, line=line,
                                   item=item)
    return tuple(a for a, _, _ in entries)


def split(qid: str) -> str:
    """"dev" or "check": the half of a label set a judge's rules may be tuned on, and the half that only
    measures them. Fixed by the question id, so that all answers to one question fall in one half."""
    return "check" if int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 2 else "dev"


@dataclass
class Agreement:
    n: int = 0  # labelled candidates
    agree: int = 0
    unscored: int = 0
    confusion: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    kappa: float | None = None
    disagreements: list[tuple[Candidate, object]] = field(default_factory=list)  # (candidate, Verdict)

    def summary(self) -> dict:
        return {"n": self.n, "agree": self.agree, "agreement": round(self.agreement, 6),
                "kappa": None if self.kappa is None else round(self.kappa, 6), "unscored": self.unscored,
                **self.confusion}

    @property
    def agreement(self) -> float:
        """Unscored verdicts count as disagreement: a judge cannot look good by abstaining."""
        return self.agree / self.n if self.n else 0.0


def _kappa(c: dict[str, int]) -> float | None:
    from statsmodels.stats.inter_rater import cohens_kappa

    table = [[c["tp"], c["fn"]], [c["fp"], c["tn"]]]  # rows: human label, columns: judge
    total = sum(map(sum, table))
    if not total:
        return None
    observed = (c["tp"] + c["tn"]) / total
    expected = ((c["tp"] + c["fn"]) * (c["tp"] + c["fp"]) + (c["fp"] + c["tn"]) * (c["fn"] + c["tn"])) / total**2
    if expected == 1:  # one class only: kappa is undefined; perfect agreement is still perfect
        return 1.0 if observed == 1 else 0.0
    return float(cohens_kappa(table, return_results=False))


@dataclass(frozen=True)
class Gap:
    """One system's answers in a real-answer set: how many, how many labelled right, how many judged right."""

    n: int
    labelled: int
    judged: int  # an unscored verdict is not judged right

    @property
    def points(self) -> float:
        """Judged minus labelled accuracy, in percentage points."""
        return 100 * (self.judged - self.labelled) / self.n


def system_gaps(answers: Sequence[RealAnswer], verdicts: Sequence) -> dict[str, Gap]:
    """Per system that gave the answers, its labelled and judged accuracy on them (``verdicts`` in order)."""
    counts: dict[str, tuple[int, int, int]] = {}
    for answer, verdict in zip(answers, verdicts):
        for name in answer.systems:
            n, labelled, judged = counts.get(name, (0, 0, 0))
            counts[name] = (n + 1, labelled + answer.label, judged + (verdict.correct is True))
    return {name: Gap(*c) for name, c in sorted(counts.items())}


def real_answers_summary(agreement: Agreement, gaps: dict[str, Gap]) -> dict:
    """The judge on real answers as results.json keeps it: agreement, each system's gap (judged minus
    labelled accuracy, a fraction) and the largest one either way."""
    gap = {name: round(g.points / 100, 6) for name, g in gaps.items()}
    return {**agreement.summary(), "gaps": gap, "max_gap": max(map(abs, gap.values()), default=0.0)}


def grade_candidates(judge, questions: Sequence[Question], candidates: Sequence[Candidate]) -> tuple[list, Agreement]:
    """Each candidate's Verdict, and how the judge agrees with the labelled ones."""
    questions = {q.id: q for q in questions}
    verdicts = [judge.grade(questions[c.q], c.candidate) for c in candidates]
    result = Agreement()
    for cand, verdict in zip(candidates, verdicts):
        if cand.label is None:
            continue
        result.n += 1
        if verdict.correct is None:
            result.unscored += 1
            result.disagreements.append((cand, verdict))
            continue
        cell = ("t" if verdict.correct == cand.label else "f") + ("p" if verdict.correct else "n")
        result.confusion[cell] += 1
        if verdict.correct == cand.label:
            result.agree += 1
        else:
            result.disagreements.append((cand, verdict))
    result.kappa = _kappa(result.confusion)
    return verdicts, result
