"""A RunReport for a real suite with made-up answers whose truth is known.

Each answer is truly right with the system's accuracy; the judge then errs as the issue measured
on the default run: false negatives on right paraphrases, a few false positives. Used by the
PPI coverage test, the report tests and benchmarks/html_report.py (a default-suite-sized page).
"""
from __future__ import annotations

import random

from harness.results.analysis import build_report
from harness.results.model import JudgeOpinion, Row, RunMeta, RunReport
from harness.suite import Suite

ACCURACY = {"baseline": 0.05, "rag-minilm": 0.25, "rag-llama": 0.12, "lora": 0.22, "lora-rag": 0.5}


def synthetic_rows(suite: Suite, systems: list[str], seed: int, *, false_negative: float = 0.14,
                   false_positive: float = 0.02, uncertain: float = 0.1,
                   retrieval: bool = True) -> tuple[list[Row], dict]:
    """Result rows as the judge graded them, and the truth per (system, id)."""
    rng = random.Random(seed)
    texts = {d.source: d.text for d in suite.documents}
    rows, truth = [], {}
    for name in systems:
        retrieves = retrieval and suite.system(name).retrieves
        for q in suite.questions:
            right = rng.random() < ACCURACY.get(name, 0.3)
            judge = rng.random() >= false_negative if right else rng.random() < false_positive
            answer = (q.answer if rng.random() < 0.5 else f"It is {q.answer.lower()}, as the rules say.") if right \
                else rng.choice(["Not stated.", "Ten metres.", "The referee decides.", "A penalty."])
            retrieved, rank = [], None
            if retrieves:
                for position in range(suite.config.top_k):
                    source, text = rng.choice(list(texts.items()))
                    start = rng.randrange(max(1, len(text) - 500))
                    retrieved.append({"source": source, "text": text[start:start + 500], "score": 0.9 - position / 10})
                if q.evidence and rng.random() < 0.8:
                    rank = rng.randrange(suite.config.top_k) + 1
                    hit = retrieved[rank - 1]
                    hit["text"] = hit["text"][:200] + " " + q.evidence[0] + " " + hit["text"][200:]
            rows.append(Row(system=name, id=q.id, answer=answer, correct=judge, evidence_rank=rank, retrieved=retrieved,
                            explanation="matches" if judge else "no accepted form found", seconds=0.5,
                            verdict_source="judge", certain=rng.random() >= uncertain, judge=None))
            truth[name, q.id] = right
    return rows, truth


def apply_truth(rows: list[Row], truth: dict, keys) -> list[Row]:
    """The rows with a human verdict (the truth) on ``keys``, the judge's verdict kept beside it."""
    keys = set(keys)
    return [r.model_copy(update={"judge": JudgeOpinion(correct=r.correct, explanation=r.explanation),
                                 "correct": truth[r.system, r.id], "explanation": "human review",
                                 "verdict_source": "human"})
            if (r.system, r.id) in keys else r for r in rows]


def run_report(suite: Suite, rows: list[Row]) -> RunReport:
    """The RunReport the harness builds around ``rows``."""
    meta = RunMeta(suite_dir=str(suite.root.resolve()), generator="synthetic", judge="match/3", judge_model=None,
                   self_grading=False, gate_enabled=False, skipped={}, failed={}, calibration=None, training={})
    return build_report(suite, rows, meta)


def ppi_coverage(suite: Suite, systems: list[str], repeats: int, sample: int,
                 pool_variance: bool = True) -> tuple[float, float, int]:
    """Over ``repeats`` synthetic runs, each reviewed on a stratified sample of ``sample`` answers:
    the share of (run, system) intervals that cover the accuracy a full human review gives, their
    mean width, and how many intervals there were."""
    from harness.judges.reviews import stratified_sample
    from harness.results.ppi import corrected_accuracy

    covered = total = 0
    width = 0.0
    for seed in range(repeats):
        rows, truth = synthetic_rows(suite, systems, seed, retrieval=False)
        keys = [(r.system, r.id) for r in stratified_sample(rows, sample, seed)]
        for name, c in corrected_accuracy(apply_truth(rows, truth, keys), pool_variance).items():
            if c.low is None:  # too few reviews for an interval: counted as a miss
                total += 1
                continue
            true = sum(truth[name, q.id] for q in suite.questions) / len(suite.questions)
            covered += c.low <= true <= c.high
            width += c.high - c.low
            total += 1
    return covered / total, width / total, total
