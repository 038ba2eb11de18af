"""Read a results.json of any schema version the harness wrote, migrated to the current RunReport.

Version 3 files stand alone. Versions 1 and 2 stored the rows and the run block, but not the
questions, the systems' settings or the thresholds: those are read once from the suite folder the
file names, and the report says so. A file that cannot be migrated is refused with one line.
"""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from harness.core.errors import HarnessError
from harness.results.analysis import build_report
from harness.results.model import (
    SCHEMA_VERSION,
    AgreementSummary,
    Environment,
    EvalSpec,
    RealAnswersSummary,
    Row,
    RunMeta,
    RunReport,
    SystemInfo,
    TrainingLog,
)
from harness.results.spec import judge_limits, system_info
from harness.suite import Suite, load_suite
from systems import FAMILIES

UNKNOWN = "not stored in schema version {}"


def _one_line(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg'].lower()}" if where else first["msg"].lower()
    return str(err)


def read_results_file(path: Path) -> RunReport:
    """A results.json written by the harness, migrated to this version, or a one-line HarnessError saying why not."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        if "schema_version" not in data and not {"suite", "results", "run"} <= set(data):
            raise ValueError("it has no schema_version, and not the suite, results and run of a version 1 file")
        version = data.get("schema_version", 1)
        if version == SCHEMA_VERSION:
            return RunReport.model_validate(data)
        if version == 3:  # 4 added the change study, all of it optional: a version 3 report is one without it
            return RunReport.model_validate({**data, "schema_version": SCHEMA_VERSION}).model_copy(
                update={"migrated_from": 3})
        if version in (1, 2):
            return _from_v2(data, version)
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise ValueError(f"schema_version {version} is newer than this harness reads ({SCHEMA_VERSION}): "
                             "upgrade the harness")
        raise ValueError(f"unknown schema_version {version!r}")
    except HarnessError as err:
        raise HarnessError(f"cannot migrate this results.json: {err}", path=path) from None
    except KeyError as err:
        raise HarnessError(f"not a harness results.json: {err} is missing", path=path) from None
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as err:
        raise HarnessError(f"not a harness results.json: {_one_line(err)}", path=path) from None


def _inferred(name: str, rows: list[Row], run: RunMeta, version: int) -> SystemInfo:
    """A system the suite no longer has: its family from what the file shows (training logs, retrieved chunks)."""
    retrieves = any(r.retrieved for r in rows if r.system == name)
    family = FAMILIES[retrieves, name in run.training]
    return SystemInfo(name=name, kind=UNKNOWN.format(version), family=family, retrieves=retrieves,
                      settings={"k": max((len(r.retrieved) for r in rows if r.system == name), default=0)})


def _systems(suite: Suite, names: list[str], rows: list[Row], run: RunMeta, version: int) -> list[SystemInfo]:
    known = {s.name for s in suite.systems}
    return [system_info(suite.system(n)) if n in known else _inferred(n, rows, run, version) for n in names]


def _from_v2(data: dict, version: int) -> RunReport:
    rows = TypeAdapter(dict[str, list[Row]]).validate_python({"results": data["results"]})["results"]
    old = data["run"]
    run = RunMeta(gate_enabled=old["gate_enabled"], skipped=old.get("skipped", {}), failed=old.get("failed", {}),
                  calibration=old.get("calibration") and AgreementSummary.model_validate(old["calibration"]),
                  real_answers=old.get("real_answers") and RealAnswersSummary.model_validate(old["real_answers"]),
                  training={k: TrainingLog.model_validate(v) for k, v in old.get("training", {}).items()})
    suite = load_suite(old["suite_dir"])  # the questions were not stored: they come from the suite, once
    ids = set(r.id for r in rows)
    if missing := sorted(ids - {q.id for q in suite.questions}):
        raise HarnessError(f"question {missing[0]!r} is no longer in the suite {suite.root}, and the file does "
                           "not store it")
    names = list(dict.fromkeys([*data.get("systems", {}), *(r.system for r in rows)]))
    unknown = UNKNOWN.format(version)
    spec = EvalSpec(
        suite=data["suite"], suite_dir=old["suite_dir"],
        corpus={"documents": len(suite.documents), "words": sum(len(d.text.split()) for d in suite.documents),
                "hash": f"{unknown}; the suite's corpus now: {suite.corpus_hash}"},
        questions=[q for q in suite.questions if q.id in ids], systems=_systems(suite, names, rows, run, version),
        example_answers=[e.answer for e in suite.config.examples],
        thresholds={s: t for s, t in suite.config.thresholds.items() if s in names}, judge_checks=judge_limits(suite),
        generator=old["generator"], judge=old["judge"], judge_model=old.get("judge_model"),
        self_grading=old.get("self_grading", False),
        environment=Environment(python=unknown, platform=unknown, cpu=unknown, versions={}, git_revision=None))
    report = build_report(spec, rows, run)
    report.migrated_from = version
    return report
