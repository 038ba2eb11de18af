"""The verdict: retrieval, fine-tuning, or both? One sentence with its margin, p-value and how sure it is.

Systems group into families by kind: none (the plain model), retrieval, fine-tuning, and both. The
winner is the most accurate system; its margin over the best of each other family is a paired
difference with its 95% interval and McNemar's exact p. A margin holds only when it is significant
in the winner's favour, in every training seed when the systems have several, and the winner must
beat the answer-bias floor (always giving the most common gold answer of each answer type) the
same way: a system is never credited for a bias.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from harness.inputs.config import Question
from harness.results.model import (
    FAMILY_NAMES,
    AnswerBias,
    CorrectedVerdict,
    EvalSpec,
    Margin,
    Paired,
    Row,
    SystemResult,
    Verdict,
)
from harness.results.stats import mcnemar, power

BIAS = "answer bias"
FAMILY_ORDER = ("both", "fine-tuning", "retrieval", "none")


def normalise(text: str) -> str:
    return re.sub(r"[^\w\s.]", "", text.lower()).strip(" .")


def answer_type(gold: str) -> str:
    """yes/no, number, or other: the kinds of answer a biased system can give to many questions at once."""
    word = normalise(gold).split(" ", 1)[0] if gold.strip() else ""
    if word in ("yes", "no"):
        return "yes/no"
    return "number" if re.search(r"\d", gold) else "other"


def _typed_gold(q: Question) -> str:
    return normalise(q.answer).split(" ", 1)[0] if answer_type(q.answer) == "yes/no" else normalise(q.answer)


def answer_bias(questions: Sequence[Question]) -> tuple[AnswerBias, dict[str, bool]]:
    """The floor, and its outcome per question (right where the question's gold is its type's most common)."""
    by_type: dict[str, Counter] = {}
    for q in questions:
        by_type.setdefault(answer_type(q.answer), Counter())[_typed_gold(q)] += 1
    common = {t: counts.most_common(1)[0] for t, counts in by_type.items()}
    # A "most common" answer that occurs once is no bias: any guess would do as well.
    outcomes = {q.id: common[answer_type(q.answer)][1] > 1 and _typed_gold(q) == common[answer_type(q.answer)][0]
                for q in questions}
    correct = sum(outcomes.values())
    summary = AnswerBias(accuracy=round(correct / len(questions), 6) if questions else 0.0, correct=correct,
                         n=len(questions),
                         by_type={t: (gold, count, sum(by_type[t].values())) for t, (gold, count) in common.items()})
    return summary, outcomes


def bias_warnings(rows: Sequence[Row], questions: Sequence[Question], example_answers: Sequence[str]) -> list[str]:
    """One line per system whose answers say nothing: mostly one string (over all its answers or one answer
    type's), or a worked example's answer repeated where the gold differs."""
    gold = {q.id: q for q in questions}
    examples = {normalise(a) for a in example_answers}
    lines = []
    for name in dict.fromkeys(r.system for r in rows):
        answered = [r for r in rows if r.system == name and r.answer is not None and r.id in gold]
        found = _one_string(answered, "its answers") or _one_string(
            [r for r in answered if answer_type(gold[r.id].answer) == "yes/no"], "its answers to yes/no questions")
        copied = Counter(r.answer for r in answered
                         if normalise(r.answer) in examples and normalise(r.answer) != normalise(gold[r.id].answer))
        if sum(copied.values()) >= max(2, 0.05 * len(answered)):
            what = ", ".join(f"{a!r} {n}×" for a, n in copied.most_common(3))
            found = (found + "; " if found else "") + (f"{sum(copied.values())} answers repeat a worked example's "
                                                      f"answer where the gold differs ({what})")
        if found:
            lines.append(f"{name}: {found}: the answers may reflect a bias, not the documents")
    return lines


def _one_string(rows: Sequence[Row], what: str) -> str | None:
    if len(rows) < 5:
        return None
    answer, count = Counter(normalise(r.answer) for r in rows).most_common(1)[0]
    if count / len(rows) <= 0.5:
        return None
    shown = next(r.answer for r in rows if normalise(r.answer) == answer)
    return f"{count} of {len(rows)} of {what} are {shown!r}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _points(paired: Paired) -> str:
    low, high = paired.difference_ci
    return f"{100 * paired.difference:+.0f} points [{100 * low:+.0f}, {100 * high:+.0f}]"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"


class Outcomes:
    """Per system, its scored outcome per question: first seed, and per seed for seeded systems."""

    def __init__(self, rows: Sequence[Row], firsts: Sequence[Row]):
        self.first: dict[str, dict[str, bool]] = {}
        for r in firsts:
            if r.correct is not None:
                self.first.setdefault(r.system, {})[r.id] = r.correct
        self.seeds: dict[str, dict[int, dict[str, bool]]] = {}
        for r in rows:
            if r.seed is not None and r.correct is not None:
                self.seeds.setdefault(r.system, {}).setdefault(r.seed, {})[r.id] = r.correct

    def seeded(self, name: str) -> dict[int, dict[str, bool]] | None:
        seeds = self.seeds.get(name)
        return seeds if seeds and len(seeds) > 1 else None


def _margin(winner: str, other: str, family, outcomes: Outcomes, theirs: dict[str, bool] | None = None) -> Margin:
    paired = mcnemar(winner, other, outcomes.first[winner], theirs if theirs is not None else outcomes.first[other])
    mine, others = outcomes.seeded(winner), outcomes.seeded(other) if theirs is None else None
    if not mine and not others:
        return Margin(other=other, family=family, paired=paired)
    seeds = sorted(set(mine or {}) | set(others or {}))
    held = 0
    for seed in seeds:  # each seed against the other's same seed, or its only (first) one
        a = (mine or {}).get(seed, outcomes.first[winner])
        b = theirs if theirs is not None else (others or {}).get(seed, outcomes.first[other])
        test = mcnemar(winner, other, a, b)
        held += test.significant and test.only_a > test.only_b
    return Margin(other=other, family=family, paired=paired, seeds=len(seeds), seeds_held=held)


def _shown(outcomes: Outcomes, systems: dict[str, SystemResult]) -> dict[str, str]:
    """Each system's accuracy as the verdict compares it: on its first seed, over all seeds beside it."""
    shown = {}
    for name, first in outcomes.first.items():
        shown[name] = _pct(sum(first.values()) / len(first))
        if seeds := outcomes.seeded(name):
            shown[name] += f" (its first seed; {_pct(systems[name].accuracy)} over {len(seeds)} seeds)"
    return shown


def _clause(m: Margin, shown: dict[str, str], bias: AnswerBias) -> str:
    theirs = _pct(bias.accuracy) if m.family == BIAS else shown[m.other]
    who = "the answer-bias floor" if m.family == BIAS else f"{m.other}'s"
    label = "" if m.family == BIAS else f" ({FAMILY_NAMES[m.family]})"
    seeds = f", in {m.seeds_held} of {m.seeds} seeds" if m.seeds else ""
    return f"{who} {theirs}{label}: {_points(m.paired)}, {_p(m.paired.p_value)}{seeds}"


def _headline(winner: str, family: str, margins: list[Margin], shown: dict[str, str], bias: AnswerBias,
              n: int) -> str:
    acc = shown[winner]
    floor = next((m for m in margins if m.family == BIAS), None)
    rivals = [m for m in margins if m.family != BIAS]
    if floor is not None and not floor.holds:
        return (f"No system beats the answer-bias floor: the best, {winner} ({FAMILY_NAMES[family]}), answers "
                f"{acc} against {_clause(floor, shown, bias)}; cannot tell it from always giving the most "
                f"common answer at n = {n}")
    held = [m for m in rivals if m.holds]
    unsettled = [m for m in rivals if not m.holds]
    head = f"{winner} ({FAMILY_NAMES[family]}) answers {acc}"
    if not rivals:
        return f"{head}; no other family of systems ran, so nothing to compare it with"
    if not unsettled:
        return f"{FAMILY_NAMES[family].capitalize()} wins: {winner} answers {acc} against " + \
            "; against ".join(_clause(m, shown, bias) for m in held)
    cannot = "; nor from ".join(_clause(m, shown, bias) for m in unsettled)
    won = f"; it beats {'; '.join(_clause(m, shown, bias) for m in held)}" if held else ""
    return f"Not settled: {head}, but cannot tell it from {cannot}, at n = {n}{won}"


def _seed_line(names: Sequence[str], outcomes: Outcomes, systems: dict[str, SystemResult]) -> str | None:
    trained = [n for n in names if systems[n].family in ("fine-tuning", "both")]
    if not trained:
        return None
    seeded = [n for n in trained if outcomes.seeded(n)]
    if seeded:
        return ("Training variance: " + ", ".join(f"{n} trained with {len(outcomes.seeded(n))} seeds" for n in seeded)
                + "; a margin holds only if it holds in every seed.")
    return (f"Training variance was not measured: {', '.join(trained)} trained with one seed. To measure it, "
            "set `seeds: [0, 1, 2]` on the system in suite.yaml (or under training.lora).")


def _power_line(p) -> str:
    if p.detectable is None:
        can = (f"at n = {p.n} no difference between {p.a} and {p.b} reaches 80% power "
               f"({100 * p.discordant:.0f}% of questions have exactly one of them right)")
    else:
        can = (f"at n = {p.n}, with {100 * p.discordant:.0f}% of questions answered right by exactly one of "
               f"{p.a} and {p.b}, the smallest difference this run detects with 80% power at 5% is "
               f"{100 * p.detectable:.0f} points")
    gap = abs(p.observed)
    settle = ("they never disagree, so no number of questions would separate them" if not p.discordant else
              "their observed gap is 0 points" if not gap else
              f"the observed {100 * gap:.0f}-point gap would need about {p.needed} questions to settle"
              if p.needed else f"the observed {100 * gap:.0f}-point gap cannot reach 80% power at this discordance")
    return f"Power: {can}; {settle} ({p.method})."


def _missing_sides(spec: EvalSpec, scored: dict[str, SystemResult], skipped: dict[str, str]) -> list[str]:
    """A line for each side of the question (retrieval, fine-tuning) that no system with answers stands for."""
    lines = []
    for side in ("retrieval", "fine-tuning"):
        if any(s.family in (side, "both") for s in scored.values()):
            continue
        why = [f"{s.name}: {skipped[s.name]}" for s in spec.systems if s.family in (side, "both") and s.name in skipped]
        lines.append(f"The comparison has no {side} side: " + ("; ".join(why) if why else "no such system ran")
                     + ("" if side == "retrieval" else ". `--systems lora-docs` fine-tunes on the documents alone")
                     + ".")
    return lines


def _drafted(questions: Sequence[Question]) -> str | None:
    drafted = [q for q in questions if q.drafted]
    if not drafted:
        return None
    edited = sum(q.drafted == "edited" for q in drafted)
    return (f"{len(drafted)} of the {len(questions)} questions were drafted by a model (`harness draft`) and "
            f"accepted by a reviewer, {edited} of them with the gold answer edited.")


def _bounds(s: SystemResult) -> str:
    c = s.corrected
    return f"{_pct(c.value)} [{100 * c.low:.0f}, {100 * c.high:.0f}]"


def corrected_verdict(winner: str, margins: Sequence[Margin], scored: dict[str, SystemResult]) -> CorrectedVerdict | None:
    """The verdict on judge-corrected accuracies, over the systems with random-sample reviews.

    One system beats another when its corrected lower bound clears the other's upper bound. Each bound
    fails with probability at most 2.5% (ppi.py), so the claim holds with at least 95% confidence: no
    paired test, as the two samples were drawn apart, and so weaker than the judged margin.
    """
    corrected = {n: s for n, s in scored.items() if s.corrected and s.corrected.low is not None}
    if not corrected:
        return None
    ranked = sorted(corrected, key=lambda n: (-corrected[n].corrected.value, n != winner))
    best, family = ranked[0], corrected[ranked[0]].family
    rivals = {f: next(n for n in ranked if corrected[n].family == f) for f in FAMILY_ORDER
              if f != family and any(s.family == f for s in corrected.values())}
    beats = {f: corrected[best].corrected.low > corrected[n].corrected.high for f, n in rivals.items()}
    unconfirmed = [m.other for m in margins if m.family != BIAS and m.holds and not beats.get(m.family, False)]
    agreement = ("disagrees" if family != scored[winner].family else "unconfirmed" if unconfirmed else "agrees")
    compared = [winner, *(m.other for m in margins if m.family != BIAS)]
    uncorrected = [n for n in compared if n not in corrected]
    clauses = [f"{'above' if beats[f] else 'cannot be told from'} {n}'s {_bounds(corrected[n])} ({FAMILY_NAMES[f]})"
               for f, n in rivals.items()]
    line = (f"Corrected for the judge's errors (random-sample reviews): {best} ({FAMILY_NAMES[family]}) leads with "
            f"{_bounds(corrected[best])}" + (": " + "; ".join(clauses) if clauses else "")
            + ". " + {
                "agrees": "The judged verdict agrees.",
                "unconfirmed": f"Same family as the judged verdict, but its margin over {', '.join(unconfirmed)} is "
                               "not confirmed on corrected accuracies.",
                "disagrees": f"This disagrees with the judged verdict ({winner}, {FAMILY_NAMES[scored[winner].family]}): "
                             "review more answers (`harness review --sample 120`) before deciding.",
            }[agreement]
            + (f" Not corrected, no random-sample reviews: {', '.join(uncorrected)}." if uncorrected else ""))
    return CorrectedVerdict(winner=best, family=family, agreement=agreement, uncorrected=uncorrected, line=line)


def decide(spec: EvalSpec, systems: dict[str, SystemResult], rows: Sequence[Row], firsts: Sequence[Row],
           bias: tuple[AnswerBias, dict[str, bool]], skipped: dict[str, str]) -> Verdict:
    """The verdict over the systems with scored answers (``systems`` in the suite's order)."""
    outcomes = Outcomes(rows, firsts)
    floor, floor_outcomes = bias
    scored = {name: s for name, s in systems.items() if s.n and name in outcomes.first}
    notes = [line for line in (*_missing_sides(spec, scored, skipped), _drafted(spec.questions)) if line]
    if not scored:
        return Verdict(winner=None, family=None, best={}, margins=[], power=None,
                       headline="No verdict: no system has scored answers in this run.", details=notes)
    ranked = sorted(scored, key=lambda name: -scored[name].accuracy)  # stable: ties keep the suite's order
    best = {f: next(n for n in ranked if scored[n].family == f) for f in FAMILY_ORDER
            if any(s.family == f for s in scored.values())}
    winner = ranked[0]
    family = scored[winner].family
    margins = [_margin(winner, best[f], f, outcomes) for f in FAMILY_ORDER if f in best and f != family]
    if floor.correct:  # a floor of nothing is no bias to beat
        margins.append(_margin(winner, BIAS, BIAS, outcomes, theirs=floor_outcomes))
    runner_up = ranked[1] if len(ranked) > 1 else None
    pw = power(mcnemar(winner, runner_up, outcomes.first[winner], outcomes.first[runner_up])) if runner_up else None
    n = len(outcomes.first[winner])
    details = [line for line in (
        _seed_line([winner, *(m.other for m in margins if m.family != BIAS)], outcomes, scored),
        _power_line(pw) if pw else None,
        f"Answer-bias floor: {_pct(floor.accuracy)} ({floor.correct} of {floor.n}) by always giving each answer "
        "type's most common gold answer (" + ", ".join(f"{t}: {g!r} for {c} of {k}" for t, (g, c, k)
                                                       in floor.by_type.items()) + ")"
        + "".join(f"; {winner} against it: {_points(m.paired)}, {_p(m.paired.p_value)}" for m in margins
                  if m.family == BIAS) + "."
    ) if line] + notes
    corrected = corrected_verdict(winner, margins, scored)
    return Verdict(winner=winner, family=family, best=best, margins=margins, power=pw,
                   headline=_headline(winner, family, margins, _shown(outcomes, scored), floor, n),
                   details=details + ([corrected.line] if corrected else []), corrected=corrected)
