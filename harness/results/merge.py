"""``harness merge``: the parts of a sharded run (``--shard I/N``) joined into one run's results.

Rows are concatenated and the report is computed from them as for one run (analysis.build_report),
from the parts' own spec, so the merge's results.json, scorecard and report.html are a single
run's, timings apart, whatever order the parts are named in. Parts must come from one suite,
generator and judge, and hold no answer twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.core.errors import HarnessError
from harness.results.analysis import build_report
from harness.results.model import RunMeta, RunReport

SAME = ("suite", "suite_dir", "systems", "generator", "judge", "judge_model", "self_grading")  # every part shares


def merge_parts(parts: Sequence[tuple[Path, RunReport]]) -> RunReport:
    if not parts:
        raise HarnessError("nothing to merge: name the parts' results.json files")
    first_path, first = parts[0]
    rows = []
    seen: dict[tuple, Path] = {}
    for path, part in parts:
        for name in SAME:
            if getattr(part.spec, name) != getattr(first.spec, name):
                raise HarnessError(f"its {name} is {getattr(part.spec, name)!r}, {first_path}'s is "
                                   f"{getattr(first.spec, name)!r}: parts of one run only", path=path)
        for row in (*part.results, *part.changes):
            key = (row.system, row.id, row.condition, row.seed)
            if key in seen:
                raise HarnessError(f"{row.system} {row.id} is in {seen[key]} too: were the parts run with "
                                   "different --shard counts, or one part twice?", path=path)
            seen[key] = path
            rows.append(row)
    return build_report(first.spec, [r for r in rows if r.condition is None], _merged_meta([part.run for _, part in parts]),
                        [r for r in rows if r.condition is not None])


def _merged_meta(runs: Sequence[RunMeta]) -> RunMeta:
    """Every part's skips, crashes, training logs and costs; the judge's figures from the part that measured them
    (the first shard), wherever it stands in the list."""
    union = lambda field: {k: v for run in runs for k, v in getattr(run, field).items()}  # noqa: E731
    measured = lambda field: next((getattr(r, field) for r in runs if getattr(r, field) is not None), None)  # noqa: E731
    return runs[0].model_copy(update={
        "gate_enabled": True, "skipped": union("skipped"), "failed": union("failed"), "training": union("training"), "refreshed": union("refreshed"),
        "costs": union("costs"), "calibration": measured("calibration"), "real_answers": measured("real_answers")})
