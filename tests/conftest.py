import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester", "tiny_models"]  # tiny_models: the tiny_lm fixture

import fakes  # noqa: F401  (registers the fake generator and embedder)

# pytester's in-process runs drop the modules imported inside them, and compiled extensions
# (scipy under statsmodels, matplotlib) cannot be imported twice: import them once, up front.
import datasets  # noqa: E402,F401  (pyarrow registers its extension types once per process)
import matplotlib.pyplot  # noqa: E402,F401
import statsmodels.stats.contingency_tables  # noqa: E402,F401
import statsmodels.stats.inter_rater  # noqa: E402,F401
import statsmodels.stats.proportion  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "data" / "tiny"


@pytest.fixture
def tiny_suite(tmp_path) -> Path:
    """A writable copy of the tiny suite, for tests that break it on purpose."""
    return Path(shutil.copytree(TINY, tmp_path / "tiny"))


@pytest.fixture
def project(pytester, monkeypatch):
    """A throwaway project holding the real eval tests, the fakes and a copy of the tiny suite."""
    shutil.copytree(ROOT / "evals", pytester.path / "evals", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "tests" / "fakes.py", pytester.path / "fakes.py")
    shutil.copytree(TINY, pytester.path / "suite")
    pytester.makeconftest("""
import os

import fakes
import harness.plugin
import harness.render.scorecard
pytest_plugins = ["harness.plugin"]

# Count report writes in every process, to prove only the controller writes.
_write = harness.core.cache.write_atomic
def counting_write(path, text):
    with open(os.path.join(os.path.dirname(__file__), "writes.log"), "a") as log:  # not the cwd: it outlives the run
        log.write(str(path.name) + "\\n")
    _write(path, text)
harness.render.publish.write_atomic = counting_write
""")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(pytester.path)]))
    return pytester


MUST_RUN_IN_CI = "must_run_in_ci"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MUST_RUN_IN_CI}: with CI=true a skip fails the run (CI installs what it "
                                       "needs: a browser, llama-cpp-python)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped browser or llama.cpp test would silently test nothing: fail it instead."""
    report = yield
    if (report.skipped and not hasattr(report, "wasxfail") and os.environ.get("CI") == "true"
            and item.get_closest_marker(MUST_RUN_IN_CI)):
        why = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"must run in CI (CI=true) but was skipped: {why.removeprefix('Skipped: ')}"
    return report
