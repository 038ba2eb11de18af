"""``harness merge``: the parts of a sharded run (``--shard I/N``) joined into one run's results.

Rows are concatenated and the report is computed from them as for one run (analysis.build_report),
so the merge's results.json, scorecard and report.html are a single run's, timings apart. Parts
must come from one suite, generator and judge, and hold no answer twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.core.errors import HarnessError
from harness.results.model import ResultsFile, Row, RunMeta

SAME = ("suite_dir", "generator", "judge", "judge_model", "self_grading")  # what every part must share


def merge_parts(parts: Sequence[tuple[Path, ResultsFile]]) -> tuple[list[Row], RunMeta]:
    if not parts:
        raise HarnessError("nothing to merge: name the parts' results.json files")
    first_path, first = parts[0]
    rows: list[Row] = []
    seen: dict[tuple, Path] = {}
    for path, part in parts:
        for name in SAME:
            if getattr(part.run, name) != getattr(first.run, name):
                raise HarnessError(f"its {name} is {getattr(part.run, name)!r}, {first_path}'s is "
                                   f"{getattr(first.run, name)!r}: parts of one run only", path=path)
        for row in part.results:
            key = (row.system, row.id, row.seed)
            if key in seen:
                raise HarnessError(f"{row.system} {row.id} is in {seen[key]} too: were the parts run with "
                                   "different --shard counts, or one part twice?", path=path)
            seen[key] = path
            rows.append(row)
    return rows, _merged_meta([part.run for _, part in parts])


def _merged_meta(runs: Sequence[RunMeta]) -> RunMeta:
    union = lambda field: {k: v for run in runs for k, v in getattr(run, field).items()}  # noqa: E731
    calibration = next((run.calibration for run in runs if run.calibration is not None), None)
    return runs[0].model_copy(update={
        "gate_enabled": True, "skipped": union("skipped"), "failed": union("failed"),
        "training": union("training"), "calibration": calibration})
