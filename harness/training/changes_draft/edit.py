"""One edit assembled: its mentions' finds and replacements, and what it moves (the questions whose
evidence it touches, the training pairs that state the value, the values derived from it, left for a reviewer)."""
from __future__ import annotations

import random
import re
from typing import Sequence

from harness.inputs.changes import Edit, states
from harness.inputs.config import Question
from harness.inputs.trainset import resolve_source
from harness.training.changes_draft.candidates import new_values
from harness.training.changes_draft.material import Hit, Material, paragraph, sentence
from harness.training.changes_draft.mentions import find_for, occurrences, positions, same_fact
from harness.training.changes_draft.values import Value, numbers_in, said, substitute, unit_stem

REVIEW_ONLY = ("status", "reason")  # draft fields a change set does not have: stripped when an edit is accepted
PENDING = "draft"
MAX_MENTIONS = 6  # more statements alike than this are boilerplate (a ruling repeated), not one fact restated
DERIVED_WORDS = re.compile(r"\b(total|in all|altogether|combined|halves|each half|consisting of|twice|double)\b",
                           re.IGNORECASE)


def draft_edit(q: Question, seed: Hit, material: Material, rng: random.Random, edit_id: str
               ) -> tuple[dict | None, str]:
    """One edit for question ``q``'s value at ``seed`` (the entry as the draft file writes it), or None and
    why not."""
    old = seed.value
    hits = occurrences(material, old)
    mentions = [h for h in hits if same_fact(material, h, seed)]
    if len(mentions) > MAX_MENTIONS:
        return None, f"stated alike in more than {MAX_MENTIONS} places (boilerplate, not one fact)"
    passages = list(dict.fromkeys(paragraph(material.text(h.source), h.start) for h in mentions))
    options, how = new_values(old, material, passages)
    if not options:
        return None, f"no new {old.kind} that its passage does not already state"
    new = rng.choice(options)
    finds: dict[tuple[str, str], int] = {}
    for hit in mentions:
        found = find_for(material, hit, mentions)
        if found is None:
            return None, "no find for a mention that is unique and keeps the questions' and pairs' offsets"
        finds[(hit.source, found[0])] = found[1]
    mention_rows = [{"find": f, "replace": substitute(f, old, new), "count": n,
                     **({"file": src} if len(material.documents) > 1 else {})} for (src, f), n in finds.items()]
    placed = [(src, p, p + len(f)) for (src, f) in finds for p in positions(material.text(src), f)]
    entry = {"id": edit_id, "status": PENDING, "reason": "", "fact": f"{q.question} ({old.text} → {new.text})",
             "old": said(old), "new": said(new), "mentions": mention_rows,
             "questions": _new_gold(material, placed, old, new, mention_rows),
             "pairs": _pairs(material, mentions, old, new),
             "derived": _derived(material, old, mentions)}
    others = len(hits) - len(mentions)
    entry["reason"] = (f"{how}: drew {new.text} for {old.text} in {q.id}'s evidence; {len(mentions)} mention(s)"
                       + (f"; {others} other statement(s) of {old.text!r} left as they are (not the same fact)"
                          if others else "")
                       + (f"; {len(entry['derived'])} derived value(s) to check" if entry["derived"] else ""))
    return {k: v for k, v in entry.items() if v != [] or k in ("questions",)}, ""


def _new_gold(material: Material, placed, old: Value, new: Value, mentions: Sequence[dict]) -> list[dict]:
    """The questions whose evidence a mention touches: new evidence (its mentions replaced, no other statement
    of the value), and a new answer where it states the value."""
    out = []
    for q in material.questions:
        spans = material.evidence.get(q.id, ())
        if not any(s.source == src and s.start < e and b < s.end for s in spans for src, b, e in placed):
            continue
        gold: dict = {"id": q.id}
        if states(" ".join([q.answer, *q.accept]), said(old)):
            gold["answer"] = substitute(q.answer, old, new)
            gold["accept"] = [substitute(a, old, new) for a in q.accept]
        gold["evidence"] = [_replaced(e, mentions) for e in q.evidence]
        out.append(gold)
    return out


def _replaced(evidence: str, mentions: Sequence[dict]) -> str:
    for m in mentions:  # a find never straddles an evidence span: it is inside one or outside it
        evidence = evidence.replace(m["find"], m["replace"])
    return evidence


def _pairs(material: Material, mentions: Sequence[Hit], old: Value, new: Value) -> list[dict]:
    """Training pairs whose answer states the old value and whose source passage holds a mention."""
    out = []
    for p in material.pairs or ():
        if not p.source or not states(p.answer, said(old)):
            continue
        span = resolve_source(material.documents, p.source)
        if not any(h.source == span.source and span.start <= h.start < span.end for h in mentions):
            continue
        row = {"question": p.question, "answer": substitute(p.answer, old, new)}
        if states(p.question, said(old)):
            row["reworded"] = substitute(p.question, old, new)
        out.append(row)
    return out


def _derived(material: Material, old: Value, mentions: Sequence[Hit]) -> list[str]:
    """Numbers that follow from the old one, left for a reviewer: the same unit at half, double or three
    times it in a mention's paragraph, or a number in a mention's sentence that totals or halves (a match
    of two halves)."""
    if old.number is None:
        return []
    mentioned = {(h.source, h.start) for h in mentions}
    out = []
    for doc in material.documents:
        for m, number, unit, _ in numbers_in(doc.text):
            if (doc.source, m.start()) in mentioned or number == old.number:
                continue
            said_in = sentence(doc.text, m.start())
            near = any(h.source == doc.source and paragraph(doc.text, h.start) == paragraph(doc.text, m.start())
                       for h in mentions)
            related = near and unit_stem(unit) == unit_stem(old.unit) and number in (old.number / 2, old.number * 2,
                                                                             old.number * 3)
            totals = DERIVED_WORDS.search(said_in) and any(h.source == doc.source and said_in in
                                                           sentence(doc.text, h.start) for h in mentions)
            if related or totals:
                why = {old.number / 2: "half", old.number * 2: "twice", old.number * 3: "three times"}.get(number)
                out.append(f"{doc.source}: {' '.join(said_in.split())[:160]!r} ({m.group(0)}"
                           f"{': ' + why + ' of it' if related and why else ': in the same totalling sentence'})")
    return list(dict.fromkeys(out))


def as_edit(entry: dict) -> Edit:
    return Edit(**{k: v for k, v in entry.items() if k not in REVIEW_ONLY})
