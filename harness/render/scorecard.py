"""The markdown scorecard, drawn from a RunReport alone. Deterministic for identical data; it formats
the figures the report holds and computes none."""
from __future__ import annotations

from harness.render.text import cost_cells, judge_cell, preset_line, real_answers_line, setting_text
from harness.render import changes
from harness.render.comparison import render_comparison
from harness.results.model import FAMILY_NAMES, GateRow, Paired, RunReport, SeedResult
from harness.results.ppi import NO_SAMPLE

CHART = "accuracy.png"
COST_CHART = "cost.png"
LOSS_CHART = "lora_loss.png"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}%]"


def _verdict(report: RunReport) -> list[str]:
    v, systems = report.analysis.verdict, report.analysis.systems
    change = [f"**{line}**" if i == 0 else f"- {line}" for i, line in enumerate(report.analysis.changes.lines)
              ] + [""] if report.analysis.changes else []
    lines = [*change, f"**{v.headline}**", "", *[f"- {line}" for line in v.details], f"- {report.analysis.judge_status}", "",
             "| system | family | accuracy [95% CI] | training (s) | indexing (s) | s per answer | prompt tokens "
             "| peak memory (MB) |", "|---|---|---|---|---|---|---|---|"]
    for name, s in systems.items():
        lines.append(f"| {name}{' (best of its family)' if v.best.get(s.family) == name else ''} | "
                     f"{FAMILY_NAMES[s.family]} | {s.correct}/{s.n} ({_pct(s.accuracy)}){_ci(s.accuracy_ci)} | "
                     + " | ".join(cost_cells(s.cost)) + " |")
    return lines + ["", "Training and indexing are what a change to the documents costs, as measured when the "
                        "adapter or index was built; seconds per answer and prompt tokens are the mean over the "
                        "system's answers, as generated; peak memory is the process's while the system built "
                        "and generated its answers (kept with the answers: a rerun from the cache shows the same).", "",
                    f"![accuracy against cost]({COST_CHART})"]


def _summary(report: RunReport) -> list[str]:
    lines = ["| system | accuracy [95% CI] | judge vs humans | unscored | recall@k [95% CI] | MRR | answer time (s) |",
             "|---|---|---|---|---|---|---|"]
    for name, s in report.analysis.systems.items():
        r = s.retrieval
        recall = "–" if r is None or r.recall is None else f"{_pct(r.recall)}{_ci(r.recall_ci)} (k={r.k}, n={r.n})"
        mrr = "–" if r is None or r.mrr is None else f"{r.mrr:.3f}"
        lines.append(f"| {name} | {s.correct}/{s.n} ({_pct(s.accuracy)}){_ci(s.accuracy_ci)} | "
                     f"{judge_cell(report, name)} | {s.unscored} | {recall} | {mrr} | {s.answer_seconds:.1f} |")
    return lines


def _judge(report: RunReport) -> list[str]:
    spec, run = report.spec, report.run
    cal = run.calibration
    lines = [f"- judge: `{spec.judge}`"]
    if cal:
        kappa = "–" if cal.kappa is None else f"{cal.kappa:.3f}"
        lines.append(f"- judge agreement with the calibration labels: {cal.agree}/{cal.n} ({_pct(cal.agreement)}), "
                     f"Cohen's κ {kappa}; unscored {cal.unscored}; judge said correct: {cal.tp} rightly, "
                     f"{cal.fp} wrongly; said incorrect: {cal.tn} rightly, {cal.fn} wrongly")
    if run.real_answers:
        lines.append(f"- on the systems' own answers, labelled by hand: {real_answers_line(run.real_answers)}")
    if spec.self_grading:
        lines.append(f"- **self-grading:** the judge model `{spec.judge_model}` is the model being judged; "
                     "its verdicts may favour its own answers")
    return lines


