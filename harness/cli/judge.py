"""``harness judge``: grade a YAML list of candidate answers and compare the verdicts with your labels."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.core.cache import DEFAULT_DIR


def run(args: argparse.Namespace) -> int:
    from harness.judges.calibration import grade_candidates, load_candidates
    from harness.contexts import SharedModels, make_run_judge
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


def register(sub) -> None:
    judge = sub.add_parser("judge", help="grade a YAML list of {q, candidate, label} and compare with the labels")
    judge.add_argument("--suite", required=True)
    judge.add_argument("--candidates", required=True)
    judge.add_argument("--judge", default=None, help="default: the suite's judge")
    judge.add_argument("--json", action="store_true")
    judge.add_argument("--cache-dir", default=DEFAULT_DIR)
    judge.set_defaults(func=run)
