"""Bad input stops with one line naming the file, line and question id."""
import re

import pytest

from harness.core.errors import HarnessError
from harness.run import select_systems
from harness.suite import load_suite


def error_of(suite_dir) -> str:
    with pytest.raises(HarnessError) as err:
        load_suite(suite_dir)
    message = str(err.value)
    assert "\n" not in message
    return message


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_valid_suite_loads(tiny_suite):
    suite = load_suite(tiny_suite)
    assert [q.id for q in suite.questions] == ["t1", "t2", "t3", "t4", "t5"]
    assert suite.default_systems == ("baseline", "rag-bow")  # built-ins it does not list follow in .systems
    names = [s.name for s in suite.systems]
    assert names[:2] == ["baseline", "rag-bow"] and "rag-bm25" in names
    assert suite.system("rag-bow").options.k == 2  # suite top_k fills the RAG default
    assert suite.evidence["t1"][0].source == "quollball.md"


def test_yaml_syntax_error(tiny_suite):
    edit(tiny_suite / "questions.yaml", "  answer: Nine", "  answer: [Nine")
    assert re.match(r".*questions\.yaml:\d+: YAML syntax error", error_of(tiny_suite))


def test_duplicate_key(tiny_suite):
    edit(tiny_suite / "questions.yaml", "  answer: Nine\n", "  answer: Nine\n  answer: Ten\n")
    assert re.search(r"questions\.yaml:4: id t1: duplicate key 'answer' \(first on line 3\)", error_of(tiny_suite))


def test_duplicate_question_id(tiny_suite):
    edit(tiny_suite / "questions.yaml", "- id: t2", "- id: t1")
    assert re.search(r"questions\.yaml:5: question t1: duplicate question id \(first on line 1\)",
                     error_of(tiny_suite))


@pytest.mark.parametrize("field", ["question", "answer"])
def test_missing_field(tiny_suite, field):
    text = (tiny_suite / "questions.yaml").read_text()
    line = next(line for line in text.splitlines() if line.startswith(f"  {field}:"))
    edit(tiny_suite / "questions.yaml", line + "\n", "")
    assert f"questions.yaml:1: question t1: missing field '{field}'" in error_of(tiny_suite)


def test_missing_id(tiny_suite):
    edit(tiny_suite / "questions.yaml", "- id: t1\n  question:", "- question:")
    assert "questions.yaml:1: missing field 'id'" in error_of(tiny_suite)


def test_empty_answer(tiny_suite):
    edit(tiny_suite / "questions.yaml", "  answer: Nine", "  answer: '  '")
    assert "questions.yaml:3: question t1: field 'answer': must not be empty" in error_of(tiny_suite)


def test_unknown_field_suggests(tiny_suite):
    edit(tiny_suite / "questions.yaml", "  evidence: [\"A quollball", "  evidense: [\"A quollball")
    assert ("questions.yaml:4: question t1: unknown field 'evidense' (did you mean 'evidence'?)"
            in error_of(tiny_suite))


def test_misspelt_required_field_suggests_the_right_one(tiny_suite):
    edit(tiny_suite / "questions.yaml", "  answer: Nine", "  answr: Nine")
    assert "question t1: unknown field 'answr' (did you mean 'answer'?)" in error_of(tiny_suite)


def test_unknown_suite_field_suggests(tiny_suite):
    edit(tiny_suite / "suite.yaml", "top_k: 2", "topk: 2")
    assert "suite.yaml:4: unknown field 'topk' (did you mean 'top_k'?)" in error_of(tiny_suite)


def test_a_misspelt_nested_field_suggests_from_its_own_fields(tiny_suite):
    edit(tiny_suite / "suite.yaml", "chunking: {tokens: 10", "chunking: {tokns: 10")
    assert "suite.yaml:3: unknown field 'chunking.tokns' (did you mean 'tokens'?)" in error_of(tiny_suite)


def test_evidence_not_in_corpus(tiny_suite):
    edit(tiny_suite / "questions.yaml", "exactly nine players.", "exactly ten players.")
    assert ("questions.yaml:1: question t1: evidence span not found in the corpus: "
            "'A quollball team fields exactly ten players.'") in error_of(tiny_suite)


def test_evidence_matches_across_case_and_line_breaks(tiny_suite):
    edit(tiny_suite / "questions.yaml", "exactly nine players.", "EXACTLY\\n   nine players.")
    assert load_suite(tiny_suite).evidence["t1"]


def test_empty_corpus(tiny_suite):
    (tiny_suite / "corpus" / "quollball.md").unlink()
    assert re.search(r"corpus: corpus is empty: no \.md, \.txt, \.pdf files", error_of(tiny_suite))


def test_unreadable_document(tiny_suite):
    (tiny_suite / "corpus" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a real pdf")
    assert re.search(r"broken\.pdf: unreadable document: ", error_of(tiny_suite))


def test_threshold_unknown_system(tiny_suite):
    edit(tiny_suite / "suite.yaml", "  rag-bow: {answer", "  rag-bo: {answer")
    assert ("suite.yaml:9: threshold names unknown system 'rag-bo' (did you mean 'rag-bow'?)"
            in error_of(tiny_suite))


def test_threshold_unknown_metric(tiny_suite):
    edit(tiny_suite / "suite.yaml", "recall: 0.8", "recal: 0.8")
    assert ("suite.yaml:9: system rag-bow: threshold names unknown metric 'recal' (did you mean 'recall'?)"
            in error_of(tiny_suite))


def test_retrieval_metric_on_baseline(tiny_suite):
    edit(tiny_suite / "suite.yaml", "baseline: {answer_accuracy: 0.0}", "baseline: {recall: 0.5}")
    assert "metric 'recall' needs retrieval, which system 'baseline' does not do" in error_of(tiny_suite)


def test_unknown_system_kind(tiny_suite):
    edit(tiny_suite / "suite.yaml", "kind: rag,", "kind: ragg,")
    assert "suite.yaml:7: system rag-bow: unknown system kind 'ragg' (did you mean 'rag'?)" in error_of(tiny_suite)


def test_unknown_system_option(tiny_suite):
    edit(tiny_suite / "suite.yaml", "similarity: cosine", "similarty: cosine")
    assert "system rag-bow: unknown field 'similarty' (did you mean 'similarity'?)" in error_of(tiny_suite)


def test_unknown_system_in_selection(tiny_suite):
    with pytest.raises(HarnessError, match=r"--systems: unknown system 'rag-bw' \(did you mean 'rag-bow'\?\)"):
        select_systems(load_suite(tiny_suite), "baseline,rag-bw")
