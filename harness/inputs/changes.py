"""A reviewed change set: edits to the documents (changes/<name>.yaml), validated and applied.

An edit changes one fact. It names every mention of the fact in the corpus (``find`` → ``replace``,
each ``find`` occurring exactly ``count`` times), the questions whose gold it moves, how the old and
the new value are said (``old`` / ``new``: an answer stating an old one is stale), and the training
pairs whose answers it moves. Applied, it gives the documents, questions and training pairs after the
change; every check fails with one line naming the file, line and edit.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pydantic import Field

from harness.core.errors import HarnessError, did_you_mean
from harness.inputs.config import Question, Strict, Text
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span, find_span
from harness.inputs.trainset import OFFSETS, SOURCE, TrainPair
from harness.inputs.validation import validate
from harness.inputs.yamlfile import load_yaml

FOLDER = "changes"  # reviewed change sets: <suite>/changes/<name>.yaml
DRAFT = "changes.draft.yaml"  # written by `harness changes`, read by nothing until reviewed


class Mention(Strict):
    find: Text
    replace: Text
    count: int = Field(1, gt=0)  # how often ``find`` occurs in the document, exactly
    file: Text = ""  # the document (its path under corpus/); may be left out when the corpus has one


class NewGold(Strict):
    """A question the edit touches: its new gold, or only its new evidence when its answer stands."""

    id: Text
    answer: Text | None = None  # None: the answer does not change, only the text of its evidence
    accept: list[Text] | None = None  # None with a new answer: no accepted forms
    evidence: list[Text] | None = None  # None: the old evidence, which must still be in the edited corpus


class PairChange(Strict):
    question: Text  # a training pair's question, exactly as train.yaml has it
    answer: Text  # its answer after the change
    reworded: Text | None = None  # its question after the change, where the question itself states the old value


class Edit(Strict):
    id: Text
    fact: Text = ""  # what changes, in words
    old: list[Text] = Field(min_length=1)  # how the old value is said
    new: list[Text] = Field(min_length=1)
    mentions: list[Mention] = Field(min_length=1)
    questions: list[NewGold] = []
    pairs: list[PairChange] = []
    derived: list[Text] = []  # values that follow from this one (a total, a half), checked by a reviewer


class ChangeSetFile(Strict):
    name: Text | None = None
    description: Text = ""
    edits: list[Edit] = Field(min_length=1)


@functools.cache
def value_pattern(value: str) -> re.Pattern:
    """A value said in a text: case- and whitespace-insensitive, on word boundaries (and "7" is not "7.5")."""
    words = r"\s+".join(re.escape(w) for w in value.split())
    return re.compile(rf"(?<![\w.]){words}(?![\w]|[.,]\d)", re.IGNORECASE)


def states(text: str, values: Sequence[str]) -> list[str]:
    """The values that ``text`` states."""
    return [v for v in values if value_pattern(v).search(text)]


@dataclass(frozen=True)
class Replaced:
    """One replaced mention: where it was, where it is now, and whose edit it belongs to."""

    source: str
    start: int  # in the old text
    end: int
    new_start: int  # in the new text
    new_end: int
    edit: str


@dataclass(frozen=True)
class ChangeSet:
    name: str
    path: Path
    description: str
    edits: tuple[Edit, ...]
    lines: dict[str, int]  # edit id -> its line in the file

    def edit(self, edit_id: str) -> Edit:
        return next(e for e in self.edits if e.id == edit_id)

    def error(self, edit: str | None, message: str) -> HarnessError:
        return HarnessError(message, path=self.path, line=self.lines.get(edit or ""),
                            item=f"edit {edit}" if edit else None)


@dataclass(frozen=True)
class Applied:
    """The suite's material after a change set."""

    documents: tuple[Document, ...]
    questions: tuple[Question, ...]
    train_pairs: tuple[TrainPair, ...] | None
    replaced: tuple[Replaced, ...]
    changed: dict[str, str]  # changed question id -> the edit that moves its gold answer
    changed_pairs: tuple[TrainPair, ...]  # training pairs whose answers moved, as they read after the change


def load_change_set(path: Path) -> ChangeSet:
    raw = load_yaml(path)
    data = validate(ChangeSetFile, raw if raw is not None else {}, path)
    lines: dict[str, int] = {}
    for edit, entry in zip(data.edits, raw["edits"]):
        if edit.id in lines:
            raise HarnessError(f"duplicate edit id (first on line {lines[edit.id]})", path=path,
                               line=getattr(entry, "line", None), item=f"edit {edit.id}")
        lines[edit.id] = getattr(entry, "line", 0)
    return ChangeSet(data.name or path.stem, path, data.description, tuple(data.edits), lines)


