"""``harness review``: human verdicts on a run's answers; with --drafts, on what `harness draft` wrote;
with --changes, on the edits `harness changes` drafted (the last two share one accept / edit / reject loop)."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import change_material
from harness.core.errors import HarnessError


def _ask(row, question, position: str) -> str:
    """Show one answer with what a reviewer needs to judge it; the reply, or "quit" at end of input."""
    said = {True: "right", False: "wrong", None: "unscored"}[row.correct]
    rank = row.evidence_rank
    found = ("" if not row.retrieved else
             f" (retrieved at rank {rank})" if rank else " (not in the retrieved chunks)")
    accept = f" (also: {'; '.join(question.accept)})" if question.accept else ""
    print(f"\n[{position}] {row.system} · {question.id}: {question.question}\n  gold:     {question.answer}{accept}"
          f"\n  answer:   {row.answer}\n  verdict:  {said} by the {row.verdict_source or 'judge'}: "
          f"{row.explanation or ''}")
    for span in question.evidence:
        print(f"  evidence: {span}{found}")
    try:
        return input("right? y / n / skip / quit (a note may follow y or n): ").strip()
    except EOFError:
        return "quit"


def run(args: argparse.Namespace) -> int:
    if args.drafts:
        return _review_drafts(args)
    if args.changes:
        return _review_changes(args)
    from harness.judges.reviews import REVIEWS_FILE, carry_over, load_reviews, record_review, review_queue
    from harness.results.migrate import read_results_file
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    path = Path(args.results_json)
    stored = read_results_file(path)
    if stored.suite != suite.name:
        raise HarnessError(f"these results are for suite {stored.suite!r}, not {suite.name!r}", path=path)
    questions = {q.id: q for q in suite.questions}
    if unknown := sorted({r.id for r in stored.results} - set(questions)):
        raise HarnessError(f"question {unknown[0]!r} is not in the suite {suite.root}", path=path)
    target = suite.root / REVIEWS_FILE
    queue = review_queue(stored.results, load_reviews(target, suite.questions), args.sample, args.seed)
    asks = carry_over(target, queue)
    if len(asks) < len(queue):
        print(f"{len(queue) - len(asks)} drawn answer(s) already reviewed: their verdicts recorded for this sample")
    kept = 0
    for i, pending in enumerate(asks, 1):
        reply = _ask(pending.row, questions[pending.row.id], f"{i}/{len(asks)}")
        word, _, note = reply.partition(" ")
        word = word.lower()
        if word in ("q", "quit"):
            break
        if word in ("y", "yes", "n", "no"):
            record_review(target, pending, word.startswith("y"), note.strip())
            kept += 1
    print(f"\n{kept} verdict(s) appended to {target}; rerun the eval (answers come from the cache) to apply them")
    return 0


def _review_drafts(args: argparse.Namespace) -> int:
    """Accept, edit the gold of, or reject each pending draft; accepted ones go to questions.yaml and
    the training file at once, and the draft file keeps each one's status, so a review resumes."""
    from harness.suite import load_suite
    from harness.training.draft import QUESTIONS_DRAFT, TRAIN_DRAFT

    suite = load_suite(args.suite, questions_required=False)
    taken = {q.id for q in suite.questions}
    counts = {"accepted": 0, "edited": 0, "rejected": 0}
    for draft_name, target_name in ((QUESTIONS_DRAFT, "questions.yaml"), (TRAIN_DRAFT, suite.config.training.file)):
        path = suite.root / draft_name
        if path.is_file() and not _review_file(path, suite.root / target_name, taken, counts):
            break
    print(f"\n{counts['accepted']} accepted as drafted, {counts['edited']} accepted with the gold edited, "
          f"{counts['rejected']} rejected; accepted entries appended to questions.yaml and "
          f"{suite.config.training.file} (marked drafted: unchanged or edited)")
    return 0


def _review_file(path: Path, target: Path, taken: set[str], counts: dict) -> bool:
    """One draft file reviewed; False when the reviewer quit."""
    import yaml

    from harness.core.cache import write_atomic
    from harness.training.draft import accepted, append_entry, load_drafts

    entries = load_drafts(path)

    def keep(entry: dict, gold: str | None) -> bool:
        kept = accepted(entry, gold, taken)
        append_entry(target, kept)
        taken.add(kept.get("id", ""))
        return True

    def save() -> None:
        write_atomic(path, yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=120))

    return _review_entries(entries, path.name, keep, save, counts)


