"""Draft evaluation questions and training pairs from the corpus alone, evidence first.

A fact is a sentence of the corpus, chosen by code: the span is then verbatim by construction, and
the generator only writes a question and a short answer for it (AutoRAG samples the chunk first,
too). Facts for evaluation questions are spread over the corpus in proportion to its length (or
evenly over its documents); training pairs take ``pairs_per_chunk`` facts of every section chunk,
each in ``phrasings`` wordings (Ovadia et al. 2024: repeated paraphrases are what makes
fine-tuning learn a fact). Every check is counted in the summary line; nothing is dropped silently.
Drafts go to their own files for review (``harness review --drafts``); a run never reads them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from harness.core.cache import write_atomic
from harness.core.errors import HarnessError
from harness.inputs.config import Question
from harness.inputs.corpus import Document
from harness.inputs.evidence import find_span
from harness.inputs.trainset import TrainPair
from harness.inputs.yamlfile import load_yaml
from harness.retrieval.chunking import Chunk, chunk_corpus
from harness.training.decontam import find_leaks
from harness.training.writing import Asked, SuiteFiles, Writer, ask, norm, unique_indices, weak_note

QUESTIONS_DRAFT = "questions.draft.yaml"
DRAW_ROUNDS = 3  # rounds of facts asked for evaluation questions, the first included
TRAIN_DRAFT = "train.draft.yaml"
SPREADS = ("proportional", "even")
CHUNK_TOKENS = 120  # a fact's passage: one section chunk, as the generator sees it
NEAR_DUPLICATE = 0.95  # embedding cosine: kept high so that the phrasings of one fact survive

# Completion layout with worked examples (off-topic, like a suite's examples): a base model continues
# it, a chat model follows it. The reply opens after "Question:"; a base model then starts the next
# example, where STOPS cut it.
EXAMPLES = (("The city library opens at nine on weekdays and at ten on Saturdays. It is closed on Sundays.",
             "The city library opens at nine on weekdays and at ten on Saturdays.",
             "When does the city library open on a Saturday?", "At ten."),
            ("Each rowing crew has eight rowers and a cox, who steers the boat from the stern.",
             "Each rowing crew has eight rowers and a cox, who steers the boat from the stern.",
             "Who steers a rowing boat?", "The cox."))
PROMPT = ("Write one question that the sentence answers, and its short answer (at most ten words) taken from the "
          "sentence.\n\n"
          + "".join(f"Passage: {p}\nSentence: {s}\nQuestion: {q}\nAnswer: {a}\n\n" for p, s, q, a in EXAMPLES)
          ).replace("{", "{{").replace("}", "}}") + "Passage: {passage}\nSentence: {span}\nQuestion:"
STRICT = (
    "Reply with one JSON object and nothing else: a question that the sentence answers, and its short answer "
    "taken from the sentence.\n\n"
    "Sentence: The city library opens at nine on weekdays and at ten on Saturdays.\n"
    'JSON: {{"question": "When does the city library open on a Saturday?", "answer": "At ten."}}\n\n'
    "Sentence: {span}\nJSON:")
REWORD = (
    "Ask the same question in other words.\n\n"
    "Question: When does the city library open on a Saturday?\n"
    "In other words: At what time does the city library open on Saturdays?\n\n"
    "Question: {question}\nIn other words:")
REWORD_STRICT = (
    "Reply with one JSON object and nothing else: the question asked in other words, with the same meaning.\n\n"
    "Question: When does the city library open on a Saturday?\n"
    'JSON: {{"question": "At what time does the city library open on Saturdays?"}}\n\n'
    "Question: {question}\nJSON:")
STOPS = ("\nPassage:", "\nSentence:", "\nQuestion:")  # where a base model starts the next example
COPIED = {q.lower() for *_, q, _ in EXAMPLES} | {"at what time does the city library open on saturdays?"}

# A sentence ends at . ! or ? before a space or a line's end (not in "10.3" or "e.g.x"), or at a line break.
_SENTENCE = re.compile(r"(?:[^\n.!?]|[.!?](?![ \t]|$))+(?:[.!?]+|$)", re.MULTILINE)
_LEAD = re.compile(r"[ \t]*(?:[-*+]|\(?\d+(?:\.\d+)*[.)]?|\(?[a-z][.)])[ \t]+")  # bullet, rule number
_LINES = re.compile(r"^\s*(?:Question:\s*)?(?P<q>[^\n]*\?)\s*\n+\s*Answer:\s*(?P<a>[^\n]+)", re.IGNORECASE)
_OBJECT = re.compile(r"\{[^{}]*\}")
_REFUSAL = re.compile(r"\b(not (?:in|mentioned|stated|given|specified)|no information|unknown|cannot|can't)\b",
                      re.IGNORECASE)
STOPWORDS = frozenset((
    "a an the of to in on at by for with from and or is are was were be been it its this that these those as "
    "what which who whom when where why how do does did can may must shall should will would there their they "
    "he she his her if not no yes any each per than then into onto over under up out about after before "
    "has have had being am").split())
NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


@dataclass(frozen=True)
class Fact:
    text: str  # verbatim from the document
    source: str  # file@START-END, as a training pair's source
    document: str
    section: str  # the heading above it ("" before the first)
    passage: str  # the chunk the generator reads


@dataclass
class DraftSummary:
    documents: int = 0
    sections: int = 0
    spread: str = "proportional"
    facts: int = 0
    asked: Asked = field(default_factory=Asked)
    hallucinated: int = 0  # evidence quoted by the generator that is not in the corpus
    uncertain: int = 0  # kept, marked: the answer's words are not in its span
    duplicates: int = 0
    self_answering: int = 0  # the question holds its own answer
    unrelated: int = 0  # the question shares no word with its fact's passage (a worked example's, copied)
    contaminated: int = 0  # training pairs too close to an evaluation question
    questions: int = 0
    pairs: int = 0
    by_document: dict = field(default_factory=dict)  # document -> [questions, sections covered]
    note: str = ""
    drawn_again: int = 0  # facts asked in later rounds, to make up for drafts the checks dropped

    def line(self, generator: str) -> str:
        a = self.asked
        spread = ", ".join(f"{doc} {n} from {len(secs)} sections" for doc, (n, secs) in self.by_document.items())
        return (f"drafted {self.questions} questions and {self.pairs} training pairs with {generator}{self.note}: "
                f"{self.documents} documents, {self.sections} sections, {self.facts} facts; spread "
                f"{self.spread}{' by length' if self.spread == 'proportional' else ' over documents'} "
                f"({spread or 'no questions'}); {a.replies} replies, {a.retried} retried with a stricter prompt, "
                f"{a.unparsable} unparsable, {self.hallucinated} with evidence not in the corpus, {self.uncertain} "
                f"answers not in their span (marked uncertain), {self.duplicates} duplicates, {self.self_answering} "
                f"answered by the question alone, {self.contaminated} training pairs too close to a question"
                + (f"; {self.unrelated} questions sharing no word with their passage" if self.unrelated else "")
                + (f"; {self.drawn_again} more facts asked to make up for dropped drafts" if self.drawn_again else ""))


def parse_draft(reply: str) -> dict | None:
    """{question, answer[, evidence]} from a JSON object anywhere in the reply, else from
    'QUESTION?\\nAnswer: ANSWER' lines; None when neither is there, or when the reply copies a
    worked example (a weak model's habit)."""
    found = _parse_draft(reply)
    return None if found is None or found["question"].lower() in COPIED else found


def _json_object(reply: str, *keys: str) -> dict | None:
    """The first JSON object in the reply (in prose, too) whose ``keys`` hold non-empty text, stripped."""
    for match in _OBJECT.finditer(reply):
        try:
            item = json.loads(match.group())
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and all(isinstance(item.get(k), str) and item[k].strip() for k in keys):
            return {k: v.strip() for k, v in item.items() if isinstance(v, str) and v.strip()}
    return None


def _parse_draft(reply: str) -> dict | None:
    item = _json_object(reply, "question", "answer")
    if item is not None:
        return {k: item[k] for k in ("question", "answer", "evidence") if k in item}
    lines = _LINES.search(reply)
    if lines and lines.group("q").strip() != "?":
        return {"question": lines.group("q").strip(), "answer": lines.group("a").strip()}
    return None


def parse_rewording(reply: str) -> str | None:
    """The reworded question: a JSON object's "question", else the reply's first line ending in '?'."""
    item = _json_object(reply, "question")
    first = item["question"] if item else next((line.strip() for line in reply.splitlines() if line.strip()), "")
    return first if first.endswith("?") and len(first) > 1 and first.lower() not in COPIED else None


def content_words(text: str) -> set[str]:
    words = (NUMBERS.get(w, w) for w in re.findall(r"[a-z0-9]+", text.lower()))
    return {w.removesuffix("s") if len(w) > 3 else w for w in words if w not in STOPWORDS}


def sentences(doc: Document, chunk: Chunk) -> list[tuple[int, int]]:
    """Character spans of the chunk's sentences worth asking about (5 to 50 words, lead markers cut off)."""
    spans = []
    for m in _SENTENCE.finditer(doc.text, chunk.start, chunk.end):
        start, end = m.start(), min(m.end(), chunk.end)
        lead = _LEAD.match(doc.text, start, end)
        start = lead.end() if lead else start
        while start < end and doc.text[start].isspace():
            start += 1
        text = doc.text[start:end]
        if doc.text[m.start():m.end()].lstrip().startswith("#") or not 5 <= len(text.split()) <= 50:
            continue
        spans.append((start, end))
    return spans


def corpus_facts(suite: SuiteFiles, token_spans) -> tuple[list[Fact], list[list[Fact]]]:
    """Every fact of the corpus in document order, and the facts of each section chunk."""
    docs = {d.source: d for d in suite.documents}
    per_chunk = []
    for chunk in chunk_corpus(suite.documents, token_spans, CHUNK_TOKENS, 0, "sections", titles=True):
        doc = docs[chunk.source]
        passage = doc.text[chunk.start:chunk.end].strip()
        per_chunk.append([Fact(doc.text[s:e], f"{doc.source}@{s}-{e}", doc.source, chunk.title, passage)
                          for s, e in sentences(doc, chunk)])
    return [f for facts in per_chunk for f in facts], per_chunk


def spread_facts(facts: Sequence[Fact], n: int, spread: str) -> list[Fact]:
    """``n`` facts evenly spaced over the corpus's characters (proportional: a document or section
    gets questions in proportion to its length) or over each document in turn (even)."""
    if spread == "even":
        docs = list(dict.fromkeys(f.document for f in facts))
        shares = [n // len(docs) + (i < n % len(docs)) for i in range(len(docs))] if docs else []
        return [f for doc, k in zip(docs, shares) for f in spread_facts([f for f in facts if f.document == doc], k,
                                                                          "proportional")]
    if n >= len(facts):
        return list(facts)
    return [facts[int((i + 0.5) * len(facts) / n)] for i in range(n)]


def _section_of(fact: Fact) -> str:
    return fact.section or "(before the first heading)"


def draft(suite: SuiteFiles, writer: Writer, embedder, *, questions: int, pairs_per_chunk: int, phrasings: int,
          spread: str = "proportional", max_cosine: float | None = None, existing: Sequence[str] = ()
          ) -> tuple[list[dict], list[dict], DraftSummary]:
    """Drafted questions (entries of questions.draft.yaml) and training pairs (train.draft.yaml), and
    the counts of every check. ``existing``: questions already written (the suite's, an earlier draft)."""
    facts, per_chunk = corpus_facts(suite, embedder.token_spans)
    summary = DraftSummary(documents=len(suite.documents), spread=spread, facts=len(facts),
                           sections=len({(f.document, f.section) for f in facts}), note=weak_note(writer.generator))
    asked = spread_facts(facts, questions, spread)
    trained = [f for chunk in per_chunk for f in sorted(chunk, key=lambda f: -len(f.text))[:pairs_per_chunk]]
    todo = asked + trained
    replies = _ask_facts(writer, todo, summary, "drafting questions", check_first=True)
    drafted = [_checked(suite.documents, fact, reply, summary) for fact, reply in zip(todo, replies)]
    evals = _unique([d for d in drafted[:len(asked)] if d], embedder, existing, summary)
    evals = _made_up(suite, writer, embedder, facts, asked, evals, questions, spread, existing, summary)

    pairs = [d for d in drafted[len(asked):] if d]
    if phrasings > 1 and pairs:
        more = ask(writer, [REWORD.format(question=p["question"]) for p in pairs for _ in range(phrasings - 1)],
                   [REWORD_STRICT.format(question=p["question"]) for p in pairs for _ in range(phrasings - 1)],
                   parse_rewording, summary.asked, "rewording training questions")
        pairs = [row for i, p in enumerate(pairs) for row in
                 [p] + [{**p, "question": q} for q in more[i * (phrasings - 1):(i + 1) * (phrasings - 1)] if q]]
    keep = unique_indices([p["question"] for p in pairs], embedder.embed, NEAR_DUPLICATE)
    summary.duplicates += len(pairs) - len(keep)
    pairs = [pairs[i] for i in keep]
    pairs = _decontaminated(pairs, [d["question"] for d in evals] + list(existing), embedder, suite, summary,
                            max_cosine)

    for d in evals:
        summary.by_document.setdefault(d["document"], [0, set()])
        summary.by_document[d["document"]][0] += 1
        summary.by_document[d["document"]][1].add(d["section"])
    summary.questions, summary.pairs = len(evals), len(pairs)
    return [_question_entry(d) for d in evals], [_pair_entry(p) for p in pairs], summary


def _ask_facts(writer: Writer, facts: Sequence[Fact], summary: DraftSummary, phase: str, check_first: bool = False):
    return ask(writer, [PROMPT.format(passage=f.passage, span=f.text) for f in facts],
               [STRICT.format(span=f.text) for f in facts], parse_draft, summary.asked, phase, check_first=check_first)


def _unique(drafts: list[dict], embedder, seen: Sequence[str], summary: DraftSummary) -> list[dict]:
    keep = unique_indices([d["question"] for d in drafts], embedder.embed, NEAR_DUPLICATE, seen)
    summary.duplicates += len(drafts) - len(keep)
    return [drafts[i] for i in keep]


def _made_up(suite: SuiteFiles, writer: Writer, embedder, facts: Sequence[Fact], asked: Sequence[Fact],
             evals: list[dict], questions: int, spread: str, existing: Sequence[str], summary: DraftSummary
             ) -> list[dict]:
    """``evals`` topped up to ``questions`` from facts not asked yet, in at most DRAW_ROUNDS - 1 more rounds:
    a weak generator's drafts often fail a check, and a user who asks for 40 questions should get 40
    where the corpus has the facts. Each round asks for the shortfall scaled by the share kept so far."""
    tried = {f.source for f in asked}
    for _ in range(DRAW_ROUNDS - 1):
        fresh = [f for f in facts if f.source not in tried]
        short = questions - len(evals)
        if short <= 0 or not fresh:
            break
        more = spread_facts(fresh, min(len(fresh), -(-short * len(tried) // max(1, len(evals)))), spread)
        tried.update(f.source for f in more)
        summary.drawn_again += len(more)
        replies = _ask_facts(writer, more, summary, "drafting more questions")
        new = [d for d in (_checked(suite.documents, f, r, summary) for f, r in zip(more, replies)) if d]
        evals += _unique(new, embedder, [*existing, *(d["question"] for d in evals)], summary)
    return evals[:questions]  # the last round's share may overshoot: no more than was asked for


def _checked(docs: Sequence[Document], fact: Fact, reply: dict | None, summary: DraftSummary) -> dict | None:
    """The draft of one fact, or None when it fails a check that drops it (each counted)."""
    if reply is None:
        return None
    evidence = reply.get("evidence", fact.text)
    if not find_span(docs, evidence):
        summary.hallucinated += 1
        return None
    answer_words, question_words = content_words(reply["answer"]), content_words(reply["question"])
    if answer_words and answer_words <= question_words:
        summary.self_answering += 1
        return None
    if not question_words & content_words(fact.passage):
        summary.unrelated += 1
        return None
    supported = bool(answer_words) and answer_words <= content_words(evidence) and not _REFUSAL.search(reply["answer"])
    summary.uncertain += not supported
    return {"question": reply["question"], "answer": reply["answer"], "evidence": evidence, "source": fact.source,
            "document": fact.document, "section": _section_of(fact), "uncertain": not supported}


def _decontaminated(pairs: list[dict], questions: Sequence[str], embedder, suite: SuiteFiles, summary: DraftSummary,
                    max_cosine: float | None) -> list[dict]:
    """Pairs too close to an evaluation question (the decontamination test's limits) dropped and counted."""
    if not pairs or not questions:
        return pairs
    limits = suite.config.training.decontamination
    leaks = find_leaks([p["question"] for p in pairs], [(str(i), q) for i, q in enumerate(questions)],
                       embedder.embed, max_ngram_jaccard=limits.max_ngram_jaccard,
                       max_cosine=max_cosine if max_cosine is not None else limits.max_cosine)
    leaked = {norm(leak.train) for leak in leaks}
    kept = [p for p in pairs if norm(p["question"]) not in leaked]
    summary.contaminated = len(pairs) - len(kept)
    return kept


def _question_entry(d: dict) -> dict:
    entry = {"question": d["question"], "answer": d["answer"], "evidence": [d["evidence"]], "source": d["source"],
             "section": d["section"], "status": "draft"}
    return {**entry, "uncertain": True} if d["uncertain"] else entry


def _pair_entry(d: dict) -> dict:
    # drafted from one sentence of the corpus, its phrasings state one fact (harness.training.facts)
    entry = {"question": d["question"], "answer": d["answer"], "source": d["source"], "fact": d["source"],
             "status": "draft"}
    return {**entry, "uncertain": True} if d["uncertain"] else entry


def numbered(entries: Sequence[dict], taken: Sequence[str]) -> list[dict]:
    """Draft questions with ids d001, d002, ... that no question in ``taken`` has."""
    used, n, out = set(taken), 0, []
    for entry in entries:
        n += 1
        while f"d{n:03d}" in used:
            n += 1
        out.append({"id": f"d{n:03d}", **entry})
    return out


# Reviewing drafts (harness review --drafts): each pending draft is accepted (as written, or with its
# gold edited), rejected or skipped; an accepted one is appended to the suite's file at once, and the
# draft file records what became of each entry, so that a review can stop and resume.
PENDING = "draft"


def load_drafts(path: Path) -> list[dict]:
    """A draft file's entries (all of them: the reviewed keep their status)."""
    raw = load_yaml(path)
    if not isinstance(raw, list) or not all(isinstance(e, dict) and e.get("status") for e in raw):
        raise HarnessError("expected a list of drafts, each with a status (as `harness draft` writes them)", path=path)
    return [dict(e) for e in raw]


def accepted(entry: dict, gold: str | None, taken: set[str]) -> dict:
    """The entry for questions.yaml (a draft with an id) or train.yaml (one without), validated, with
    ``drafted`` saying whether its gold was edited; a question id already in ``taken`` is renumbered."""
    fields = {k: v for k, v in entry.items() if k in ("id", "question", "answer", "evidence", "source", "fact")}
    fields |= {"answer": gold or entry["answer"], "drafted": "edited" if gold else "unchanged"}
    if "id" not in fields:
        return TrainPair(**fields).model_dump(exclude_none=True)
    if fields["id"] in taken:
        fields["id"] = numbered([{}], sorted(taken))[0]["id"]
    return Question(**fields).model_dump(exclude_defaults=True)


def append_entry(path: Path, entry: dict) -> None:
    """One entry appended to a YAML list file, keeping the file's text (comments too) as it was."""
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    if before and not before.endswith("\n"):
        before += "\n"
    write_atomic(path, before + yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=120))
