"""Build a RunReport from result rows: every metric, interval, test and gate row, computed once."""
from __future__ import annotations

import statistics
from collections import Counter
from typing import Sequence

from harness.results.gate import JudgeCheck, evaluate_gate
from harness.results.model import (
    SCHEMA_VERSION,
    Analysis,
    CorrectedSummary,
    PriorGroup,
    ResultsFile,
    RetrievalSummary,
    Row,
    RunMeta,
    RunReport,
    SystemMetrics,
    SystemSummary,
    TemplateDebris,
)
from harness.results.ppi import corrected_accuracy, reviewed_agreement
from harness.results.stats import comparisons, mcnemar, wilson
from harness.suite import Suite


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def first_seed(rows: Sequence[Row]) -> list[Row]:
    """One row per (system, question): a system trained with several seeds keeps its first seed's."""
    first: dict[str, int] = {}
    for r in rows:
        if r.seed is not None:
            first.setdefault(r.system, r.seed)
    return [r for r in rows if (r.seed if r.seed is not None else first.get(r.system)) == first.get(r.system)]


def system_metrics(rows: Sequence[Row], suite: Suite) -> dict[str, SystemMetrics]:
    out: dict[str, SystemMetrics] = {}
    for spec in suite.systems:
        mine = [r for r in rows if r.system == spec.name]
        if not mine:
            continue
        answered = [r for r in mine if r.answer is not None]
        scored = [r for r in answered if r.correct is not None]
        correct = sum(r.correct for r in scored)
        retrieval: dict = {}
        if spec.retrieves:  # retrieval is the same for every seed: each question counts once
            checked = [r for r in first_seed(mine) if r.retrieved and suite.evidence.get(r.id)]
            retrieval = {"k": spec.options.k, "retrieval_n": len(checked)}
            if checked:
                ranks = [r.evidence_rank for r in checked]
                hits = sum(rank is not None for rank in ranks)
                retrieval.update(recall=hits / len(ranks), recall_ci=wilson(hits, len(ranks)),
                                 mrr=sum(1 / rank for rank in ranks if rank) / len(ranks))
        out[spec.name] = SystemMetrics(
            n=len(scored), correct=correct, accuracy=correct / len(scored) if scored else 0.0,
            accuracy_ci=wilson(correct, len(scored)), unscored=len(answered) - len(scored),
            answer_seconds=round(sum(r.seconds or 0 for r in answered), 3), **retrieval)
    return out


def seed_accuracy(rows: Sequence[Row]) -> dict[str, dict[int, float]]:
    """Accuracy per seed, for each system whose rows carry seeds (scored answers only)."""
    out: dict[str, dict[int, list]] = {}
    for r in rows:
        if r.seed is not None and r.correct is not None:
            out.setdefault(r.system, {}).setdefault(r.seed, []).append(r.correct)
    return {name: {seed: sum(v) / len(v) for seed, v in sorted(seeds.items())} for name, seeds in out.items()}


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
    significant = [t for t in tests if t.p_value is not None and t.p_value < 0.05]
    better = sum(t.only_a > t.only_b for t in significant)
    worse = len(significant) - better
    return (f"better in {better} of {len(tests)} seeds (p < 0.05)" + (f", worse in {worse}" if worse else "")
            if significant else f"not significant in any of {len(tests)} seeds")


