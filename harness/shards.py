"""``--shard I/N``: this machine's part of the run, for a job scheduler's array (SLURM, Kubernetes).

The questions are dealt out in turn (question k of the suite to shard k mod N), so every shard
holds about 1/N of every system's questions, and the same shard always gets the same ones. The
tests that are not about one question (the judge's calibration, decontamination) run in shard 1.
Each shard writes its own results.json; ``harness merge`` joins them and applies the gate. A
shard does not train: adapters come from ``harness train``, run once into the shared cache.
"""
from __future__ import annotations

import argparse
import re
from typing import Callable, NamedTuple

import pytest

QUESTION_OF = pytest.StashKey[Callable[[pytest.Item], "int | None"]]()  # set by the plugin: position in the suite


class Shard(NamedTuple):
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, question: int | None) -> bool:
        return self.index == 1 if question is None else question % self.count == self.index - 1


def parse_shard(value: str) -> Shard:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"{value!r}: expected I/N with 1 <= I <= N, e.g. --shard 2/8")
    return Shard(int(match[1]), int(match[2]))


def shard_of(config: pytest.Config) -> Shard | None:
    return config.getoption("shard", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("harness").addoption(
        "--shard", type=parse_shard, default=None, metavar="I/N",
        help="run shard I of N (questions dealt out in turn); join the parts with `harness merge`")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = shard_of(config)
    if shard is None or QUESTION_OF not in config.stash:
        return
    question_of = config.stash[QUESTION_OF]
    mine, others = [], []
    for item in items:
        (mine if shard.holds(question_of(item)) else others).append(item)
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = mine


def pytest_report_header(config: pytest.Config) -> str | None:
    shard = shard_of(config)
    if shard is None:
        return None
    return (f"harness: shard {shard}: every {shard.count}th question from question {shard.index}; the gate is "
            f"applied by `harness merge`, and adapters come from the cache (`harness train` first)")
