"""A RunReport for a real suite with made-up answers whose truth is known.

Each answer is truly right with the system's accuracy; the judge then errs as the issue measured
on the default run: false negatives on right paraphrases, a few false positives. Reviews take
the path of a real run: reviews.yaml written as `harness review` writes it, loaded, and matched to
the rows as a rerun grades them. Used by the PPI coverage test, the report tests and
benchmarks/html_report.py (a default-suite-sized page, and one for a made-up suite of thousands of
questions).
"""
from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Callable

from harness.judges import Verdict
from harness.judges.reviews import (
    REVIEWS_FILE,
    Reviews,
    carry_over,
    load_reviews,
    normalise,
    population_digests,
    record_review,
    review_queue,
)
from harness.results.model import Row, RunReport
from harness.results.spec import spec_of
from harness.results.ppi import corrected_accuracy
from harness.results.records import assemble, verdict_fields
from harness.suite import Suite, load_suite

SYSTEMS = ["baseline", "rag-minilm", "rag-llama", "lora", "lora-rag"]  # the default suite's
ACCURACY = {"baseline": 0.05, "rag-minilm": 0.25, "rag-llama": 0.12, "lora": 0.22, "lora-rag": 0.5}
RULES_PER_DOCUMENT = 100
TEN_SYSTEMS = ["baseline", "rag-minilm", "rag-marco", "rag-llama", "rag-bm25", "rag-hybrid", "rag-hybrid3",
               "rag-openai", {"name": "lora", "kind": "lora"}, {"name": "lora-rag", "kind": "lora-rag"}]


def made_up_suite(root: Path, questions: int) -> Suite:
    """A suite of ``questions`` questions written into ``root``, each answered by one rule of a
    made-up rulebook: suites of any size, for reports of any size."""
    rng = random.Random(questions)
    rules, entries = [], []
    for i in range(1, questions + 1):
        who, n = rng.choice(["defenders", "attackers", "the referee", "the keeper"]), rng.randrange(2, 40)
        thing = rng.choice(["ball", "hoop", "bell", "flag", "hat"])
        rules.append(f"Rule {i}: when the {thing} crosses the {rng.choice(['line', 'mark', 'zone'])}, "
                     f"{who} must retreat {n} metres.")
        entries.append({"id": f"r{i:05d}", "question": f"Under rule {i}, how far must {who} retreat?",
                        "answer": f"{n} metres", "accept": [str(n)], "evidence": [rules[-1]],
                        "tags": [f"part-{i % 12}"]})
    (root / "corpus").mkdir(parents=True)
    for start in range(0, questions, RULES_PER_DOCUMENT):
        part = "\n".join(rules[start:start + RULES_PER_DOCUMENT])
        (root / "corpus" / f"rules-{start // RULES_PER_DOCUMENT:03d}.md").write_text(f"# Rules\n\n{part}\n")
    (root / "suite.yaml").write_text(json.dumps({"name": f"made-up-{questions}", "systems": TEN_SYSTEMS}))
    (root / "questions.yaml").write_text(json.dumps(entries, indent=0))  # JSON is YAML, and quick to write
    return load_suite(root)


def synthetic_rows(suite: Suite, systems: list[str], seed: int, *, false_negative: float = 0.14,
                   false_positive: float = 0.02, uncertain: float = 0.1,
                   retrieval: bool = True) -> tuple[list[Row], dict]:
    """Result rows as the judge graded them, and the truth per (system, id)."""
    rng = random.Random(seed)
    texts = {d.source: d.text for d in suite.documents}
    windows = [(d.source, d.text[i:i + 500]) for d in suite.documents for i in range(0, len(d.text), 500)]
    rows, truth = [], {}
    for name in systems:
        retrieves = retrieval and suite.system(name).retrieves
        for q in suite.questions:
            right = rng.random() < ACCURACY.get(name, 0.3)
            judge = rng.random() >= false_negative if right else rng.random() < false_positive
            answer = (q.answer if rng.random() < 0.5 else f"It is {q.answer.lower()}, as the rules say.") if right \
                else rng.choice(["Not stated.", "Ten metres.", "The referee decides.", "A penalty."])
            retrieved, rank = [], None
            if retrieves:  # corpus chunks, as a retriever returns them: many answers share one
                for position in range(suite.config.top_k):
                    source, text = rng.choice(windows)
                    retrieved.append({"source": source, "text": text, "score": 0.9 - position / 10})
                if q.evidence and rng.random() < 0.8:
                    rank = rng.randrange(suite.config.top_k) + 1
                    span = suite.evidence[q.id][0]
                    text = texts[span.source][max(0, span.start - 200):span.end + 300]
                    retrieved[rank - 1].update(source=span.source, text=text)
            rows.append(Row(system=name, id=q.id, answer=answer, correct=judge, evidence_rank=rank, retrieved=retrieved,
                            explanation="matches" if judge else "no accepted form found", seconds=0.5,
                            verdict_source="judge", certain=rng.random() >= uncertain, judge=None))
            truth[name, q.id] = right
    return rows, truth


