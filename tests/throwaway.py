"""Running the real eval tests in the throwaway project (conftest's ``project`` fixture)."""
import json


def run(project, *args):
    return project.runpytest("evals", "--suite", "suite", "-p", "no:cacheprovider", "-rs", *args)


def results(project):
    return json.loads((project.path / "reports" / "results.json").read_text())