def _review_entries(entries: list[dict], name: str, keep, save, counts: dict, ask=None) -> bool:
    """The y / e / n loop over the pending entries of one draft file: ``keep(entry, edited)`` writes an
    accepted one to its target (False: it did not fit, and stays pending), ``save()`` records each status so
    that a review resumes. False when the reviewer quit."""
    from harness.training.draft import PENDING

    ask = ask or _ask_draft
    pending = [e for e in entries if e["status"] == PENDING]
    accept_rest = False
    for i, entry in enumerate(pending, 1):
        word, _, gold = ("y" if accept_rest else ask(entry, f"{name} {i}/{len(pending)}")).partition(" ")
        word, gold = word.lower(), gold.strip()
        if word in ("q", "quit"):
            return False
        accept_rest = accept_rest or word == "all"
        if word in ("y", "yes", "all") or (word == "e" and gold):
            if not keep(entry, gold if word == "e" else None):
                continue
            entry["status"] = "edited" if word == "e" else "accepted"
        elif word in ("n", "no"):
            entry["status"] = "rejected"
        else:  # skip: still pending
            continue
        counts[entry["status"]] += 1
        save()
    return True


def _ask_draft(entry: dict, position: str, lines: list[str] | None = None, edit: str = "NEW GOLD") -> str:
    """Show one draft with what a reviewer needs to judge it (``lines``, or a drafted question's); the
    reply, or "quit" at end of input."""
    if lines is None:
        flag = "  (the answer's words are not all in the evidence: check it)" if entry.get("uncertain") else ""
        lines = [f"{entry.get('id', 'pair')}: {entry['question']}", f"  gold:     {entry['answer']}{flag}"]
        lines += [f"  evidence: {span}" for span in entry.get("evidence", [])]
        lines.append(f"  source:   {entry.get('source', '')}" + (f" ({entry['section']})" if entry.get("section") else ""))
    print(f"\n[{position}] " + "\n".join(lines))
    try:
        return input(f"accept? y / e {edit} / n / skip / all (accept the rest of this file) / quit: ").strip()
    except EOFError:
        return "quit"



def _review_changes(args: argparse.Namespace) -> int:
    """Accept (with the drafted or another new value) or reject each drafted edit; accepted ones go to
    changes/<name>.yaml at once, checked with those already there, so a run reads only reviewed edits."""
    from harness.inputs.changes import DRAFT, FOLDER
    from harness.suite import load_suite
    from harness.training import changes_draft

    suite = load_suite(args.suite)
    path = suite.root / DRAFT
    if not path.is_file():
        raise HarnessError(f"no drafted changes: draft them with `harness changes --suite {suite.root}`", path=path)
    top, entries = changes_draft.load_draft(path)
    target, material = suite.root / FOLDER / f"{args.name}.yaml", change_material(suite)
    counts = {"accepted": 0, "edited": 0, "rejected": 0}

    def keep(entry: dict, value: str | None) -> bool:
        try:
            changes_draft.accept(target, entry, value, material)
        except HarnessError as err:
            print(f"  not accepted, still pending: {err}")
            return False
        return True

    _review_entries(entries, path.name, keep, lambda: changes_draft.save_draft(path, top, entries), counts,
                    lambda e, pos: _ask_draft(e, pos, changes_draft.describe(e), "NEW VALUE"))
    print(f"\n{counts['accepted']} accepted as drafted, {counts['edited']} accepted with another value, "
          f"{counts['rejected']} rejected; accepted edits written to {target}")
    return 0


def register(sub) -> None:
    review = sub.add_parser("review", help="mark answers right or wrong in the terminal; appends to reviews.yaml")
    review.add_argument("--suite", required=True)
    review.add_argument("--results-json", default="reports/results.json")
    review.add_argument("--sample", type=int, default=None,
                        help="a stratified random sample of N answers over every system, recorded as such: "
                             "only these reviews enter the corrected accuracy")
    review.add_argument("--seed", type=int, default=0)
    review.add_argument("--drafts", action="store_true",
                        help="review what `harness draft` wrote: accept, edit the gold or reject each draft; "
                             "accepted ones are appended to questions.yaml and train.yaml")
    review.add_argument("--changes", action="store_true",
                        help="review what `harness changes` drafted: accept, give another new value or reject "
                             "each edit; accepted ones go to changes/NAME.yaml")
    review.add_argument("--name", default="drafted", help="the change set --changes writes (%(default)s)")
    review.set_defaults(func=run)
