"""The pytest plugin: options, parametrization of the eval tests, result collection, reports, gate.

Collection only parses YAML: no torch, no model. Workers under xdist send their per-question
records to the controller inside test reports (``user_properties``); only the controller (or a
plain serial run) writes the scorecard and results.json, once, at the end.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from harness.core import environment, progress
from harness.core.cache import DEFAULT_DIR
from harness.core.errors import HarnessError, Unavailable
from harness.results.migrate import read_results_file
from harness.results.records import verdict_fields
from harness.run import Case, EvalRun, select_systems
from harness.suite import load_suite
from harness.shards import QUESTION_OF, shard_of
from harness.workers import SYSTEM_OF
from harness.models.base import ChoosesDtype
from harness.plugin.writer import RECORD, SYSTEM, WRONG, ReportWriter, option_path
from systems.base import Trained

# The plugin's parts (harness.workers: under -n, a system's tests on one worker, cores shared out;
# harness.shards: --shard, this machine's part of the run) are pytest11 entry points of their own,
# as pytest-xdist's are (pyproject.toml): pytest loads each once, before any of them is imported.

RUN = pytest.StashKey[EvalRun]()
CASE_ARGS = ("answer_case", "retrieval_case", "change_case")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "RAG vs fine-tuning evaluation harness")
    group.addoption("--suite", default="fixtures/touch_rugby", help="suite folder (default: %(default)s)")
    group.addoption("--systems", default=None, help="comma-separated systems to run (default: the suite's)")
    group.addoption("--generator", default=None, help="generator model: HF id, local path, or backend:model")
    group.addoption("--max-concurrency", type=int, default=None, metavar="N",
                    help="requests in flight to a server (default: the suite's generation.max_concurrency, 16)")
    group.addoption("--judge", default=None, help="judge name: match, llm, hybrid or a plugin (default: the suite's)")
    group.addoption("--judge-replay", default=None, metavar="FILE",
                    help="grade from a committed verdict file (a results.json); no judge is called")
    group.addoption("--gate", action="store_true",
                    help="exit status reflects the suite's thresholds; wrong answers are reported, not failed")
    group.addoption("--scorecard", default="reports/scorecard.md", help="markdown scorecard path")
    group.addoption("--results-json", default="reports/results.json", help="machine-readable results path")
    group.addoption("--cache-dir", default=DEFAULT_DIR, help="answers, embeddings, adapters, converted models")
    group.addoption("--no-train", action="store_true",
                    help="skip LoRA systems whose adapter is not cached, instead of training it")
    group.addoption("--compare-to", default=None, metavar="OLD.json",
                    help="compare with an earlier run's results.json; a significant drop fails the gate")


def start_eval_run(config: pytest.Config) -> None:
    """Load and validate the suite; called by evals/conftest.py so `pytest tests` never loads it."""
    if RUN in config.stash:
        return
    wrong = environment.check_line()
    if wrong and environment.enforced():  # before any model loads: otherwise the same traceback in every test
        raise pytest.UsageError(wrong)
    try:
        previous = config.getoption("compare_to")
        previous = (previous, read_results_file(Path(previous))) if previous else None
        suite = load_suite(option_path(config, "suite"))
        if config.getoption("max_concurrency"):
            suite = suite.with_generation(max_concurrency=config.getoption("max_concurrency"))
        systems = select_systems(suite, config.getoption("systems"))
        replay = config.getoption("judge_replay")
        config.stash[RUN] = EvalRun(suite, systems, generator=config.getoption("generator"),
                                    judge=config.getoption("judge"), cache_dir=option_path(config, "cache_dir"),
                                    judge_replay=Path(replay).resolve() if replay else None,
                                    no_train=config.getoption("no_train"), shard=shard_of(config) is not None)
    except HarnessError as err:
        raise pytest.UsageError(str(err)) from None
    if not _is_worker(config):  # the controller writes the reports, as junitxml does
        config.pluginmanager.register(ReportWriter(config, config.stash[RUN], previous), "harness-report-writer")
    run = config.stash[RUN]
    systems = {case_id(c): c.system for c in (*run.cases(False), *run.cases(True), *run.change_cases())}
    config.stash[SYSTEM_OF] = lambda nodeid: systems.get(nodeid.rpartition("[")[2].removesuffix("]"))
    position = {q.id: i for i, q in enumerate(config.stash[RUN].suite.questions)}
    config.stash[QUESTION_OF] = lambda item: next((position[c.question.id] for c in _cases(item)
                                                   if isinstance(c, Case)), None)


def case_id(case: Case) -> str:
    return f"{case.system}-{case.question.id}" + (f"-{case.condition}" if case.condition else "")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Long phases (conversion, embedding, training, generation) report past the output capture.
    capture = config.pluginmanager.getplugin("capturemanager")
    stream = sys.stderr if _is_worker(config) else sys.stdout  # the real terminal: capture is suspended now
    progress.attach(stream, capture.global_and_fixture_disabled if capture else contextlib.nullcontext)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """An eval session runs without pytest's log capture, which on every phase of every test walks all
    loggers (torch makes about 600): a sixth of the harness's own time at 2,000 answers. The eval tests
    log nothing a report would show; asked for (--log-cli-level, --log-file, log_cli), it stays."""
    config = session.config
    asked = config.getoption("log_cli_level", None) or config.getoption("log_file", None) or config.getini("log_cli")
    plugin = config.pluginmanager.get_plugin("logging-plugin")
    if RUN in config.stash and plugin is not None and not asked:
        config.pluginmanager.unregister(plugin)


def pytest_report_header(config: pytest.Config) -> list[str]:
    # `pytest tests` still runs on a wrong environment: the canary reads what breaks
    return [line for line in (environment.check_line(), _dtype_line(config), *_preset_lines(config)) if line]


def _preset_lines(config: pytest.Config) -> list[str]:
    """Said once, where the run starts: a selected system whose preset overrides suite.yaml's training.lora."""
    from harness.render.text import preset_line

    run = config.stash.get(RUN, None)
    return [preset_line(s.name, {k: (v, stated) for k, v, stated in s.preset}) for s in (run.systems if run else [])
            if s.preset]