def _seeds(rows: Sequence[Row], firsts: Sequence[Row], per_seed: dict[str, dict[int, float]], paired) -> dict:
    out = {}
    for name, seeds in per_seed.items():
        values = list(seeds.values())
        others = [p.b if p.a == name else p.a for p in paired if name in (p.a, p.b)] or ["baseline"]
        out[name] = {"per_seed": seeds, "mean": statistics.mean(values),
                     "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                     "against": {other: _seed_verdict(name, other, rows, firsts) for other in dict.fromkeys(others)}}
    return out


def _attribution(suite: Suite, firsts: Sequence[Row], metrics: dict[str, SystemMetrics]) -> dict:
    """Per RAG system: retrieval hit/miss against answer right/wrong, over questions with evidence."""
    out = {}
    for spec in suite.systems:
        if not spec.retrieves or spec.name not in metrics:
            continue
        mine = [r for r in firsts if r.system == spec.name and suite.evidence.get(r.id) and r.retrieved
                and r.correct is not None]
        out[spec.name] = {(hit, right): sum(1 for r in mine if (r.evidence_rank is not None) == hit
                                            and r.correct == right)
                          for hit in (True, False) for right in (True, False)}
    return out


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


def _summaries(metrics, per_seed, prior, corrected, debris) -> dict[str, SystemSummary]:
    out = {}
    for name, m in metrics.items():
        c = corrected.get(name)
        out[name] = SystemSummary(
            n=m.n, correct=m.correct, answer_accuracy=round(m.accuracy, 6), unscored=m.unscored,
            retrieval=None if m.k is None else RetrievalSummary(k=m.k, recall=_round(m.recall), mrr=_round(m.mrr)),
            seed_accuracy=[round(v, 6) for v in per_seed[name].values()] if name in per_seed else None,
            **prior.get(name, {}),
            corrected_accuracy=None if c is None else CorrectedSummary(**c.as_json()),
            template_debris=debris.get(name))
    return out


def order_rows(rows: Sequence[Row], suite: Suite) -> list[Row]:
    """Suite order: systems as the suite lists them, then questions, then seeds."""
    order = {(s.name, q.id): (i, j) for i, s in enumerate(suite.systems) for j, q in enumerate(suite.questions)}
    return sorted(rows, key=lambda r: (*order.get((r.system, r.id), (1e9, 1e9)), r.seed or 0))


def _judge_checks(suite: Suite, run: RunMeta) -> tuple[JudgeCheck, ...]:
    """The judge's limits for each set of human labels the suite has."""
    checks = []
    if suite.calibration is not None:
        cal = suite.config.calibration
        checks.append(JudgeCheck("judge", {"agreement": cal.min_agreement, "kappa": cal.min_kappa}, run.calibration))
    if suite.real_answers is not None:
        real = suite.config.real_answers
        checks.append(JudgeCheck("judge (real answers)", {"agreement": real.min_agreement, "kappa": real.min_kappa,
                                                           "max_gap": real.max_gap}, run.real_answers))
    return tuple(checks)


def build_report(suite: Suite, rows: Sequence[Row], run: RunMeta) -> RunReport:
    """The one place where results are computed."""
    rows = order_rows(rows, suite)
    firsts = first_seed(rows)
    metrics = system_metrics(rows, suite)
    per_seed = seed_accuracy(rows)
    corrected = corrected_accuracy(rows)  # only systems with random-sample reviews
    gate = evaluate_gate(suite.config.thresholds, metrics, run.skipped, _judge_checks(suite, run), run.failed)
    outcomes = {name: o for name in metrics if (o := _outcomes(firsts, name))}
    paired = comparisons({n: m.accuracy for n, m in metrics.items()}, outcomes)
    reviewed = {name: reviewed_agreement([r for r in rows if r.system == name]) for name in metrics}
    reviewed[""] = reviewed_agreement(rows)
    analysis = Analysis(metrics=metrics, gate=gate, paired=paired, first_seed=firsts,
                        seeds=_seeds(rows, firsts, per_seed, paired), corrected=corrected, reviewed=reviewed,
                        attribution=_attribution(suite, firsts, metrics))
    report = RunReport(schema_version=SCHEMA_VERSION, suite=suite.name,
                       systems=_summaries(metrics, per_seed, by_prior(rows), corrected, template_debris(rows)),
                       results=rows, run=run)
    return report.with_analysis(analysis)


def rebuild(suite: Suite, stored: ResultsFile) -> RunReport:
    """A RunReport from a results.json's rows and run block (``harness report``, merges)."""
    return build_report(suite, stored.results, stored.run)
