"""The layering in pyproject.toml ([tool.importlinter]) holds, and the check catches an upward import."""
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT = Path(sys.executable).parent / "lint-imports"  # import-linter, from the test extra


def lint(root) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env={"PYTHONPATH": str(root)},
                          capture_output=True, text=True)


def test_each_layer_imports_only_the_layers_below_it():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path):
    for part in ("harness", "systems"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    cache = tmp_path / "harness" / "core" / "cache.py"
    cache.write_text(cache.read_text() + "\nfrom harness.render import scorecard  # noqa: E402,F401\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "harness.core is not allowed to import harness.render" in result.stdout