def change_sets(suite_root: Path) -> list[Path]:
    folder = suite_root / FOLDER
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _document(docs: Sequence[Document], mention: Mention, changes: ChangeSet, edit: str) -> Document:
    by_name = {d.source: d for d in docs}
    if not mention.file:
        if len(docs) == 1:
            return docs[0]
        raise changes.error(edit, f"mention {mention.find!r}: name its file: the corpus has {len(docs)} documents")
    if mention.file not in by_name:
        raise changes.error(edit, f"mention {mention.find!r}: no document {mention.file!r} in the corpus"
                                  f"{did_you_mean(mention.file, by_name)}")
    return by_name[mention.file]


def _occurrences(text: str, find: str) -> list[int]:
    starts, at = [], text.find(find)
    while at >= 0:
        starts.append(at)
        at = text.find(find, at + 1)
    return starts


def _replacements(changes: ChangeSet, docs: Sequence[Document]) -> dict[str, list[tuple[int, int, str, str]]]:
    """Per document, (start, end, replacement, edit id) in text order; every find counted and checked."""
    out: dict[str, list[tuple[int, int, str, str]]] = {}
    for edit in changes.edits:
        for m in edit.mentions:
            doc = _document(docs, m, changes, edit.id)
            found = _occurrences(doc.text, m.find)
            if len(found) != m.count:
                raise changes.error(edit.id, f"find {m.find!r} occurs {len(found)} times in {doc.source}, "
                                             f"the edit says {m.count}")
            if not states(m.find, edit.old):
                raise changes.error(edit.id, f"find {m.find!r} states none of the old values {edit.old}")
            if left := states(m.replace, edit.old):
                raise changes.error(edit.id, f"replace {m.replace!r} still states the old value {left[0]!r}")
            if not states(m.replace, edit.new):
                raise changes.error(edit.id, f"replace {m.replace!r} states none of the new values {edit.new}")
            out.setdefault(doc.source, []).extend((s, s + len(m.find), m.replace, edit.id) for s in found)
    for source, spans in out.items():
        spans.sort()
        for (s1, e1, _, a), (s2, _, _, b) in zip(spans, spans[1:]):
            if s2 < e1:
                raise changes.error(b, f"a mention overlaps one of edit {a} in {source} at offset {s2}")
    return out


def _apply(docs: Sequence[Document], plan: dict[str, list[tuple[int, int, str, str]]]
           ) -> tuple[tuple[Document, ...], tuple[Replaced, ...]]:
    new_docs, replaced = [], []
    for doc in docs:
        parts, at, shift = [], 0, 0
        for start, end, text, edit in plan.get(doc.source, []):
            parts += [doc.text[at:start], text]
            replaced.append(Replaced(doc.source, start, end, start + shift, start + shift + len(text), edit))
            shift += len(text) - (end - start)
            at = end
        new_docs.append(Document(doc.source, "".join(parts) + doc.text[at:]))
    return tuple(new_docs), tuple(replaced)


def moved_offset(replaced: Sequence[Replaced], source: str, offset: int) -> int | None:
    """Where an old offset lies after the change: shifted by every mention replaced before it. None
    when it falls inside a replaced mention: no new offset means the same thing."""
    shift = 0
    for r in replaced:
        if r.source != source:
            continue
        if r.start < offset < r.end:
            return None
        if r.end <= offset:
            shift += (r.new_end - r.new_start) - (r.end - r.start)
    return offset + shift


def moved_source(source: str, replaced: Sequence[Replaced]) -> str | None:
    """A ``file@START-END`` source re-resolved after the change, other sources as they are; None when
    an edit cuts across its bounds."""
    name, sep, where = SOURCE.fullmatch(source).groups(default="")
    m = OFFSETS.fullmatch(where) if sep == "@" else None
    if m is None:
        return source
    start, end = int(m.group(1)), int(m.group(2) or int(m.group(1)) + 1)
    new_start, new_end = moved_offset(replaced, name, start), moved_offset(replaced, name, end)
    if new_start is None or new_end is None:
        return None
    return f"{name}@{new_start}-{new_end}" if m.group(2) else f"{name}@{new_start}"


def _touched(spans: Sequence[Span], replaced: Sequence[Replaced]) -> list[str]:
    return sorted({r.edit for s in spans for r in replaced
                   if r.source == s.source and r.start < s.end and s.start < r.end})


