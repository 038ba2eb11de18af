"""The plugin's writer of the reports: records collected from test reports (its own or xdist workers'),
the scorecard, results.json and report.html written once, at the end, by the controller alone."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.models.base import ChoosesDtype
from harness.render.publish import publish
from harness.render.terminal import summary_lines
from harness.results.compare import with_comparison
from harness.results.model import RunReport
from harness.results.records import Results, assemble
from harness.results.spec import spec_of
from harness.run import EvalRun
from harness.shards import shard_of
from harness.study.render import sections_beside

RECORD = "harness"  # user_properties key carrying one record
SYSTEM = "harness-system"  # user_properties key naming the system a test exercises
WRONG = "harness-wrong"  # user_properties key: this test failed on a wrong result, not a crash


def option_path(config: pytest.Config, option: str) -> Path:
    path = Path(config.getoption(option))
    return path if path.is_absolute() else Path(config.rootpath) / path



def _indexed_teardown_reports(reporter) -> None:
    """pytest's failure summary finds each failed test's teardown report by scanning every report
    (TerminalReporter._get_teardown_reports): quadratic, 80 of 132 s at 10,000 answers with 8,000
    wrong. One index, built when the summary first asks, gives the same reports."""
    if not hasattr(reporter, "_get_teardown_reports"):
        return
    index: dict[str, list] | None = None

    def lookup(node_id: str) -> list:
        nonlocal index
        if index is None:
            index = {}
            for report in reporter.getreports(""):
                if report.when == "teardown":
                    index.setdefault(report.nodeid, []).append(report)
        return index.get(node_id, [])

    reporter._get_teardown_reports = lookup



class ReportWriter:
    """Collects records from test reports (its own or xdist workers') and writes the reports once."""

    def __init__(self, config: pytest.Config, run: EvalRun, previous: tuple[str, RunReport] | None = None):
        self.config = config
        self.run = run
        self.previous = previous  # (label, report) of --compare-to
        self.results = Results()
        self.cached = {True: 0, False: 0}
        self.report = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when != "teardown":
            self._record_failure(report)
        if report.when != "teardown":  # every phase's report repeats the item's properties
            return
        for key, value in report.user_properties:
            if key == RECORD:
                self.results.add(value)
                if "cached" in value:
                    self.cached[value["cached"]] += 1

    def _record_failure(self, report: pytest.TestReport) -> None:
        """A system whose test errored or failed outright (not a wrong answer: that is xfail under
        --gate) is a crashed system: the gate must not pass on what it did not measure."""
        properties = dict(report.user_properties)
        system = properties.get(SYSTEM)
        if system is not None and not properties.get(WRONG):
            crash = getattr(report.longrepr, "reprcrash", None)  # the exception line, when there is one
            reason = crash.message if crash else next(
                (line.strip() for line in report.longreprtext.splitlines() if line.strip()), "failed")
            self.results.failed.setdefault(system, f"{reason} ({report.nodeid})")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            _indexed_teardown_reports(reporter)
        if not self.results:
            return
        run, config = self.run, self.config
        generator = run.models.generator
        dtype, why = generator.chosen_dtype() if isinstance(generator, ChoosesDtype) else (None, None)
        spec = spec_of(run.suite, run.systems, generator=generator.identity, judge=run.judge.identity,
                       judge_model=run.judge.model, self_grading=run.self_grading, generation=why,
                       generation_dtype=dtype)
        self.report = assemble(spec, self.results.rows(), run.reviews, gate_enabled=config.getoption("gate"),
                               **self.results.meta())
        if self.previous:
            self.report = with_comparison(self.report, self.previous[1], self.previous[0])
        scorecard = option_path(config, "scorecard")
        passed = publish(self.report, scorecard, option_path(config, "results_json"), sections_beside(scorecard.parent))
        gated = self.report.run.gate_enabled and shard_of(config) is None  # a shard's part is gated by `harness merge`
        if gated and not passed and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.report is None:
            return
        terminalreporter.section("harness")
        for line in summary_lines(self.report, self.cached):
            terminalreporter.write_line(line)
        config = self.config
        terminalreporter.write_line(f"scorecard: {config.getoption('scorecard')}   "
                                    f"results: {config.getoption('results_json')}")
