"""Build a RunReport from result rows: every metric, interval, test, gate row and the verdict, computed once.

It reads the run's spec (results.json's own copy of the suite), never the suite folder: a report is
rebuilt from a results file alone (``harness merge``), and renders the same wherever it is read.
"""
from __future__ import annotations

import statistics
from collections import Counter
from typing import Sequence

from harness.core.metrics import METRICS
from harness.results.empty import empty_answer_warnings
from harness.results.changes import change_study
from harness.results.gate import JudgeCheck, evaluate_gate
from harness.results.model import (
    Analysis,
    Attribution,
    Cost,
    EvalSpec,
    PriorGroup,
    RetrievalResult,
    Row,
    RunMeta,
    RunReport,
    SeedResult,
    SystemResult,
    TemplateDebris,
    first_seed,
)
from harness.results.ppi import corrected_accuracy, reviewed_agreement
from harness.results.stats import comparisons, mcnemar, wilson
from harness.results.verdict import answer_bias, bias_warnings, decide

RETRIEVAL_METRICS = [m for m in map(METRICS.get, METRICS.names()) if m.retrieval]

# What the packaged judges were measured to agree with human labels on answers they were not tuned on:
# quoted where a suite has no labels of its own (docs/judge.md).
MEASURED_ELSEWHERE = {
    "match": "96.7% (58 of 60, kappa 0.880) on real answers to another sport's rulebook, and 83.3% (40 of 48) on "
             "adversarial answers in other words: the check halves, which no rule was tuned on",
}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.mean(values), 6) if values else None


def _retrieval(spec: EvalSpec, name: str, mine: Sequence[Row]) -> RetrievalResult | None:
    info = spec.system(name)
    if info is None or not info.retrieves:
        return None
    evidence = {q.id for q in spec.questions if q.evidence}
    checked = [r for r in first_seed(list(mine)) if r.retrieved and r.id in evidence]  # same for every seed
    ranks = [r.evidence_rank for r in checked]
    hits = sum(rank is not None for rank in ranks)
    values = {m.name: _round(m.of_ranks(ranks)) if ranks else None for m in RETRIEVAL_METRICS}
    return RetrievalResult(k=info.settings["k"], n=len(checked), recall_ci=wilson(hits, len(ranks)), **values)


def _cost(name: str, mine: Sequence[Row], run: RunMeta) -> Cost:
    log, measured = run.training.get(name), run.costs.get(name)
    answered = [r for r in mine if r.answer is not None]
    return Cost(train_seconds=round(sum(t.seconds for t in log.runs()), 1) if log else None,
                index_seconds=measured.index_seconds if measured else None,
                seconds_per_answer=_mean([r.seconds for r in answered if r.seconds is not None]),
                prompt_tokens=_mean([r.prompt_tokens for r in answered if r.prompt_tokens is not None]),
                peak_rss_mb=measured.peak_rss_mb if measured else None)


def seed_accuracy(rows: Sequence[Row]) -> dict[str, dict[int, float]]:
    """Accuracy per seed, for each system whose rows carry seeds (scored answers only)."""
    out: dict[str, dict[int, list]] = {}
    for r in rows:
        if r.seed is not None and r.correct is not None:
            out.setdefault(r.system, {}).setdefault(r.seed, []).append(r.correct)
    return {name: {seed: round(sum(v) / len(v), 6) for seed, v in sorted(seeds.items())}
            for name, seeds in out.items()}


def by_prior(rows: Sequence[Row], baseline: str = "baseline") -> dict[str, dict]:
    """Each system's accuracy on the questions the baseline got right ("known") and wrong ("unknown"),
    and the known ones it now gets wrong ("forgotten"; with seeds: wrong in most of them).
    Empty when the baseline was not run."""
    prior = {r.id: r.correct for r in rows if r.system == baseline and r.correct is not None}
    out: dict[str, dict] = {}
    for r in rows:
        if r.correct is None or r.id not in prior:
            continue
        entry = out.setdefault(r.system, {"known": [0, 0], "unknown": [0, 0], "wrong": {}})
        group = entry["known" if prior[r.id] else "unknown"]
        group[0] += 1
        group[1] += int(r.correct)
        if prior[r.id]:
            votes = entry["wrong"].setdefault(r.id, [0, 0])
            votes[0] += not r.correct
            votes[1] += 1
    return {name: {"by_prior": {g: PriorGroup(n=e[g][0], correct=e[g][1]) for g in ("known", "unknown")},
                   "forgotten": [qid for qid, (wrong, n) in e["wrong"].items() if 2 * wrong > n]}
            for name, e in out.items()}