def _dtype_line(config: pytest.Config) -> str | None:
    """The generator's dtype and why, when already decided on this machine: reading it imports no
    torch; a first run measures when the generator loads and says it in a progress line instead."""
    run = config.stash.get(RUN, None)
    generator = run.models.generator if run else None
    line = generator.cached_dtype_decision() if isinstance(generator, ChoosesDtype) else None
    return f"generation: {line}" if line else None


def pytest_unconfigure(config: pytest.Config) -> None:
    progress.detach()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for argname, cases_of in (("answer_case", lambda run: run.cases(False)),
                              ("retrieval_case", lambda run: run.cases(True)),
                              ("change_case", lambda run: run.change_cases())):
        if argname not in metafunc.fixturenames:
            continue
        run = metafunc.config.stash.get(RUN, None)
        if run is None:
            raise pytest.UsageError("eval tests need evals/conftest.py to call harness.plugin.start_eval_run")
        cases = list(cases_of(run))
        metafunc.parametrize(argname, cases, ids=[case_id(c) for c in cases], indirect=True)


def _cases(item: pytest.Item) -> list:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return [params[arg] for arg in CASE_ARGS if arg in params]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """An eval test with no case at all (say, retrieval tests when no selected system retrieves)
    is deselected, not run as pytest's "empty parameter set"."""
    if RUN not in config.stash:
        return
    empty = [item for item in items if any(not isinstance(c, Case) for c in _cases(item))]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]


def pytest_collection_finish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN, None)
    if run is None:
        return
    run.together = not _is_worker(session.config)  # a worker does not know which systems it will be sent
    for item in session.items:
        for case in _cases(item):
            wanted = run.wanted.setdefault((case.system, case.condition), [])
            if case.question.id not in wanted:
                wanted.append(case.question.id)


def _case(request: pytest.FixtureRequest) -> Case:
    case: Case = request.param
    run = request.config.stash[RUN]
    request.node.user_properties.append((SYSTEM, case.system))  # a crash in this test is the system's
    try:
        system = run.system(case.system, case.condition)
    except Unavailable as why:
        request.node.user_properties.append((RECORD, {"system": case.system, "skipped": str(why)}))
        pytest.skip(f"{case.system}: {why}")
    trained = (case.system, case.condition and case.condition != "stale")  # stale: the ordinary run's adapter
    if isinstance(system, Trained) and trained not in run.reported_training:  # once per system per process
        run.reported_training.add(trained)
        entry = {"system": case.system, "training": system.training_log}
        if trained[1]:
            entry["condition"] = "refreshed"
        request.node.user_properties.append((RECORD, entry))
    return case


