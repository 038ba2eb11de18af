"""``--judge-replay FILE``: grade from a committed verdict file (a results.json), calling no judge.

A verdict is found by question id and the exact candidate text. One that is missing is an error,
so a replayed CI run cannot silently grade an answer it has never seen.
"""
from __future__ import annotations

import json
from pathlib import Path

from harness.core.errors import HarnessError
from harness.inputs.config import Question
from harness.judges import Verdict


class MissingVerdict(HarnessError):
    pass


class ReplayJudge:
    model = None

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data["results"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise HarnessError(f"not a verdict file (a results.json): {type(err).__name__}: {err}",
                               path=self.path) from None
        self.verdicts = {(r["id"], r["answer"]): r for r in rows if r.get("answer") is not None}
        self.identity = f"replay:{self.path.name}"

    def grade(self, question: Question, candidate: str) -> Verdict:
        row = self.verdicts.get((question.id, candidate))
        if row is None:
            raise MissingVerdict(f"no verdict for question {question.id} with answer {candidate!r}", path=self.path)
        if row.get("verdict_source") == "human":  # replay the judge, not the review that overruled it
            row = row.get("judge") or {}
        return Verdict(row.get("correct"), f"replayed: {row.get('explanation') or 'recorded verdict'}")