def review_with_truth(path: Path, suite: Suite, rows: list[Row], truth: dict, sample: int | None, seed: int = 0,
                      limit: int | None = None) -> Reviews:
    """Review ``rows`` as `harness review` does (``sample``: `--sample N --seed S`; else hand picks, uncertain
    verdicts first), the reviewer giving the truth on the first ``limit`` answers asked; the reviews after."""
    queue = review_queue(rows, load_reviews(path, suite.questions), sample, seed)
    for pending in carry_over(path, queue)[:limit]:
        record_review(path, pending, truth[pending.row.system, pending.row.id])
    return load_reviews(path, suite.questions)


def regrade(rows: list[Row], reviews: Reviews) -> list[Row]:
    """The rows as a rerun grades them: a review overrules the judge on its answer, as in EvalRun.grade."""
    out = []
    for r in rows:
        verdict = reviews.overrule(r.system, r.id, r.answer, Verdict(r.correct, r.explanation or "", certain=r.certain))
        human = verdict.source == "human"
        out.append(Row.model_validate({**r.model_dump(), **verdict_fields(verdict)}) if human else r)
    return out


def run_report(suite: Suite, rows: list[Row], reviews: Reviews | None = None, **run) -> RunReport:
    """The RunReport the harness builds around ``rows`` (the plugin's path, harness.results.records.assemble),
    for the suite's systems that answered them; ``reviews``: those the rows were graded with (none by default)."""
    answered = {r.system for r in rows}
    spec = spec_of(suite, [s for s in suite.systems if s.name in answered], generator="synthetic", judge="match/5",
                   judge_model=None, self_grading=False)
    reviews = reviews if reviews is not None else Reviews(suite.root / REVIEWS_FILE, {}, {})
    return assemble(spec, rows, reviews, **{"gate_enabled": False, **run})


def sampled_reviews(rows: list[Row]) -> Reviews:
    """The reviews behind rows marked as random-sample reviews, as `harness review --sample` records them:
    each drawn from its system's answers as they are in ``rows``."""
    digests = population_digests(rows)
    drawn = {(r.system, r.id, normalise(r.answer)): frozenset({digests[r.system]}) for r in rows if r.sampled}
    return Reviews(Path(REVIEWS_FILE), {}, drawn)


def ppi_intervals(rows: list[Row]) -> dict[str, tuple[float, float]]:
    """The harness's judge-corrected interval per system with random-sample reviews."""
    return {name: (c.low, c.high) for name, c in corrected_accuracy(rows).items()}


def ppi_coverage(suite: Suite, systems: list[str], repeats: int, sample: int, *, errors: tuple[float, float] = (0.14, 0.02),
                 methods: dict[str, Callable[[list[Row]], dict[str, tuple[float, float]]]] | None = None,
                 ) -> dict[str, tuple[float, float, int, int]]:
    """Over ``repeats`` synthetic runs, the judge erring with ``errors`` (false negatives on right answers,
    false positives on wrong ones), each reviewed as `harness review --sample` does and regraded: per interval
    method (the harness's by default), the share of (run, system) intervals that cover the accuracy a full
    human review gives, their mean width, how many had zero width and how many there were."""
    methods = methods or {"harness": ppi_intervals}
    tally = {name: [0, 0.0, 0, 0] for name in methods}  # covered, total width, zero width, intervals
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(repeats):
            rows, truth = synthetic_rows(suite, systems, seed, false_negative=errors[0], false_positive=errors[1],
                                         retrieval=False)
            rows = regrade(rows, review_with_truth(Path(folder) / f"{seed}.yaml", suite, rows, truth, sample, seed))
            for method, counts in zip(methods.values(), tally.values()):
                for name, (low, high) in method(rows).items():
                    true = sum(truth[name, q.id] for q in suite.questions) / len(suite.questions)
                    counts[0] += low <= true <= high
                    counts[1] += high - low
                    counts[2] += high == low
                    counts[3] += 1
    return {name: (covered / n, width / n, zero, n) for name, (covered, width, zero, n) in tally.items()}
