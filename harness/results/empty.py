"""Empty answers, counted apart: a model that stops before writing anything scores as merely wrong.

An empty or whitespace-only answer is a generation failure (a reply that stopped at its first token, a
cut that left nothing), not a wrong fact; the scorecard says so once per system. ``None`` is a
question the system did not answer, which is reported elsewhere and not counted here.
"""
from __future__ import annotations

from typing import Sequence

from harness.results.model import Row


def empty_answer_warnings(rows: Sequence[Row]) -> list[str]:
    """One line per system with any empty answer (every seed's answer counts), in the rows' order."""
    lines = []
    for name in dict.fromkeys(r.system for r in rows):
        answered = [r.answer for r in rows if r.system == name and r.answer is not None]
        empty = sum(not a.strip() for a in answered)
        if empty:
            lines.append(f"{name} gave {empty} empty answer{'s' if empty > 1 else ''} of {len(answered)}: "
                         "the model stopped before writing any text, and each is graded wrong; check the "
                         "system's prompt style and stop rules")
    return lines