def _gate(rows: list[GateRow], enabled: bool) -> list[str]:
    if not rows:
        return ["No thresholds are set in suite.yaml."]
    head = "Applied (`--gate`)." if enabled else "Not applied in this run (pass `--gate`); shown for reference."
    lines = [head, "", "| system | metric | value | threshold | status |", "|---|---|---|---|---|"]
    for r in rows:
        value = "–" if r.value is None else f"{r.value:.3f}"
        status = r.status + (f" ({r.note})" if r.note else "")
        limit = f"{'≤' if r.ceiling else '≥'} {r.threshold:.3f}"
        lines.append(f"| {r.system} | {r.metric} | {value} | {limit} | {status} |")
    return lines


def _significance(paired: list[Paired]) -> list[str]:
    if not paired:
        return ["Needs at least two systems with scored answers."]
    lines = ["McNemar's exact test on the questions both systems answered and the judge scored; the difference "
             "A − B with its 95% interval (Agresti–Min).", "",
             "| A | B | n | only A right | only B right | A − B [95% CI] | p | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for p in paired:
        pval = "–" if p.p_value is None else f"{p.p_value:.3g}"
        diff = "–" if p.difference is None else (f"{100 * p.difference:+.1f} points [{100 * p.difference_ci[0]:+.0f}, "
                                                 f"{100 * p.difference_ci[1]:+.0f}]")
        lines.append(f"| {p.a} | {p.b} | {p.n} | {p.only_a} | {p.only_b} | {diff} | {pval} | {p.verdict} |")
    return lines


def _attribution(report: RunReport) -> list[str]:
    lines = ["Rows: was the evidence in the top k? Columns: was the answer right? "
             "Wrong answers with a hit are the model's errors; wrong answers with a miss are retrieval's."]
    for name, cell in report.analysis.attribution.items():
        lines += ["", f"**{name}** (n={cell.n})", "", "| | answer right | answer wrong |", "|---|---|---|",
                  f"| evidence retrieved | {cell.hit_right} | {cell.hit_wrong} (model's errors) |",
                  f"| evidence missed | {cell.miss_right} | {cell.miss_wrong} (retrieval's errors) |"]
    return lines


def _grid(report: RunReport) -> list[str]:
    names = list(report.analysis.systems)
    by_key = {(r.system, r.id): r for r in report.first_seed}
    lines = ["✓ right, ✗ wrong, ? unscored; `r2` = evidence first covered at rank 2, `r–` = not retrieved.", "",
             "| id | question | gold | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    for q in report.spec.questions:
        cells = []
        for name in names:
            r = by_key.get((name, q.id))
            if r is None:
                cells.append(" ")
                continue
            mark = {True: "✓", False: "✗", None: "?"}[r.correct]
            if r.retrieved and q.evidence:
                mark += f" r{r.evidence_rank or '–'}"
            answer = (r.answer or "").replace("|", "/")
            cells.append(f"{mark} {answer[:40]}" if r.answer is not None else mark)
        lines.append(f"| {q.id} | {q.question.replace('|', '/')[:70]} | {q.answer} | " + " | ".join(cells) + " |")
    return lines


def _training(report: RunReport) -> list[str]:
    lines = [f"![train and eval loss]({LOSS_CHART})", "",
             "Pairs: the training pairs used (after the held-out eval pairs), and the cap on pairs per source "
             "(`phrasings`) or per fact (`pairs_per_fact`) where one is set. lr: the learning rate; batch: pairs per step; length: tokens kept "
             "per pair (or passage); held out: the share kept for the eval loss.", "",
             "| system | trained on | target modules | rank | alpha | dropout | lr | epochs | batch | length "
             "| held out | dtype | pairs | train time (s) | examples/s | last train loss | last eval loss |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, first in report.run.training.items():
        for log in first.runs():
            st = log.settings
            last = lambda curve: f"{curve[-1][1]:.3f}" if curve else "–"  # noqa: E731
            label = name + (f" (seed {log.seed})" if log.seed is not None else "")
            caps = [f"≤{st[key]} per {what}" for key, what in (("phrasings", "source"), ("pairs_per_fact", "fact"))
                    if st.get(key)]
            pairs = f"{log.examples}" + (f" ({', '.join(caps)})" if caps else "")
            settings = [st.get("train_on", "pairs"), setting_text(st["target_modules"]), *(
                setting_text(st.get(key, "–")) for key in ("rank", "alpha", "dropout", "learning_rate", "epochs",
                                                       "batch_size", "max_length", "eval_fraction", "dtype"))]
            lines.append(f"| {label} | {' | '.join(settings)} | {pairs} | {log.seconds} "
                         f"| {log.examples_per_second} | {last(log.train)} | {last(log.eval)} |")
    presets = [preset_line(s.name, s.preset) for s in report.spec.systems
               if s.preset and s.name in report.run.training]
    return lines + (["", *(f"- {line}" for line in presets)] if presets else [])


def _rate(group) -> float | None:
    return group.correct / group.n if group.n else None


def _prior(report: RunReport) -> list[str]:
    """Known vs unknown facts (Gekhman et al. 2024): gains on what the baseline already knew read differently."""
    systems = report.analysis.systems
    known, unknown = (systems["baseline"].by_prior[g].n for g in ("known", "unknown"))
    others = {n: m for n, m in systems.items() if n != "baseline" and m.by_prior}
    lines = [f"The baseline answers {known} questions right (\"known\") and {unknown} wrong (\"unknown\"). "
             "Forgotten: known questions the system now gets wrong (with seeds, in most of them).", "",
             "| system | known right | unknown right | forgotten |", "|---|---|---|---|"]
    for name, m in others.items():
        k, u = m.by_prior["known"], m.by_prior["unknown"]
        lines.append(f"| {name} | {k.correct}/{k.n} ({_pct(_rate(k))}) | {u.correct}/{u.n} "
                     f"({_pct(_rate(u))}) | {', '.join(m.forgotten) or '–'} |")
    if others:
        name, m = max(others.items(), key=lambda item: _rate(item[1].by_prior["unknown"]) or 0)
        u = m.by_prior["unknown"]
        lines += ["", f"Reading: {name} answers the most of what the model did not know ({u.correct} of {u.n}); "
                  + (f"it forgets {len(m.forgotten)} of the {known} known." if m.forgotten else
                     "it forgets none of the known ones.")]
    return lines


def _seeds(seeds: dict[str, SeedResult]) -> list[str]:
    lines = ["Each seed trains its own adapter. Elsewhere in this scorecard a seeded system shows its first seed; "
             "its accuracy above is over all seeds.", "",
             "| system | accuracy per seed | mean ± sd | against | per-seed McNemar |", "|---|---|---|---|---|"]
    for name, s in seeds.items():
        per_seed = ", ".join(f"{seed}: {_pct(value)}" for seed, value in s.per_seed.items())
        for other, verdict in s.against.items():
            lines.append(f"| {name} | {per_seed} | {_pct(s.mean)} ± {100 * s.sd:.1f} | {other} | {verdict} |")
    return lines


def _human_reviews(report: RunReport) -> list[str]:
    """Human verdicts per system, the PPI-corrected accuracy, and the judge measured on this run's reviews."""
    analysis, cal = report.analysis, report.run.calibration
    lines = ["Human verdicts (the suite's reviews.yaml) overrule the judge on the answers they cover; the accuracy "
             "above counts them. The corrected accuracy is the judge's accuracy over all answers plus the mean of "
             "(human − judge) over the system's random-sample reviews (prediction-powered inference), with its 95% "
             "interval. Only a random sample (`harness review --sample N`) keeps it unbiased, so hand-picked "
             "reviews (report.html marks, `harness review` without `--sample`) stay out of it.", "",
             "| system | human verdicts | random sample | judge agrees | judged accuracy "
             "| corrected accuracy [95% interval] |", "|---|---|---|---|---|---|"]
    for name, agree in analysis.reviewed.items():
        if not name or not agree.n:  # "" is every system together
            continue
        c = analysis.systems[name].corrected
        fixed = f"– ({NO_SAMPLE})" if c is None else _pct(c.value) + (
            "" if c.low is None else f" [{100 * c.low:.0f}–{100 * c.high:.0f}%]")
        lines.append(f"| {name} | {agree.n} | {c.reviewed if c else 0} | {agree.agree}/{agree.n} | "
                     f"{_pct(c.judged if c else None)} | {fixed} |")
    total = analysis.reviewed[""]
    kappa = "–" if total.kappa is None else f"{total.kappa:.3f}"
    on_cal = f"{cal.agree}/{cal.n} ({_pct(cal.agreement)})" if cal else "not measured in this run"
    return lines + ["", f"- judge agreement on this run's reviewed answers: {total.agree}/{total.n} "
                        f"({_pct(total.agreement)}), Cohen's κ {kappa}; on the calibration set: {on_cal}"]


def render_scorecard(report: RunReport) -> str:
    spec, run, analysis = report.spec, report.run, report.analysis
    env = spec.environment
    migrated = ([f"- **migrated** from a schema version {report.migrated_from} file: its questions, thresholds and "
                 "system settings were read from the suite folder when it was migrated"]
                if report.migrated_from else [])
    out = [f"# Scorecard: {spec.suite}", "", "## Verdict", "", *_verdict(report), "",
           f"- generator: `{spec.generator}`" + (f"; generation in {env.generation}" if env.generation else ""), *_judge(report),
           f"- questions: {len(spec.questions)}; corpus: {spec.corpus.documents} document(s), {spec.corpus.words} "
           f"words (hash {spec.corpus.hash[:12]})",
           f"- ran on: {env.cpu}; Python {env.python}; harness revision {env.git_revision or 'unknown'}",
           *migrated, "",
           *(["## Warnings", "", *[f"- {line}" for line in analysis.warnings], ""] if analysis.warnings else []),
           "## Accuracy and retrieval", "", f"![accuracy per system]({CHART})", "", *_summary(report), "",
           "Unscored answers (the judge could not decide) are counted apart, never as wrong. Judge vs humans: the "
           "judge's agreement with people on this system's answers, where labels exist. Answer time is the total "
           "generation time recorded when each answer was computed (loading the model left out); cached answers "
           "keep it.", "",
           "## Is the difference real?", "", *_significance(analysis.paired), "",
           "## Gate", "", *_gate(analysis.gate, run.gate_enabled), ""]
    if analysis.comparison:
        out += ["## Against the previous run", "", *render_comparison(analysis.comparison), ""]
    if analysis.changes:
        out += ["## When the documents change", "", *changes.markdown(report), ""]
    if any(r.verdict_source == "human" for r in report.first_seed):
        out += ["## Human reviews", "", *_human_reviews(report), ""]
    if run.training:
        out += ["## Fine-tuning", "", *_training(report), ""]
    if analysis.seeds:
        out += ["## Seeds", "", *_seeds(analysis.seeds), ""]
    baseline = analysis.systems.get("baseline")
    if baseline is not None and baseline.by_prior:
        out += ["## Known and unknown facts", "", *_prior(report), ""]
    if analysis.attribution:
        out += ["## Where the errors come from", "", *_attribution(report), ""]
    if run.failed:
        out += ["## Crashed systems", "", *[f"- {name}: {why}" for name, why in run.failed.items()], ""]
    if run.skipped:
        out += ["## Skipped systems", "", *[f"- {name}: {why}" for name, why in run.skipped.items()], ""]
    out += ["## Per question", "", *_grid(report), ""]
    return "\n".join(out)
