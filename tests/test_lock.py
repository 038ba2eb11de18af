"""requirements.lock against pyproject.toml: every dependency locked, inside its range, and the lock closed."""
import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

LOCKED_EXTRAS = ("llamacpp", "test", "gptq")  # what `make setup-test` installs; colbert pins its own torch


def locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$", text, flags=re.M)}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [r for e in LOCKED_EXTRAS for r in project["optional-dependencies"][e]]
    return [Requirement(line) for line in lines]


def mismatches(lock: dict[str, str], requirements: list[Requirement]) -> list[str]:
    out = []
    for req in requirements:
        version = lock.get(canonicalize_name(req.name))
        if version is None:
            out.append(f"{req.name}: no lock entry")
        elif not req.specifier.contains(version, prereleases=True):
            out.append(f"{req.name}: locked {version}, pyproject says {req.specifier}")
    return out


def test_every_dependency_is_locked_inside_its_range():
    assert mismatches(locked(), declared()) == []


def test_the_check_catches_a_missing_entry_and_a_version_out_of_range():
    lock = {"transformers": "5.24.0"}
    found = mismatches(lock, [Requirement("transformers>=5.0,<5.24"), Requirement("peft>=0.17")])
    assert found == ["transformers: locked 5.24.0, pyproject says <5.24,>=5.0", "peft: no lock entry"]


def test_the_lock_is_closed_under_its_packages_own_requirements():
    """Each locked package installed here at its locked version: what it requires is locked too."""
    lock, missing, checked = locked(), [], 0
    for name, version in lock.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue
        checked += 1
        wanted = [Requirement(r) for r in dist.requires or []]
        missing += [f"{name} needs {r}" for r in wanted
                    if (r.marker is None or r.marker.evaluate({"extra": ""})) and mismatches(lock, [r])]
    assert missing == []
    assert checked > len(lock) * 0.9, "this environment is not the locked one: run `make setup-test`"
