"""The FIT development set of ../shared/corpora (a real rulebook nobody here wrote, and 40 questions on it)
as a suite built at run time, and the default systems' answers to it, labelled by hand
(tests/data/judge_fit_answers.yaml). Nothing of ../shared is copied into the project: the suite links to it."""
from __future__ import annotations

from pathlib import Path

from harness.judges.calibration import RealAnswer, load_real_answers
from harness.suite import Suite, load_suite

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
LABELS = ROOT / "tests" / "data" / "judge_fit_answers.yaml"
ABSENT = f"no FIT development set at {CORPORA}"


def fit_suite(folder: Path) -> Suite | None:
    """The suite in ``folder`` (linked to ../shared/corpora), or None when ../shared is absent."""
    questions = CORPORA / "fit-dev-questions.yaml"
    if not questions.is_file():
        return None
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "rules.md").symlink_to(CORPORA / "fit-touch-rules-5th-edition.md")
    (folder / "questions.yaml").symlink_to(questions)
    (folder / "suite.yaml").write_text("name: fit-dev\n")
    return load_suite(folder)


def fit_labels(suite: Suite) -> tuple[RealAnswer, ...]:
    return load_real_answers(LABELS, suite.questions, {s.name for s in suite.systems})