def _questions(changes: ChangeSet, questions: Sequence[Question], evidence: dict[str, tuple[Span, ...]],
               replaced: Sequence[Replaced], docs: Sequence[Document]) -> tuple[list[Question], dict[str, str]]:
    by_id = {q.id: q for q in questions}
    gold: dict[str, tuple[str, NewGold]] = {}
    for edit in changes.edits:
        for g in edit.questions:
            if g.id not in by_id:
                raise changes.error(edit.id, f"unknown question {g.id!r}{did_you_mean(g.id, by_id)}")
            if g.id in gold:
                raise changes.error(edit.id, f"question {g.id} already has new gold from edit {gold[g.id][0]}")
            gold[g.id] = (edit.id, g)
    out, changed = [], {}
    for q in questions:
        touched = _touched(evidence.get(q.id, ()), replaced)
        if q.id not in gold:
            if touched:
                raise changes.error(touched[0], f"changes the evidence of question {q.id}, which it gives no new "
                                                "gold: add it under questions: with its answer, accept and evidence")
            out.append(q.model_copy(update={"source": moved_source(q.source, replaced) or q.source}))
            continue
        edit, g = gold[q.id]
        update: dict = {"source": moved_source(q.source, replaced) or q.source}
        if g.evidence is not None:
            update["evidence"] = g.evidence
        if g.answer is not None:
            update.update(answer=g.answer, accept=g.accept or [])
            changed[q.id] = edit
        new = q.model_copy(update=update)
        for text in new.evidence:
            if not find_span(docs, text):
                raise changes.error(edit, f"question {q.id}: evidence {text!r} is not in the edited corpus")
        if new.answer.strip().lower() == q.answer.strip().lower() and q.id in changed:
            raise changes.error(edit, f"question {q.id}: the new answer is the old one; leave answer: out when only "
                                      "its evidence changes")
        out.append(new)
    return out, changed


def _pairs(changes: ChangeSet, pairs: Sequence[TrainPair] | None, replaced: Sequence[Replaced]
           ) -> tuple[tuple[TrainPair, ...] | None, tuple[TrainPair, ...]]:
    new_answer: dict[str, tuple[str, dict]] = {}
    for edit in changes.edits:
        for p in edit.pairs:
            if p.question in new_answer:
                raise changes.error(edit.id, f"training pair {p.question!r} already changed by edit "
                                             f"{new_answer[p.question][0]}")
            new_answer[p.question] = (edit.id, {"answer": p.answer, "question": p.reworded or p.question})
    if pairs is None:
        if new_answer:
            raise changes.error(next(iter(new_answer.values()))[0], "changes training pairs, but the suite has none")
        return None, ()
    known = {p.question for p in pairs}
    for question, (edit, _) in new_answer.items():
        if question not in known:
            raise changes.error(edit, f"no training pair asks {question!r}{did_you_mean(question, known)}")
    out, changed = [], []
    for i, p in enumerate(pairs, 1):
        source = moved_source(p.source, replaced) if p.source else p.source
        if source is None:
            raise changes.error(None, f"training pair {i} ({p.question!r}): an edit cuts across its source "
                                      f"{p.source!r}; give it a section or a wider span")
        update = {"source": source}
        if p.question in new_answer:
            update.update(new_answer[p.question][1])
        new = p.model_copy(update=update)
        out.append(new)
        if p.question in new_answer:
            changed.append(new)
    return tuple(out), tuple(changed)


def apply_changes(changes: ChangeSet, docs: Sequence[Document], questions: Sequence[Question],
                  evidence: dict[str, tuple[Span, ...]], pairs: Sequence[TrainPair] | None) -> Applied:
    """The material after ``changes``, every check made; HarnessError (file, line, edit) on the first failure."""
    replaced_docs, replaced = _apply(docs, _replacements(changes, docs))
    new_questions, changed = _questions(changes, questions, evidence, replaced, replaced_docs)
    new_pairs, changed_pairs = _pairs(changes, pairs, replaced)
    for q in questions:
        if q.source and moved_source(q.source, replaced) is None:
            raise changes.error(None, f"question {q.id}: an edit cuts across its source {q.source!r}")
    for edit in changes.edits:
        if not any(e == edit.id for e in changed.values()) and not edit.pairs:
            raise changes.error(edit.id, "moves no question's gold and no training pair: nothing would measure it")
    return Applied(replaced_docs, tuple(new_questions), new_pairs, replaced, changed, changed_pairs)
