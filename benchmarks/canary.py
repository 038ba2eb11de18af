"""Canary: the newest releases pyproject.toml names, without the lock or its upper bounds, under `make test`.

Not part of CI. It installs into a scratch venv (.cache/canary-venv), lists every package whose
version differs from requirements.lock, runs the library's tests, and, when some fail, puts the
locked version of one changed direct dependency back at a time and reruns the failed tests: an
upgrade whose revert makes a test pass is named as what broke it.

    make canary     (the Makefile passes its llama.cpp build flags)

torch stays at the pyproject pin: a newer release here is a CUDA build of several GB.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "canary-venv"
PY = VENV / "bin" / "python"
EXTRAS = ("llamacpp", "test", "gptq")  # the ones `make test` installs


def unbounded(line: str) -> str:
    """The requirement with its upper bounds dropped; exact pins (==) are deliberate and kept."""
    req = Requirement(line)
    kept = [str(s) for s in req.specifier if s.operator not in ("<", "<=", "~=", "!=")]
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{','.join(kept)}"


def project_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    return lines


def lock_versions(text: str) -> dict[str, str]:
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, flags=re.M)}


def pip(*args: str) -> None:
    # CMAKE_ARGS comes from `make canary`: llama.cpp is built with the Makefile's flags.
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--no-compile", *args], check=True)


def install_newest() -> dict[str, str]:
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip("torch==2.13.0")
    pip("--upgrade", "--upgrade-strategy", "eager", *(unbounded(line) for line in project_requirements()))
    pip("--no-deps", "-e", str(ROOT))
    frozen = subprocess.run([str(PY), "-m", "pip", "freeze", "--exclude-editable"], check=True,
                            capture_output=True, text=True).stdout
    return lock_versions(frozen)


def failed_tests(select: list[str] | None = None) -> tuple[dict[str, str], str]:
    """The tests that failed or errored (node id -> the first line of why), and pytest's closing line."""
    report = VENV / "junit.xml"
    # The harness's own range check would stop every eval run on a capped release: warn instead, to see
    # what the release itself breaks.
    proc = subprocess.run([str(PY), "-m", "pytest", *(select or ["tests"]), "-q", "-p", "no:cacheprovider",
                           f"--junitxml={report}"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HARNESS_ENV_CHECK": "warn"})
    tail = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    failed = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is not None:
            module = case.get("classname", "").replace(".", "/")
            message = (problem.get("message") or "").strip()
            failed[f"{module}.py::{case.get('name')}"] = message.splitlines()[0][:200] if message else ""
    return failed, tail


def blame(changed: dict[str, tuple[str, str]], failing: dict[str, str]) -> dict[str, list[str]]:
    """For each changed direct dependency: the failing tests that pass again with its locked version."""
    direct = {canonicalize_name(Requirement(line).name) for line in project_requirements()}
    culprits = {}
    for name in sorted(n for n in changed if n in direct):
        locked, newest = changed[name]
        pip("--no-deps", f"{name}=={locked}")
        still, _ = failed_tests(list(failing))
        pip("--no-deps", f"{name}=={newest}")
        fixed = [t for t in failing if t not in still]
        if fixed:
            culprits[name] = fixed
            print(f"  reverting {name} {newest} -> {locked} fixes {len(fixed)} of {len(failing)}", flush=True)
    return culprits


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    locked = lock_versions((ROOT / "requirements.lock").read_text())
    print("canary: installing the newest allowed releases (upper bounds dropped) into", VENV, flush=True)
    newest = install_newest()
    changed = {n: (locked[n], v) for n, v in newest.items() if n in locked and locked[n] != v}
    added = sorted(set(newest) - set(locked))
    print(f"{len(changed)} packages differ from requirements.lock:")
    for name, (old, new) in sorted(changed.items()):
        print(f"  {name}: {old} -> {new}")
    if added:
        print("  new:", ", ".join(f"{n} {newest[n]}" for n in added))
    failing, tail = failed_tests()
    print("make test on the newest releases:", tail)
    if not failing:
        print("canary: no upgrade breaks the tests; `make lock` then `make test` would take them.")
        return 0
    for test, why in failing.items():
        print(f"  failed: {test}: {why}")
    culprits = blame(changed, failing)
    for name, tests in culprits.items():
        print(f"canary: {name} {changed[name][1]} breaks {len(tests)} test(s): {', '.join(tests[:5])}")
    unexplained = set(failing) - {t for tests in culprits.values() for t in tests}
    if unexplained:
        print(f"canary: {len(unexplained)} failure(s) no single revert explains: {', '.join(sorted(unexplained)[:5])}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