# The share of a system's answers that must run on into debris for a warning: a stray marker is cut
# and harmless; a prompt style the model does not know shows in many answers.
DEBRIS_SHARE = 0.1


def template_debris(rows: Sequence[Row]) -> dict[str, TemplateDebris]:
    """The systems with debris in at least DEBRIS_SHARE of their answers (every seed's answer counts)."""
    out = {}
    for name in dict.fromkeys(r.system for r in rows):
        answered = [r for r in rows if r.system == name and r.answer is not None]
        found = Counter(r.debris for r in answered if r.debris)
        debris = sum(found.values())
        if debris and debris >= DEBRIS_SHARE * len(answered):
            out[name] = TemplateDebris(answers=debris, of=len(answered), found=dict(found.most_common()))
    return out


def _systems(spec: EvalSpec, rows: Sequence[Row], run: RunMeta) -> dict[str, SystemResult]:
    per_seed, prior, debris = seed_accuracy(rows), by_prior(rows), template_debris(rows)
    corrected = corrected_accuracy(rows)  # only systems with random-sample reviews
    out = {}
    for info in spec.systems:
        mine = [r for r in rows if r.system == info.name]
        if not mine:
            continue
        scored = [r for r in mine if r.answer is not None and r.correct is not None]
        correct = sum(r.correct for r in scored)
        out[info.name] = SystemResult(
            family=info.family, n=len(scored), correct=correct,
            accuracy=round(correct / len(scored), 6) if scored else 0.0, accuracy_ci=wilson(correct, len(scored)),
            unscored=sum(r.answer is not None and r.correct is None for r in mine),
            answer_seconds=round(sum(r.seconds or 0 for r in mine if r.answer is not None), 3),
            retrieval=_retrieval(spec, info.name, mine), seed_accuracy=per_seed.get(info.name),
            **prior.get(info.name, {}), corrected=corrected.get(info.name), template_debris=debris.get(info.name),
            cost=_cost(info.name, mine, run))
    return out


def _outcomes(rows: Sequence[Row], system: str) -> dict[str, bool]:
    return {r.id: r.correct for r in rows if r.system == system and r.correct is not None}


def _seed_verdict(a: str, b: str, rows: Sequence[Row], firsts: Sequence[Row]) -> str:
    """McNemar per seed of ``a`` against ``b`` (its first seed when it has several): 'better in 3 of 3 seeds'."""
    theirs = _outcomes(firsts, b)
    seeds: dict[int, dict[str, bool]] = {}
    for r in rows:
        if r.system == a and r.seed is not None and r.correct is not None:
            seeds.setdefault(r.seed, {})[r.id] = r.correct
    tests = [mcnemar(a, b, mine, theirs) for mine in seeds.values()]
    significant = [t for t in tests if t.significant]
    better = sum(t.only_a > t.only_b for t in significant)
    worse = len(significant) - better
    return (f"better in {better} of {len(tests)} seeds (p < 0.05)" + (f", worse in {worse}" if worse else "")
            if significant else f"not significant in any of {len(tests)} seeds")


def _seeds(rows: Sequence[Row], firsts: Sequence[Row], systems: dict[str, SystemResult], paired) -> dict:
    out = {}
    for name, result in systems.items():
        if not result.seed_accuracy:
            continue
        values = list(result.seed_accuracy.values())
        others = [p.b if p.a == name else p.a for p in paired if name in (p.a, p.b)] or ["baseline"]
        out[name] = SeedResult(per_seed=result.seed_accuracy, mean=round(statistics.mean(values), 6),
                               sd=round(statistics.stdev(values), 6) if len(values) > 1 else 0.0,
                               against={other: _seed_verdict(name, other, rows, firsts)
                                        for other in dict.fromkeys(others)})
    return out


