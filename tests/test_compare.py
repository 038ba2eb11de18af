"""results.json stands alone: `harness compare` of two runs, `harness report` without the suite folder,
and an older file migrated on read."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_run import run_report
from test_verdict import _rows

from harness.cli import main
from harness.results.migrate import read_results_file
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def suite(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "touch_rugby", tmp_path / "suite")
    return load_suite(tmp_path / "suite")


def _write(report, path: Path) -> str:
    path.write_text(report.to_json())
    return str(path)


def _flip(rows, system: str, ids: set[str], right: bool):
    return [r.model_copy(update={"correct": right, "answer": "Planted."}) if r.system == system and r.id in ids else r
            for r in rows]


def test_a_planted_regression_fails_and_lists_every_flipped_answer(suite, tmp_path, capsys):
    rows = _rows(suite, {"baseline": 0.1, "rag-minilm": 0.9})
    right = {r.id for r in rows if r.system == "rag-minilm" and r.correct}
    worse = _flip(rows, "rag-minilm", set(sorted(right)[:20]), False)
    old, new = _write(run_report(suite, rows), tmp_path / "old.json"), _write(run_report(suite, worse), tmp_path / "new.json")
    assert main(["compare", old, new]) == 0  # reported, not failed, without --fail-on-regression
    capsys.readouterr()
    assert main(["compare", old, new, "--fail-on-regression", "--out", str(tmp_path / "cmp")]) == 1
    out = capsys.readouterr().out
    assert "| rag-minilm |" in out and "REGRESSION: significantly worse: 20 right → wrong, 0 wrong → right" in out
    assert len(re.findall(r"\| q\d+ \| right → wrong \| .* \| Planted\. \|", out)) == 20 and "| baseline |" in out and "no significant change" in out
    assert "1 regression(s): rag-minilm" in out
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert len(re.findall(r"\| q\d+ \| right → wrong \|", md)) == 20
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "<h2>Against " in html and "REGRESSION" in html


def test_an_improvement_and_an_added_question_are_reported_and_pass(suite, tmp_path, capsys):
    rows = _rows(suite, {"baseline": 0.1, "rag-minilm": 0.2}, seed=2)
    wrong = {r.id for r in rows if r.system == "rag-minilm" and not r.correct}
    better = _flip(rows, "rag-minilm", set(sorted(wrong)[:25]), True)
    smaller = suite.questions[:-1]
    old_suite = suite.__class__(**{**suite.__dict__, "questions": smaller})
    old = _write(run_report(old_suite, [r for r in rows if r.id in {q.id for q in smaller}]), tmp_path / "old.json")
    new = _write(run_report(suite, better), tmp_path / "new.json")
    assert main(["compare", old, new, "--fail-on-regression"]) == 0
    out = capsys.readouterr().out
    assert f"added {suite.questions[-1].id}" in out and "improved" in out and "REGRESSION" not in out


def test_another_suites_results_are_refused_with_one_line(suite, tmp_path, capsys):
    rows = _rows(suite, {"baseline": 0.1})
    old = _write(run_report(suite, rows), tmp_path / "old.json")
    other = json.loads(Path(old).read_text())
    other["spec"]["suite"] = "another"
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert main(["compare", old, str(tmp_path / "other.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot compare runs of different suites" in err and "Traceback" not in err


def test_report_needs_only_the_results_file(suite, tmp_path):
    path = _write(run_report(suite, _rows(suite, {"baseline": 0.1, "rag-minilm": 0.4})), tmp_path / "results.json")
    shutil.rmtree(suite.root)
    done = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--results-json", path],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    card = (tmp_path / "scorecard.md").read_text()
    assert "## Verdict" in card and "| rag-minilm (best of its family) | retrieval |" in card and (tmp_path / "cost.png").is_file()
    assert "verdict: " in done.stdout


def _as_version_2(report) -> dict:
    """The same run as a schema version 2 file wrote it: rows and the run block, no spec, no analysis."""
    data = json.loads(report.to_json())
    spec, run = data["spec"], data["run"]
    for row in data["results"]:
        row.pop("prompt_tokens", None)
    return {"schema_version": 2, "suite": spec["suite"], "systems": {name: {} for name in data["analysis"]["systems"]},
            "results": data["results"],
            "run": {"suite_dir": spec["suite_dir"], "generator": spec["generator"], "judge": spec["judge"],
                    "judge_model": None, "self_grading": False, "gate_enabled": True, "skipped": {}, "failed": {},
                    "calibration": run["calibration"], "training": {}}}


def test_a_version_2_file_is_migrated_and_refused_only_when_it_cannot_be(suite, tmp_path):
    report = run_report(suite, _rows(suite, {"baseline": 0.1, "raft": 0.6}))
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(_as_version_2(report)))
    migrated = read_results_file(path)
    assert migrated.migrated_from == 2 and migrated.spec.questions == report.spec.questions
    assert migrated.analysis.systems == report.analysis.systems and migrated.analysis.verdict == report.analysis.verdict
    assert main(["report", "--results-json", str(path)]) == 0
    assert "migrated** from a schema version 2 file" in (tmp_path / "scorecard.md").read_text()
    shutil.rmtree(suite.root)  # a version 2 file does not hold its questions: without the suite, no migration
    with pytest.raises(Exception, match=r"v2\.json: cannot migrate this results\.json: .*suite folder not found"):
        read_results_file(path)
    path.write_text(json.dumps({**_as_version_2(report), "schema_version": 9}))
    with pytest.raises(Exception, match="schema_version 9 is newer than this harness reads"):
        read_results_file(path)
