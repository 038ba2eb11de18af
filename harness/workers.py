"""Under pytest-xdist (``-n``): each system's tests on one worker, and each worker its share of the cores.

A system answers all its selected questions in one batched pass; split across workers, every
worker would generate the whole batch. xdist's own ``loadgroup`` cannot keep them together here:
it renames each test (``nodeid@group``) by assigning ``item._nodeid``, which pytest 9.2 no longer
reads. So the plugin brings a scheduler of its own (xdist's ``pytest_xdist_make_scheduler``):
xdist's scope scheduling, with the system as the scope. torch and the tokenizers read their
thread counts from the environment when first imported, which collection never does.
"""
from __future__ import annotations

import os
from typing import Callable

import pytest

from harness.core.threads import GENERATION_THREADS, generation_threads

SYSTEM_OF = pytest.StashKey[Callable[[str], "str | None"]]()  # set by the plugin: a test's system, or None
THREADS = "harness_threads"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS")  # torch, MKL, tokenizers


def _ours(config: pytest.Config) -> bool:
    """-n with no --dist named: the distribution is the plugin's to choose."""
    named = any(arg == "--dist" or arg.startswith("--dist=") for arg in config.invocation_params.args)
    return getattr(config.option, "dist", "no") == "load" and not named


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and THREADS in workerinput:
        os.environ[GENERATION_THREADS] = str(workerinput[GENERATION_THREADS])
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, str(workerinput[THREADS]))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Controller side, once per worker it starts: the worker's share of the cores."""
    node.workerinput[THREADS] = threads_per_worker(node.workerinput["workercount"])
    node.workerinput[GENERATION_THREADS] = generation_threads()  # answers must not depend on -n


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if not _ours(config) or SYSTEM_OF not in config.stash:
        return None
    from xdist.scheduler import LoadScopeScheduling

    system_of = config.stash[SYSTEM_OF]

    class BySystem(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return system_of(nodeid) or nodeid  # a test of no system (the judge's) is a scope alone

    return BySystem(config, log)


def pytest_report_header(config: pytest.Config) -> str | None:
    workers = getattr(config.option, "numprocesses", None)
    if not workers or getattr(config, "workerinput", None) is not None:
        return None
    how = "each system's tests on one worker" if _ours(config) else \
        f"--dist {config.option.dist}: a system's tests may be split, its batch generated on each worker"
    return f"harness: {workers} workers, {how}; {threads_per_worker(workers)} torch thread(s) each " \
           f"({os.cpu_count()} cores), {generation_threads()} for generation, one worker at a time"