def _attribution(spec: EvalSpec, firsts: Sequence[Row], systems: dict[str, SystemResult]) -> dict[str, Attribution]:
    """Per retrieving system: retrieval hit/miss against answer right/wrong, over questions with evidence."""
    evidence = {q.id for q in spec.questions if q.evidence}
    out = {}
    for name, result in systems.items():
        if result.retrieval is None:
            continue
        mine = [r for r in firsts if r.system == name and r.id in evidence and r.retrieved and r.correct is not None]
        count = Counter(((r.evidence_rank is not None), r.correct) for r in mine)
        out[name] = Attribution(hit_right=count[True, True], hit_wrong=count[True, False],
                                miss_right=count[False, True], miss_wrong=count[False, False])
    return out


def _judge_checks(spec: EvalSpec, run: RunMeta) -> tuple[JudgeCheck, ...]:
    measured = {"calibration": run.calibration, "real_answers": run.real_answers}
    return tuple(JudgeCheck(c.name, c.limits, None if measured[c.labels] is None else measured[c.labels].model_dump())
                 for c in spec.judge_checks)


def judge_status(spec: EvalSpec, run: RunMeta, reviewed) -> str:
    """Where the judge stands on this suite: validated against its labels, or unvalidated and what to do."""
    found = []
    if run.calibration:
        found.append(f"{run.calibration.agreement:.1%} on the suite's {run.calibration.n} calibration labels")
    if run.real_answers:
        found.append(f"{run.real_answers.agreement:.1%} on {run.real_answers.n} of the systems' answers "
                     "labelled by hand")
    if reviewed.n:
        found.append(f"{reviewed.agreement:.1%} on {reviewed.n} answers of this run reviewed by a person")
    if found:
        return f"The judge {spec.judge} is validated on this suite: it agrees " + "; ".join(found) + "."
    if spec.judge_checks:
        return (f"The judge {spec.judge} was not checked in this run: evals/test_judge.py, which grades the suite's "
                "labelled answers, did not run.")
    family = spec.judge.split("/", 1)[0]
    elsewhere = MEASURED_ELSEWHERE.get(family, "not measured by the harness")
    return (f"The judge {spec.judge} is unvalidated on this suite: it has no labelled answers. Measured "
            f"elsewhere: {elsewhere}. Run `harness review --sample 60` and rerun: the corrected accuracy then "
            "carries the judge's error into its interval.")


def build_report(spec: EvalSpec, rows: Sequence[Row], run: RunMeta, changes: Sequence[Row] = ()) -> RunReport:
    """The one place where results are computed: ``rows`` the ordinary run's, ``changes`` the change study's."""
    rows = order_rows(rows, spec)
    changes = order_rows(changes, spec)
    firsts = first_seed(rows)
    systems = _systems(spec, rows, run)
    gate = evaluate_gate(spec.thresholds, systems, run.skipped, _judge_checks(spec, run), run.failed)
    outcomes = {name: o for name in systems if (o := _outcomes(firsts, name))}
    paired = comparisons({n: s.accuracy for n, s in systems.items()}, outcomes)
    reviewed = {name: reviewed_agreement([r for r in rows if r.system == name]) for name in systems}
    reviewed[""] = reviewed_agreement(rows)
    bias = answer_bias(spec.questions)
    warnings = [s.template_debris.line(name) for name, s in systems.items() if s.template_debris]
    warnings += bias_warnings(firsts, spec.questions, spec.example_answers) + list(run.stale_reviews.values())
    warnings += empty_answer_warnings([*rows, *changes])  # counted apart: a failure to answer, not a wrong fact
    analysis = Analysis(systems=systems, verdict=decide(spec, systems, rows, firsts, bias, run.skipped), gate=gate, paired=paired,
                        seeds=_seeds(rows, firsts, systems, paired), reviewed=reviewed,
                        attribution=_attribution(spec, firsts, systems), answer_bias=bias[0],
                        judge_status=judge_status(spec, run, reviewed[""]), warnings=warnings,
                        changes=change_study(spec, rows, changes, run))
    return RunReport(spec=spec, run=run, results=rows, analysis=analysis, changes=changes)


def order_rows(rows: Sequence[Row], spec: EvalSpec) -> list[Row]:
    """The spec's order: systems as the suite lists them, then questions, then seeds."""
    order = {(s.name, q.id): (i, j) for i, s in enumerate(spec.systems) for j, q in enumerate(spec.questions)}
    conditions = {None: 0, "stale": 1, "refreshed": 2, "control": 3}
    return sorted(rows, key=lambda r: (*order.get((r.system, r.id), (1e9, 1e9)), conditions[r.condition], r.seed or 0))
