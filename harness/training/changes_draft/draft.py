"""The draft file: edits drafted one question at a time in a seeded order, each checked by applying it with
those before it as a run would, and written for review."""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from harness.core.cache import write_atomic
from harness.core.errors import HarnessError
from harness.inputs.changes import DRAFT, FOLDER, ChangeSet, Edit, apply_changes
from harness.training.changes_draft.edit import as_edit, draft_edit
from harness.training.changes_draft.material import Material, corpus_terms
from harness.training.changes_draft.mentions import question_value


def check(material: Material, edits: Sequence[Edit], path: Path) -> None:
    """HarnessError unless these edits, as one change set, apply to the suite as a run would apply them."""
    apply_changes(ChangeSet(path.stem, path, "", tuple(edits), {}), material.documents, material.questions,
                  material.evidence, material.pairs)


@dataclass
class Summary:
    asked: int
    seed: int
    drafted: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def line(self) -> str:
        plural = {"count": "counts", "quantity": "quantities", "colour": "colours", "term": "terms"}
        kinds = ", ".join(f"{n} {plural[k] if n > 1 else k}" for k, n in sorted(self.drafted.items()))
        why = "; ".join(f"{r}: {n}" for r, n in self.skipped.most_common())
        return (f"drafted {sum(self.drafted.values())} edits of {self.asked} asked ({kinds or 'none'}), seed "
                f"{self.seed}; skipped {sum(self.skipped.values())} questions" + (f" ({why})" if why else ""))


def draft_changes(material: Material, count: int, seed: int, path: Path) -> tuple[list[dict], Summary]:
    """Up to ``count`` edits, one question at a time in a seeded order, each checked with those before it."""
    rng = random.Random(seed)
    material.terms = material.terms or corpus_terms(material.documents)
    order = sorted(material.questions, key=lambda q: q.id)
    rng.shuffle(order)
    entries, summary = [], Summary(count, seed)
    for q in order:
        if len(entries) >= count:
            break
        seed_hit = question_value(q, material)
        if seed_hit is None:
            summary.skipped["no count, quantity, colour or defined term of its answer in its evidence"] += 1
            continue
        entry, why = draft_edit(q, seed_hit, material, rng, f"c{len(entries) + 1:02d}")
        if entry is None:
            summary.skipped[why] += 1
            continue
        try:
            check(material, [as_edit(e) for e in entries + [entry]], path)
        except HarnessError as err:
            summary.skipped[_failure(str(err))] += 1
            continue
        entries.append(entry)
        summary.drafted[seed_hit.value.kind] += 1
    return entries, summary


def _failure(message: str) -> str:
    """A failed check, grouped: the message without its file, edit and quoted specifics."""
    text = re.sub(r"^.*?edit c\d+: ", "", message)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\b[qd]?\d+\b", "…", text)
    return "fails its check: " + text[:90]


def header(material: Material, summary: Summary) -> str:
    docs = "; ".join(f"{d.source} ({len(d.text)} characters, sha256 {hashlib.sha256(d.text.encode()).hexdigest()[:12]})"
                     for d in material.documents)
    return (f"# Drafted by `harness changes` (no model): counterfactual edits, NOT read by a run until reviewed\n"
            f"# with `harness review --changes`, which writes the accepted ones to {FOLDER}/<name>.yaml.\n"
            f"# documents: {docs}\n# questions: {len(material.questions)}; training pairs: "
            f"{len(material.pairs or ())}\n# {summary.line()}\n")


def write_draft(root: Path, material: Material, count: int, seed: int) -> tuple[Path, Summary]:
    path = root / DRAFT
    if path.exists():
        raise HarnessError("a draft is already there: review it (`harness review --changes`) or remove it; "
                           "it is never overwritten", path=path)
    entries, summary = draft_changes(material, count, seed, path)
    if entries:
        write_atomic(path, header(material, summary) + dump({"edits": entries}))
    return path, summary


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
