"""Suite files are read with the YAML 1.2 core schema: what the user wrote in a text field stays text."""
import pytest

from harness.core.errors import HarnessError
from harness.inputs.yamlfile import load_yaml
from harness.suite import load_suite


def _write(tmp_path, text):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    return load_yaml(path)


def test_yaml_1_1_surprises_are_plain_text(tmp_path):
    data = _write(tmp_path, "a: 1:30\nb: No\nc: yes\nd: off\ne: 2024-01-01\nf: 0755\n")
    assert data == {"a": "1:30", "b": "No", "c": "yes", "d": "off", "e": "2024-01-01", "f": 755}


def test_numbers_and_booleans_of_the_core_schema(tmp_path):
    data = _write(tmp_path, "a: 3\nb: 0.25\nc: true\nd: null\ne: 0x1F\nf: .inf\ng: -7\n")
    assert data == {"a": 3, "b": 0.25, "c": True, "d": None, "e": 31, "f": float("inf"), "g": -7}
    assert isinstance(data["c"], bool)


def _suite_with_answer(tiny_suite, answer):
    path = tiny_suite / "questions.yaml"
    lines = path.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("answer:"))
    lines[first] = lines[first].split("answer:")[0] + f"answer: {answer}"
    path.write_text("\n".join(lines) + "\n")
    return first + 1


@pytest.mark.parametrize("written, read", [("1:30", "1:30"), ("No", "No"), ("6.50", "6.50"), ("007", "007"),
                                           ("1e3", "1e3")])
def test_a_gold_answer_keeps_the_text_the_user_wrote(tiny_suite, written, read):
    _suite_with_answer(tiny_suite, written)
    assert load_suite(tiny_suite).questions[0].answer == read


def test_a_boolean_gold_answer_says_why_and_how_to_fix_it(tiny_suite):
    line = _suite_with_answer(tiny_suite, "true")
    with pytest.raises(HarnessError) as err:
        load_suite(tiny_suite)
    assert str(err.value) == (f"{tiny_suite / 'questions.yaml'}:{line}: question t1: field 'answer': "
                              "`true` was read as a boolean; quote it to mean the text")
