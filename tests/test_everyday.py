"""Everyday command-line variations on the tiny suite: none may crash, and none may mislead."""
import json

import pytest
from throwaway import results, run


@pytest.mark.parametrize("systems, expected", [
    ("baseline", {"failed": 5}),  # no system retrieves: the retrieval tests are deselected, not NOTSET
    ("rag-bow", {"passed": 10}),
    ("baseline,rag-bow", {"passed": 10, "failed": 5}),
    ("rag-bow,baseline,rag-bow", {"passed": 10, "failed": 5}),  # a repeated name runs once
])
def test_any_selection_of_systems_collects_and_runs(project, systems, expected):
    outcome = run(project, "--systems", systems, "-p", "no:randomly", "--deselect", "evals/test_judge.py",
                  "--deselect", "evals/test_decontamination.py")
    assert "INTERNALERROR" not in outcome.stdout.str() + outcome.stderr.str()
    outcome.assert_outcomes(**expected)
    data = results(project)
    assert sorted(data["analysis"]["systems"]) == sorted(set(systems.split(",")))
    assert data["run"]["failed"] == {}  # wrong answers fail their tests, but no system crashed
    assert "CRASHED" not in outcome.stdout.str()


def test_retrieval_tests_with_no_retrieving_system_are_deselected(project):
    outcome = project.runpytest("evals/test_retrieval.py", "--suite", "suite", "--systems", "baseline",
                                "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in outcome.stdout.str()
    assert outcome.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    outcome.stdout.fnmatch_lines(["*1 deselected*"])


def test_a_k_filter_that_matches_nothing_is_no_crash(project):
    outcome = run(project, "-k", "no_such_system", "--gate")
    assert "INTERNALERROR" not in outcome.stdout.str()
    assert outcome.ret == pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_gate_summary_is_printed_once_and_names_what_was_left_out(project, workers):
    outcome = run(project, "--gate", "--systems", "rag-bow", *workers)
    assert outcome.ret == 0
    text = outcome.stdout.str()
    assert text.count("gate PASSED") == 1
    outcome.stdout.fnmatch_lines(["gate PASSED: * thresholds hold; not measured in this run*: baseline"])


def test_a_crashed_system_fails_the_gate_with_its_reason(project):
    suite = project.path / "suite" / "suite.yaml"
    # An embedder that exists in the registry but fails while building: its system crashes.
    suite.write_text(suite.read_text().replace("embedder: bow", "embedder: broken"))
    project.makeconftest(project.path.joinpath("conftest.py").read_text() + """
from harness.retrieval.embedders import EMBEDDERS

@EMBEDDERS.register("broken")
def broken(generator):
    raise RuntimeError("the embedder fell over")
""")
    outcome = run(project, "--gate")
    assert outcome.ret == pytest.ExitCode.TESTS_FAILED
    text = outcome.stdout.str()
    assert "gate PASSED" not in text
    outcome.stdout.fnmatch_lines(["gate FAILED:*", "*FAIL*rag-bow answer_accuracy*crashed:*embedder fell over*"])
    assert "embedder fell over" in results(project)["run"]["failed"]["rag-bow"]


def test_chunking_overlap_error_names_the_block_and_line(project):
    suite = project.path / "suite" / "suite.yaml"
    suite.write_text(suite.read_text().replace("chunking: {tokens: 10, overlap: 2}", "chunking: {tokens: 10, overlap: 10}"))
    outcome = run(project)
    line = next(i for i, text in enumerate(suite.read_text().splitlines(), 1) if text.startswith("chunking"))
    outcome.stderr.fnmatch_lines([f"*suite/suite.yaml:{line}: field 'chunking': overlap (10) must be smaller "
                                  "than tokens (10)*"])
    assert "Traceback" not in outcome.stderr.str()


def test_results_json_is_strict_json_even_with_a_nan_score(project):
    conftest = project.path / "conftest.py"
    # An embedder whose vectors are NaN: its entries are refused by the cache and the run says so.
    conftest.write_text(conftest.read_text() + """
import numpy as np
from harness.retrieval.embedders import EMBEDDERS
import fakes

class Nan(fakes.BagOfWords):
    identity = "nan-8"

    def embed(self, texts):
        return np.full((len(texts), 8), np.nan, dtype=np.float32)

EMBEDDERS.register("nan")(lambda generator: Nan())
""")
    suite = project.path / "suite" / "suite.yaml"
    suite.write_text(suite.read_text().replace("embedder: bow", "embedder: nan"))
    outcome = run(project)
    outcome.stdout.fnmatch_lines(["*system rag-bow: the embedding came out with NaN or infinite values; it was not cached*"])
    text = (project.path / "reports" / "results.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"results.json holds {name}"))


def test_top_k_beyond_the_corpus_stops_in_one_line_before_generating(project):
    suite = project.path / "suite" / "suite.yaml"
    suite.write_text(suite.read_text().replace("top_k: 2", "top_k: 1000"))
    outcome = run(project, "--systems", "rag-bow")
    outcome.stdout.fnmatch_lines(["*system rag-bow: k=1000 is more than the corpus's * chunks; lower k (top_k in "
                                  "suite.yaml)*"])
    assert "Traceback" not in outcome.stdout.str()
    assert "answers generated now: 0" in outcome.stdout.str()


def test_a_prompt_beyond_the_context_stops_in_one_line_before_generating(tiny_lm, tmp_path):
    """The tiny model reads 256 tokens: a long question is refused before any generation."""
    from harness.core.errors import PromptTooLong
    from harness.inputs.config import Generation
    from harness.models import HFGenerator
    from harness.models.prompts import PromptParts

    generator = HFGenerator(str(tiny_lm), Generation(max_new_tokens=8, dtype="float32"), tmp_path)
    long = PromptParts("", (), ("the ball is orange . " * 60,), "how many players ?")
    with pytest.raises(PromptTooLong, match=r"the prompt is \d+ tokens, plus 8 to generate, but .* reads at most 256"):
        generator.generate([PromptParts("", (), None, "how many players ?"), long])
