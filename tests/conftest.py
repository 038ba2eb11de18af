import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

import fakes  # noqa: F401  (registers the fake generator and embedder)

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "data" / "tiny"


@pytest.fixture
def tiny_suite(tmp_path) -> Path:
    """A writable copy of the tiny suite, for tests that break it on purpose."""
    return Path(shutil.copytree(TINY, tmp_path / "tiny"))
