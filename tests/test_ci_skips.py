"""With CI=true, a browser or llama.cpp test that skips fails the run (tests/conftest.py)."""
import pytest

from conftest import ROOT

MUST_RUN = """
import pytest

pytestmark = pytest.mark.must_run_in_ci

def test_in_the_browser():
    pytest.skip("no headless browser")

@pytest.mark.skipif(True, reason="needs llama-cpp-python")
def test_with_llama_cpp():
    pass

@pytest.mark.xfail(reason="a known bug")
def test_expected_to_fail():
    assert False
"""
OPTIONAL = """
import pytest

def test_optional():
    pytest.skip("optional")
"""


@pytest.fixture
def project(pytester):
    """The real tests/conftest.py beside one module of must-run tests and one of ordinary ones."""
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_must_run=MUST_RUN, test_optional=OPTIONAL)
    return pytester


def test_in_ci_a_skipped_must_run_test_fails_the_run_with_one_line(project, monkeypatch):
    monkeypatch.setenv("CI", "true")
    outcome = project.runpytest("-p", "no:cacheprovider", "-rfE")
    # the skip in the body fails its call; the skipif fails its setup, which pytest counts as an error
    outcome.assert_outcomes(failed=1, errors=1, skipped=1, xfailed=1)
    why = "must run in CI (CI=true) but was skipped"
    outcome.stdout.fnmatch_lines([f"FAILED test_must_run.py::test_in_the_browser - {why}: no headless browser",
                                  f"ERROR test_must_run.py::test_with_llama_cpp - {why}: needs llama-cpp-python"])


@pytest.mark.parametrize("ci", ["false", None])
def test_outside_ci_the_same_tests_skip(project, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=3, xfailed=1)
