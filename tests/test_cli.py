"""`harness judge` and `harness report`, called through main() as a user would call them."""
import json
import re

import pytest

from harness.cli import main


def write(path, text):
    path.write_text(text)
    return str(path)


def test_judge_prints_verdicts_and_agreement(tiny_suite, tmp_path, capsys):
    candidates = write(tmp_path / "c.yaml", '- {q: t1, candidate: "9 players", label: true}\n'
                                            '- {q: t1, candidate: "7 or 9", label: true}\n'
                                            '- {q: t2, candidate: "Half an hour"}\n')
    assert main(["judge", "--suite", str(tiny_suite), "--candidates", candidates, "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "t1     correct    '9 players' (matches '9')" in out
    assert "t1     incorrect  '7 or 9' (hedges between alternatives around '9')   <- human says correct" in out
    assert "agreement 1/2 (50.0%)" in out
    assert "correct/correct 1, correct/incorrect 0, incorrect/correct 1, incorrect/incorrect 0" in out


def test_judge_json(tiny_suite, tmp_path, capsys):
    candidates = write(tmp_path / "c.yaml", '- {q: t2, candidate: "thirty minutes", label: true}\n')
    main(["judge", "--suite", str(tiny_suite), "--candidates", candidates, "--json", "--cache-dir", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert data["verdicts"][0]["correct"] is True and data["agreement"]["agreement"] == 1.0


@pytest.mark.parametrize("text, message", [
    ('- {q: t9, candidate: "x", label: true}\n', r"c\.yaml:1: unknown question id 't9' \(did you mean 't\d'\?\)"),
    ('- {q: t1, candidate: "x", label: "yes"}\n', r"c\.yaml:1: question t1: label must be true or false, not 'yes'"),
    ('- {q: t1, candidate: "x"}\n- {q: t2, candidate: "y"}\n- {q: t1, candidate: " X "}\n',
     r"c\.yaml:3: question t1: duplicate entry \(first on line 1\)"),
    ('- {q: t1, candidat: "x"}\n', r"c\.yaml:1: question t1: unknown field 'candidat' \(did you mean 'candidate'\?\)"),
])
def test_bad_candidates_file_is_one_line(tiny_suite, tmp_path, capsys, text, message):
    candidates = write(tmp_path / "c.yaml", text)
    assert main(["judge", "--suite", str(tiny_suite), "--candidates", candidates]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1


def test_bad_calibration_file_stops_the_suite(tiny_suite):
    from harness.core.errors import HarnessError
    from harness.suite import load_suite

    (tiny_suite / "judge_calibration.yaml").write_text('- {q: t1, candidate: "9"}\n')
    with pytest.raises(HarnessError, match=r"judge_calibration\.yaml:1: question t1: missing label"):
        load_suite(tiny_suite)


def test_report_rejects_a_file_that_is_not_results_json(tmp_path, capsys):
    assert main(["report", "--results-json", write(tmp_path / "r.json", "{}")]) == 2
    assert "r.json: not a harness results.json: it has no schema_version" in capsys.readouterr().err
