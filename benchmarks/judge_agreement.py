"""Agreement of each judge with human labels, on each label set's development and check halves
(harness.judges.calibration.split: by question id; rules may be tuned on "dev" only, "check" only
measures them), and on the sets with systems, how far each system's judged accuracy is from its labelled one.

The sets: the suite's calibration set (adversarial, written for the judge), a held-out set written apart
from it (tests/data/judge_heldout.yaml), the default systems' real answers on the suite
(judge_real_answers.yaml), and their real answers on a rulebook nobody here wrote (the FIT development set
of ../shared/corpora, labelled in tests/data/judge_fit_answers.yaml; left out when ../shared is absent).

    .venv/bin/python benchmarks/judge_agreement.py [--judges match,llm,hybrid] [--llm-server]
        [--sets calibration,held-out,real,fit] [--halves dev,check] [--ablate]

With --ablate, match alone: what each of its rules is worth on each half, as the points of agreement
lost when that rule is left out (negative: the rule costs agreement there).

With --llm-server the llm and hybrid judges ask the packaged model through llama.cpp's server (started
here on loopback and killed after a grace period, as tests/test_llamacpp.py does), the path a strong judge
takes: `judge: {name: llm, model: "openai:..."}`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fit_answers import ABSENT, fit_labels, fit_suite  # noqa: E402

from harness.core.cache import DEFAULT_DIR  # noqa: E402
from harness.models import embedded_gguf  # noqa: E402
from harness.models.llamacpp_server import llama_server  # noqa: E402
from harness.judges.calibration import grade_candidates, load_candidates, split, system_gaps  # noqa: E402
from harness.judges.match import RULES, MatchJudge  # noqa: E402
from harness.contexts import SharedModels, make_run_judge  # noqa: E402
from harness.suite import load_suite  # noqa: E402

HELD_OUT = ROOT / "tests" / "data" / "judge_heldout.yaml"


def labelled_sets(suite, fit) -> dict:
    """name -> (questions, labelled entries, whether the entries name the systems that gave them)."""
    sets = {"calibration": (suite.questions, suite.calibration, False),
            "held-out": (suite.questions, load_candidates(HELD_OUT, suite.questions, require_labels=True), False),
            "real": (suite.questions, suite.real_answers, True)}
    if fit is not None:
        sets["fit"] = (fit.questions, fit_labels(fit), True)
    return sets


def print_gaps(name: str, label: str, gaps: dict) -> None:
    print(f"\n{name}: judged against labelled accuracy per system, {label}")
    print(f"{'system':<12} {'n':>3} {'labelled':>9} {'judged':>7} {'gap (points)':>13}")
    for system, g in gaps.items():
        print(f"{system:<12} {g.n:>3} {g.labelled / g.n:>9.1%} {g.judged / g.n:>7.1%} {g.points:>+13.1f}")


def agreement(judge, questions, entries, half: str) -> float:
    return grade_candidates(judge, questions, [e for e in entries if split(e.q) == half])[1].agreement


def ablation(sets: dict, halves: list[str]) -> None:
    """Each rule's worth: match's agreement less match's without that rule, in points, per set and half."""
    columns = [(name, half) for name in sets for half in halves]
    full = MatchJudge()
    base = {(n, h): agreement(full, sets[n][0], sets[n][1], h) for n, h in columns}
    print(f"{'rule left out':<16}" + "".join(f"{n[:8] + ' ' + h:>15}" for n, h in columns))
    print(f"{'(none: match)':<16}" + "".join(f"{base[c]:>15.1%}" for c in columns))
    variants = {"hedge words": {"hedge_words": set()}}
    variants |= {rule.__name__.replace("_", " "): {"rules": tuple(r for r in RULES if r is not rule)} for rule in RULES}
    for label, attributes in variants.items():
        judge = MatchJudge()
        for attribute, value in attributes.items():
            setattr(judge, attribute, value)
        worth = [100 * (base[(n, h)] - agreement(judge, sets[n][0], sets[n][1], h)) for n, h in columns]
        print(f"{label:<16}" + "".join(f"{w:>+15.1f}" for w in worth))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judges", default="match,llm,hybrid")
    parser.add_argument("--cache-dir", default=str(ROOT / DEFAULT_DIR))
    parser.add_argument("--llm-server", action="store_true", help="the LLM judges through llama.cpp's server")
    parser.add_argument("--sets", default=None, help="label sets to grade, comma-separated (default: all)")
    parser.add_argument("--halves", default="dev,check", help="halves to grade (a slow judge: check alone)")
    parser.add_argument("--ablate", action="store_true", help="match only: each rule's worth, left out in turn")
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        if args.llm_server:
            url = stack.enter_context(llama_server(embedded_gguf(Path(args.cache_dir)), Path(folder) / "server.log",
                                                   "--n_ctx", "2048"))
            judge = suite.config.judge.model_copy(update={"model": f"openai:gemma3-270m@{url}"})
            suite = replace(suite, config=suite.config.model_copy(update={"judge": judge}))
        fit = fit_suite(Path(folder) / "fit-dev")
        if fit is None:
            print(f"{ABSENT}: the fit set is left out")
        sets = labelled_sets(suite, fit)
        if args.sets:
            sets = {name: sets[name] for name in args.sets.split(",")}
        if args.ablate:
            return ablation(sets, args.halves.split(","))
        for name in args.judges.split(","):
            judge = make_run_judge(SharedModels(suite, cache_dir=args.cache_dir), name)
            print(f"{'judge':<8} {'set':<12} {'half':<6} {'n':>4} {'agreement':>10} {'kappa':>7} {'unscored':>9} "
                  f"{'tp/fp/fn/tn':>14} {'s':>6}")
            for label, (questions, entries, by_system) in sets.items():
                for half in args.halves.split(","):
                    start = time.perf_counter()
                    mine = [e for e in entries if split(e.q) == half]
                    verdicts, a = grade_candidates(judge, questions, mine)
                    c = a.confusion
                    kappa = "–" if a.kappa is None else f"{a.kappa:.3f}"
                    print(f"{name:<8} {label:<12} {half:<6} {a.n:>4} {a.agreement:>10.1%} {kappa:>7} {a.unscored:>9} "
                          f"{c['tp']:>3}/{c['fp']}/{c['fn']}/{c['tn']:<3} {time.perf_counter() - start:>6.1f}")
                if by_system and args.halves == "dev,check":
                    print_gaps(name, f"{label} (both halves)", system_gaps(entries, grade_candidates(judge, questions,
                                                                                                   entries)[0]))
                    print()
            print()


if __name__ == "__main__":
    main()