@pytest.fixture
def answer_case(request: pytest.FixtureRequest) -> Case:
    return _case(request)


@pytest.fixture
def retrieval_case(request: pytest.FixtureRequest) -> Case:
    return _case(request)


@pytest.fixture
def change_case(request: pytest.FixtureRequest) -> Case:
    return _case(request)


@pytest.fixture(scope="session")
def eval_run(pytestconfig: pytest.Config) -> EvalRun:
    return pytestconfig.stash[RUN]


@pytest.fixture
def record(request: pytest.FixtureRequest, eval_run: EvalRun):
    """Attach what this test learned about (system, question) to its report."""
    def add(case: Case, *, answer=None, verdict=None, retrieved=None, seed=None, change_class=None) -> dict:
        entry: dict = {"system": case.system, "id": case.question.id}
        if seed is not None:  # one of several adapters trained with different seeds
            entry["seed"] = seed
        if case.condition is not None:  # the change study's
            entry["condition"] = case.condition
        if change_class is not None:
            entry["change_class"] = change_class
        if answer is not None:
            entry.update(answer=answer.text, seconds=answer.seconds, cached=answer.cached, debris=answer.debris,
                         prompt_tokens=answer.prompt_tokens)
            retrieved = answer.retrieved if retrieved is None else retrieved
        if verdict is not None:
            entry.update(verdict_fields(verdict))
        if retrieved is not None:
            entry["retrieved"] = [{"source": h.source, "text": h.text, "score": h.score} for h in retrieved]
            if case.question.evidence:
                entry["evidence_rank"] = eval_run.evidence_rank(case.question, retrieved, case.condition)
        request.node.user_properties.append((RECORD, entry))
        # what this process measured of the system's cost so far; the controller keeps the last report
        request.node.user_properties.append((RECORD, {"system": case.system, "cost": eval_run.cost(case.system)}))
        return entry
    return add


@pytest.fixture
def record_calibration(request: pytest.FixtureRequest):
    """Attach the judge's agreement with one set of the suite's human labels to this test's report;
    ``labels`` names the set: "calibration" or "real_answers"."""
    def add(summary: dict, labels: str = "calibration") -> None:
        request.node.user_properties.append((RECORD, {labels: summary}))
    return add


def _one_line_errors():
    # Bad input met mid-run (LoRA settings the model cannot take, a missing replayed verdict)
    # is one line, not a traceback.
    try:
        return (yield)
    except HarnessError as err:
        message = str(err)
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


pytest_runtest_setup = pytest.hookimpl(wrapper=True)(lambda item: (yield from _one_line_errors()))
pytest_runtest_call = pytest.hookimpl(wrapper=True)(lambda item: (yield from _one_line_errors()))


WRONG_RESULT = pytest.StashKey[str]()  # the one-line report of a test's wrong result


@pytest.fixture
def check(request: pytest.FixtureRequest):
    """Fail on a wrong result; under --gate, report it as xfail and let the thresholds decide.

    Nothing is raised: the message is kept, and the test's report is turned into a failure (or an
    xfail) carrying that one line (pytest_runtest_makereport below). An exception would make pytest
    collect and format a traceback for every wrong answer, most of a 10,000-answer run. So a check
    does not stop its test: each is its test's last statement."""
    def verify(ok: bool | None, message: str) -> None:
        if ok:
            return
        request.node.user_properties.append((WRONG, True))  # a measured result, not a crash
        request.node.stash.setdefault(WRONG_RESULT, message)
    return verify


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    message = item.stash.get(WRONG_RESULT, None)
    if call.when == "call" and message is not None and report.passed:
        if item.config.getoption("gate"):
            report.outcome, report.wasxfail = "skipped", message  # what pytest.xfail() leads to
        else:
            report.outcome, report.longrepr = "failed", message  # a plain-text longrepr, as pytest's XPASS(strict)
    return report


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")
