import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester", "tiny_models"]  # tiny_models: the tiny_lm fixture

import fakes  # noqa: F401  (registers the fake generator and embedder)

# pytester's in-process runs drop the modules imported inside them, and compiled extensions
# (scipy under statsmodels, matplotlib) cannot be imported twice: import them once, up front.
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
