"""``harness draft``: evaluation questions and training pairs drafted from corpus/ alone, for review."""
from __future__ import annotations

import argparse

from harness.cli.common import make_writer, writing_arguments
from harness.core.errors import HarnessError


def run(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.draft import QUESTIONS_DRAFT, STOPS, TRAIN_DRAFT, draft, numbered
    from harness.training.writing import destination, existing_entries, save_entries

    suite = load_suite(args.suite, questions_required=False)
    models, writer = make_writer(args, suite, 48, STOPS)
    questions_path, train_path = suite.root / QUESTIONS_DRAFT, suite.root / TRAIN_DRAFT
    earlier = existing_entries(questions_path) if args.append else []
    known = [q.question for q in suite.questions] + [str(e.get("question", "")) for e in earlier]
    drafted, pairs, summary = draft(suite, writer, models.embedder(args.embedder), questions=args.questions,
                                    pairs_per_chunk=args.pairs_per_chunk, phrasings=args.phrasings,
                                    spread=args.spread, existing=known)
    line = summary.line(models.generator.identity)
    print(line)
    if not drafted and not pairs:
        raise HarnessError("no draft survived the checks; nothing written (see the line above)")
    taken = [q.id for q in suite.questions] + [str(e.get("id")) for e in earlier]
    for entries, path, what in ((numbered(drafted, taken), questions_path, "questions"), (pairs, train_path, "pairs")):
        if entries:
            print(f"{len(entries)} {what} written to {save_entries(path, entries, line, args.append)}")
        else:
            print(f"no {what} drafted: {destination(path, args.append).name} not written")
    print(f"review them with `harness review --drafts --suite {suite.root}`: accepted entries go to "
          f"questions.yaml and {suite.config.training.file}")
    return 0


def register(sub) -> None:
    draft = sub.add_parser("draft", help="draft evaluation questions and training pairs from corpus/ alone, "
                                         "for review (questions.draft.yaml, train.draft.yaml)")
    draft.add_argument("--suite", required=True)
    draft.add_argument("--generator", default=None, help="default: the suite's generator")
    draft.add_argument("--embedder", default="minilm", help="for chunking, near-duplicates and decontamination")
    draft.add_argument("--questions", type=int, default=40, help="evaluation questions to draft (%(default)s)")
    draft.add_argument("--pairs-per-chunk", type=int, default=2, help="facts per section chunk for training pairs")
    draft.add_argument("--phrasings", type=int, default=3, help="wordings of each training fact (%(default)s)")
    draft.add_argument("--spread", choices=("proportional", "even"), default="proportional",
                       help="questions in proportion to the documents' length, or evenly over documents")
    writing_arguments(draft)
    draft.set_defaults(func=run)
