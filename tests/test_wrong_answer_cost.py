"""A wrong answer costs what a line of output costs: no traceback is collected or formatted for it."""
import json
import os
import shutil
import time

import pytest
from _pytest._code.code import ExceptionInfo
from _pytest.terminal import TerminalReporter

from conftest import ROOT
from synthetic_run import made_up_suite

QUESTIONS = 200


@pytest.fixture
def project(pytester, monkeypatch):
    """The real eval tests on a made-up suite, graded by a judge that says right (or wrong) to all but one."""
    shutil.copytree(ROOT / "evals", pytester.path / "evals", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "tests" / "fakes.py", pytester.path / "fakes.py")
    made_up_suite(pytester.path / "suite", QUESTIONS)
    (pytester.path / "suite" / "suite.yaml").write_text(json.dumps(
        {"name": "made-up", "generator": "fake:copy", "systems": ["baseline"]}))
    pytester.makeconftest("""
import fakes
from harness.judges import JUDGES, Verdict
pytest_plugins = ["harness.plugin"]

class Fixed:  # one verdict for every question but the first (an accuracy of 0 or 1 has no error bar)
    model = None
    def __init__(self, correct):
        self.correct, self.identity = correct, f"fixed-{correct}"
    def grade(self, question, candidate):
        return Verdict(self.correct != (question.id == "r00001"), "fixed")

JUDGES.register("right")(lambda config, ctx: Fixed(True))
JUDGES.register("wrong")(lambda config, ctx: Fixed(False))
""")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(pytester.path)]))
    return pytester


def counted_run(project, judge: str, *flags: str):
    """One run's outcome, wall time and number of exception records pytest made (each is a traceback
    to collect and, for a report, to format)."""
    made = []
    real = ExceptionInfo.from_exc_info.__func__
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExceptionInfo, "from_exc_info", classmethod(
            lambda cls, *args, **kwargs: made.append(1) or real(cls, *args, **kwargs)))
        reads = project.reads = []  # the terminal summary's scans of every passed report
        getreports = TerminalReporter.getreports
        patch.setattr(TerminalReporter, "getreports", lambda self, name="": (name == "" and reads.append(1))
                      or getreports(self, name))
        start = time.perf_counter()
        outcome = project.runpytest("evals/test_answers.py", "--suite", "suite", "-p", "no:cacheprovider", "-q",
                                    "--judge", judge, "--cache-dir", str(project.path / judge), *flags)
        seconds = time.perf_counter() - start
    return outcome, seconds, len(made)


@pytest.mark.parametrize("gate", [False, True], ids=["fail", "gate"])
def test_a_wrong_answer_costs_what_a_right_one_costs(project, gate):
    flags = ("--gate",) if gate else ()
    right, right_s, right_made = counted_run(project, "right", *flags)
    wrong, wrong_s, wrong_made = counted_run(project, "wrong", *flags)
    failed = "xfailed" if gate else "failed"
    right.assert_outcomes(passed=QUESTIONS - 1, **{failed: 1})
    wrong.assert_outcomes(passed=1, **{failed: QUESTIONS - 1})
    print(f"{QUESTIONS} answers: all but one right {right_s:.2f} s, all but one wrong {wrong_s:.2f} s")
    assert wrong_made == right_made  # not one traceback per wrong answer: before, a wrong answer cost 3-6x
    shown = wrong.stdout.str()
    line = "baseline answered 'unknown'; gold '"
    assert line in shown if not gate else "XFAIL" not in shown  # the one line; -rx would list xfails
    if not gate:
        # pytest's failure summary scanned every report once per failure: quadratic, 80 of 132 s at 10,000
        # answers (benchmarks/large_suite.py). The plugin's index reads them once.
        assert len(project.reads) <= 3, len(project.reads)
        assert "Traceback" not in shown and "def test_answer" not in shown  # no source, no traceback
        wrong.stdout.fnmatch_lines([f"FAILED evals/test_answers.py::test_answer[[]baseline-r00002[]] - baseline answer*"])
