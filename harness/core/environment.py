"""Is this Python environment one the harness can trust? One line naming each wrong package.

A package outside the ranges in pyproject.toml (missing, too old, or a release known to break
the harness) would otherwise surface as the same traceback in every test of every system that
touches it. The check reads the installed distributions' metadata only: nothing is imported.
"""
from __future__ import annotations

import os
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

DIST = "rag-vs-ft-harness"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
FIX = "install the tested versions with `make setup` (or `pip install -c requirements.lock -e .`)"


def requirements() -> list[Requirement]:
    """The harness's own base requirements (extras left out): from the checkout's pyproject.toml
    when there is one, else from the installed distribution."""
    if PYPROJECT.exists():
        lines = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    else:
        lines = metadata.requires(DIST) or []
    reqs = [Requirement(line) for line in lines]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def problems() -> list[str]:
    """One phrase per requirement the environment does not meet."""
    found = []
    for req in requirements():
        version = installed(req.name)
        if version is None:
            found.append(f"{req.name} is not installed (needs {req.specifier or 'any version'})")
        elif not req.specifier.contains(version, prereleases=True):
            found.append(f"{req.name} {version} is installed, the harness needs {req.name}{req.specifier}")
    return found


def check_line() -> str | None:
    """The one line to show when the environment is wrong, else None."""
    found = problems()
    if not found:
        return None
    return f"environment: {'; '.join(found)}. Fix: {FIX}"


def enforced() -> bool:
    """Whether a wrong environment stops `pytest evals`. ``HARNESS_ENV_CHECK=warn`` runs anyway, with
    the line in the header: for `make canary`, which must see what a newer release really breaks."""
    return os.environ.get("HARNESS_ENV_CHECK", "stop") != "warn"


# The packages whose versions change answers, training or grading: results.json records them.
RECORDED = ("torch", "transformers", "peft", "trl", "sentence-transformers", "llama-cpp-python", "bm25s",
            "statsmodels", "pytest")


def cpu_model() -> str:
    """The CPU's model name (Linux), else what the platform module says."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision() -> str | None:
    """The project's commit, with "-dirty" when the checkout has uncommitted changes; None outside git."""
    import subprocess

    root = PYPROJECT.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def snapshot() -> dict:
    """Where a run ran: Python, platform, CPU, the recorded packages' versions, the project's revision."""
    import platform

    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu_model(),
            "versions": {name: v for name in RECORDED if (v := installed(name))}, "git_revision": git_revision()}
