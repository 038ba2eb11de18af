"""``harness judge`` audits a judge on your labels; ``harness report`` re-renders reports from results.json;
``harness compare`` compares two runs; ``harness review`` records human verdicts; ``harness sweep``
compares retrieval settings on a suite without generating; ``harness changes`` drafts edits of the documents."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from harness.core.cache import DEFAULT_DIR
from harness.core.errors import HarnessError, Unavailable


def _judge(args: argparse.Namespace) -> int:
    from harness.judges.calibration import grade_candidates, load_candidates
    from harness.run import SharedModels, make_run_judge
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    candidates = load_candidates(Path(args.candidates), suite.questions, require_labels=False)
    judge = make_run_judge(SharedModels(suite, cache_dir=args.cache_dir), args.judge)
    verdicts, agreement = grade_candidates(judge, suite.questions, candidates)
    labelled = agreement.n > 0
    if args.json:
        print(json.dumps({
            "judge": judge.identity,
            "verdicts": [{"q": c.q, "candidate": c.candidate, "label": c.label, "correct": v.correct,
                          "explanation": v.explanation, "raw": v.raw} for c, v in zip(candidates, verdicts)],
            "agreement": agreement.summary() if labelled else None}, indent=2, ensure_ascii=False))
        return 0
    word = {True: "correct", False: "incorrect", None: "unscored"}
    for c, v in zip(candidates, verdicts):
        flag = "" if c.label is None or c.label == v.correct else "   <- human says " + word[c.label]
        print(f"{c.q:<6} {word[v.correct]:<10} {c.candidate!r} ({v.explanation}){flag}")
    if labelled:
        s = agreement.summary()
        print(f"\njudge {judge.identity}: agreement {s['agree']}/{s['n']} ({agreement.agreement:.1%}), "
              f"Cohen's kappa {s['kappa']}, unscored {s['unscored']}")
        print(f"confusion (judge vs human): correct/correct {s['tp']}, correct/incorrect {s['fp']}, "
              f"incorrect/correct {s['fn']}, incorrect/incorrect {s['tn']}")
    return 0


def _report(args: argparse.Namespace) -> int:
    """The reports of a run from its results.json alone (an older file is migrated on read)."""
    from harness.render.publish import publish
    from harness.results.migrate import read_results_file

    path = Path(args.results_json)
    report = read_results_file(path)
    scorecard = Path(args.scorecard) if args.scorecard else path.with_name("scorecard.md")
    passed = publish(report, scorecard)
    migrated = f"; migrated from schema version {report.migrated_from}" if report.migrated_from else ""
    print(f"scorecard: {scorecard}  charts: {scorecard.with_name('accuracy.png')}, {scorecard.with_name('cost.png')}  "
          f"html: {scorecard.with_name('report.html')}  ({len(report.analysis.systems)} systems, "
          f"gate {'passes' if passed else 'fails'}{migrated})\nverdict: {report.analysis.verdict.headline}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    """NEW against OLD from the two files alone; exit 1 on a regression with --fail-on-regression."""
    from harness.core.cache import write_atomic
    from harness.render.comparison import render_comparison
    from harness.render.publish import publish
    from harness.results.compare import with_comparison
    from harness.results.migrate import read_results_file

    old, new = read_results_file(Path(args.old)), read_results_file(Path(args.new))
    report = with_comparison(new, old, args.old, args.new)
    comparison = report.analysis.comparison
    text = "\n".join([f"# {comparison.suite}: {args.new} against {args.old}", "", *render_comparison(comparison), ""])
    print(text)
    if args.out:
        out = Path(args.out)
        write_atomic(out / "compare.md", text)
        publish(report, out / "scorecard.md")
        print(f"written: {out / 'compare.md'}, {out / 'scorecard.md'}, {out / 'report.html'}")
    regressions = comparison.regressions
    if regressions:
        print(f"{len(regressions)} regression(s): " + "; ".join(f"{s.system}: {s.regression}" for s in regressions))
    return 1 if regressions and args.fail_on_regression else 0


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


def _review(args: argparse.Namespace) -> int:
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
        accept_rest = word == "all"
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


def _change_material(suite):
    """What drafted edits are checked against: the suite as it reads before any change set."""
    from harness.training.changes_draft import Material

    return Material(suite.documents, suite.questions, suite.evidence, suite.train_pairs)


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
    target, material = suite.root / FOLDER / f"{args.name}.yaml", _change_material(suite)
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


def _changes(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.changes_draft import write_draft

    suite = load_suite(args.suite)
    path, summary = write_draft(suite.root, _change_material(suite), args.count, args.seed)
    print(summary.line())
    if not summary.drafted:
        raise HarnessError("no edit drafted; nothing written (see the line above)")
    print(f"written to {path}; review it with `harness review --changes --suite {suite.root}`: accepted edits go "
          f"to changes/drafted.yaml (--name)")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from harness.render.publish import publish
    from harness.results.merge import merge_parts
    from harness.results.migrate import read_results_file

    parts = [(Path(p), read_results_file(Path(p))) for p in args.parts]
    report = merge_parts(parts)
    out = Path(args.out)
    passed = publish(report, out / "scorecard.md", out / "results.json")
    print(f"merged {len(parts)} parts, {len(report.results)} answers: {out / 'results.json'}, {out / 'scorecard.md'}, "
          f"{out / 'report.html'}; gate {'passes' if passed else 'fails'}\nverdict: {report.analysis.verdict.headline}")
    return 0 if passed else 1


def _train(args: argparse.Namespace) -> int:
    """Build the systems once, into the cache: LoRA adapters trained, the corpus embedded. Shards of
    a run (--shard) then share that cache, and never train."""
    from harness.core.errors import Unavailable
    from harness.run import EvalRun
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    names = args.system or list(suite.default_systems)
    run = EvalRun(suite, [suite.system(n) for n in names], cache_dir=args.cache_dir)
    # with a change set, the adapters brought up to date after the change too (the change study's refreshed)
    conditions = (None, "refreshed") if suite.change else (None,)
    for name, condition in ((n, c) for n in names for c in conditions):
        try:
            built = run.system(name, condition)
        except Unavailable as why:
            print(f"{name}: skipped: {why}")
            continue
        for seed, adapter, _ in getattr(built, "adapters", ()):  # one per seed; systems that do not train have none
            log = adapter.log
            print(f"{name}{', ' + condition if condition else ''} (seed {seed}): adapter {adapter.path}\n  {log['examples']} pairs, "
                  f"{log['settings']['epochs']:g} epochs, {log['seconds']} s ({log['examples_per_second']} examples/s); "
                  f"last train loss {log['train'][-1][1] if log['train'] else '-'}, "
                  f"last eval loss {log['eval'][-1][1] if log['eval'] else '-'}")
    return 0


def _writer(args: argparse.Namespace, suite, max_new_tokens: int, stop=()):
    """The generator (any backend, through the registry) and its cached free-text replies."""
    from harness.run import SharedModels
    from harness.training.writing import Writer

    if args.max_concurrency:
        suite = suite.with_generation(max_concurrency=args.max_concurrency)
    models = SharedModels(suite, args.generator, args.cache_dir)
    models.generator.check_available()
    return models, Writer(models.generator, models.cache, max_new_tokens, stop)


def _synth(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.synth import synthesize
    from harness.training.writing import save_entries

    suite = load_suite(args.suite, questions_required=False)
    models, writer = _writer(args, suite, 256)
    pairs, summary = synthesize(suite, writer, models.embedder(args.embedder), args.pairs_per_chunk)
    line = summary.line(models.generator.identity)
    print(line)
    out = save_entries(Path(args.out) if args.out else suite.root / suite.config.training.file,
                       [p.model_dump() for p in pairs], line, args.append)
    print(f"written to {out}")
    return 0


def _draft(args: argparse.Namespace) -> int:
    from harness.suite import load_suite
    from harness.training.draft import QUESTIONS_DRAFT, STOPS, TRAIN_DRAFT, draft, numbered
    from harness.training.writing import destination, existing_entries, save_entries

    suite = load_suite(args.suite, questions_required=False)
    models, writer = _writer(args, suite, 48, STOPS)
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


def _sweep(args: argparse.Namespace) -> int:
    from harness import sweep
    from harness.core.progress import progress
    from harness.run import SharedModels
    from harness.suite import load_suite

    suite = load_suite(args.suite)
    grid_path = Path(args.grid) if args.grid else None
    grid, lines = sweep.load_grid(grid_path)
    configs = sweep.grid_configs(grid, grid_path, lines) + sweep.suite_configs(suite, args.systems)
    models = SharedModels(suite, cache_dir=args.cache_dir)
    count, counted_with = sweep.generator_token_counter(models)
    with progress("sweeping retrieval", total=len(configs), unit="configurations") as bar:
        rows = sweep.evaluate(configs, models, count, on_done=lambda: bar.update(1))
    print(f"suite {suite.name}: {rows[0].n} questions with evidence, {len(configs)} configurations; "
          f"context tokens counted with {counted_with}\n")
    print(sweep.table(rows))
    print("\nbest per context budget (tokens per query):")
    for budget in sorted({*sweep.BUDGETS, args.budget}):
        row = sweep.best(rows, budget)
        print(f"  {budget:>5}: " + (f"{row.config.label} k={row.k}  recall@k {row.recall:.3f}  mrr {row.mrr:.3f}  "
                                    f"{row.context_tokens:.0f} tokens" if row else "nothing fits"))
    chosen = sweep.best(rows, args.budget)
    out = Path(args.out)
    sweep.chart(rows, out / "sweep.png", f"{suite.name}: retrieval recall by chunk size")
    print(f"\nchart: {out / 'sweep.png'}")
    if chosen:
        print(f"best within {args.budget} context tokens, ready to paste under `systems:`:\n"
              + sweep.paste_entry(chosen))
    if args.json:
        data = {"suite": suite.name, "budget": args.budget, "configs": [r.json() for r in rows],
                "best": chosen.json() if chosen else None}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _words(text: str) -> list[tuple[int, int]]:
    """Word spans: calibration chunks need no exact tokens."""
    return [m.span() for m in re.finditer(r"\S+", text)]


def _quantize(args: argparse.Namespace) -> int:
    from harness.models.hf import HFGenerator
    from harness.models.quantize import quantize
    from harness.retrieval.chunking import chunk_corpus
    from harness.run import SharedModels
    from harness.suite import load_suite

    suite = load_suite(args.suite, questions_required=False)
    generator = SharedModels(suite, args.generator, args.cache_dir).generator
    if not isinstance(generator, HFGenerator):
        raise HarnessError(f"harness quantize takes a transformers checkpoint; generator {generator.identity} is not one")
    generator.check_available()
    chunks = chunk_corpus(suite.documents, _words, args.chunk_words, 0, "sections")
    docs = {d.source: d.text for d in suite.documents}
    texts = [docs[c.source][c.start:c.end] for c in chunks][:args.calibration]
    out = Path(args.out)
    record = quantize(generator.weights_path(), generator.weights_identity, texts, out, args.bits, args.group_size)
    print(f"{generator.weights_identity} quantized to {args.bits}-bit GPTQ (group size {args.group_size}) on "
          f"{len(texts)} chunks of {suite.root / 'corpus'} in {record['seconds']} s: {out}\n"
          f"to run a suite on it: `generator: {out}` in suite.yaml, or `pytest evals --generator {out}`; "
          f"`harness compare` then sets its answers against the unquantized run's")
    return 0


def _writing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--append", action="store_true", help="merge into an existing file instead of writing beside it")
    parser.add_argument("--max-concurrency", type=int, default=None,
                        help="requests in flight to a server generator (default: generation.max_concurrency)")
    parser.add_argument("--cache-dir", default=DEFAULT_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    judge = sub.add_parser("judge", help="grade a YAML list of {q, candidate, label} and compare with the labels")
    judge.add_argument("--suite", required=True)
    judge.add_argument("--candidates", required=True)
    judge.add_argument("--judge", default=None, help="default: the suite's judge")
    judge.add_argument("--json", action="store_true")
    judge.add_argument("--cache-dir", default=DEFAULT_DIR)
    judge.set_defaults(func=_judge)
    report = sub.add_parser("report", help="re-render scorecard.md, the charts and report.html from results.json alone")
    report.add_argument("--results-json", default="reports/results.json")
    report.add_argument("--scorecard", default=None, help="default: scorecard.md beside results.json")
    report.set_defaults(func=_report)
    compare = sub.add_parser("compare", help="compare two runs' results.json: flipped answers, McNemar, changes")
    compare.add_argument("old", metavar="OLD.json")
    compare.add_argument("new", metavar="NEW.json")
    compare.add_argument("--fail-on-regression", action="store_true",
                         help="exit 1 when a system got significantly worse or fails its threshold in NEW")
    compare.add_argument("--out", default=None, help="folder for compare.md, and NEW's reports with the comparison")
    compare.set_defaults(func=_compare)
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
    review.set_defaults(func=_review)
    merge = sub.add_parser("merge", help="join the results.json of a sharded run (--shard I/N) and apply the gate")
    merge.add_argument("parts", nargs="+", metavar="PART.json")
    merge.add_argument("--out", required=True, help="folder for results.json, scorecard.md and report.html")
    merge.set_defaults(func=_merge)
    train = sub.add_parser("train", help="train (or find cached) the LoRA adapters of a suite's systems")
    train.add_argument("--suite", required=True)
    train.add_argument("--system", action="append", default=None,
                       help="a system to build (repeatable); default: every system of the suite")
    train.add_argument("--cache-dir", default=DEFAULT_DIR)
    train.set_defaults(func=_train)
    synth = sub.add_parser("synth", help="synthesize training pairs from the corpus with a generator")
    synth.add_argument("--suite", required=True)
    synth.add_argument("--generator", default=None, help="default: the suite's generator")
    synth.add_argument("--embedder", default="minilm", help="for chunking, near-duplicates and decontamination")
    synth.add_argument("--pairs-per-chunk", type=int, default=3)
    synth.add_argument("--out", default=None, help="default: the suite's training file (an existing one is never "
                                                   "overwritten: the pairs go beside it, or --append)")
    _writing_arguments(synth)
    synth.set_defaults(func=_synth)
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
    _writing_arguments(draft)
    draft.set_defaults(func=_draft)
    changes = sub.add_parser("changes", help="draft counterfactual edits of the documents from the questions, "
                                             "without a model, for review (changes.draft.yaml)")
    changes.add_argument("--suite", required=True)
    changes.add_argument("--count", type=int, default=10, help="edits to draft at most (%(default)s)")
    changes.add_argument("--seed", type=int, default=0, help="the same seed drafts the same file")
    changes.set_defaults(func=_changes)
    quant = sub.add_parser("quantize", help="write a 4-bit GPTQ checkpoint of the suite's generator, calibrated on "
                                            "its corpus (needs the gptq extra)")
    quant.add_argument("--suite", required=True)
    quant.add_argument("--generator", default=None, help="default: the suite's generator")
    quant.add_argument("--out", required=True, help="folder for the checkpoint (never overwritten)")
    quant.add_argument("--bits", type=int, choices=(2, 3, 4, 8), default=4)
    quant.add_argument("--group-size", type=int, default=128, help="columns sharing one scale (%(default)s; -1: per row)")
    quant.add_argument("--calibration", type=int, default=128, help="corpus chunks to calibrate on (%(default)s)")
    quant.add_argument("--chunk-words", type=int, default=256, help="words per calibration chunk (%(default)s)")
    quant.add_argument("--cache-dir", default=DEFAULT_DIR)
    quant.set_defaults(func=_quantize)
    sweep = sub.add_parser("sweep", help="compare retrieval settings on a suite (no generation)")
    sweep.add_argument("--suite", required=True)
    sweep.add_argument("--grid", default=None, help="grid YAML (default: the built-in grid)")
    sweep.add_argument("--systems", default=None, help="suite systems to show beside the grid, comma-separated")
    sweep.add_argument("--budget", type=int, default=300, help="context tokens per query for 'best' (%(default)s)")
    sweep.add_argument("--out", default="reports", help="folder for sweep.png (default: %(default)s)")
    sweep.add_argument("--json", default=None, metavar="PATH", help="write every configuration's figures here")
    sweep.add_argument("--cache-dir", default=DEFAULT_DIR)
    sweep.set_defaults(func=_sweep)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (HarnessError, Unavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
