"""`harness changes` drafts counterfactual edits without a model; `harness review --changes` keeps the accepted."""
import re

import pytest
import yaml

from harness import cli
from harness.inputs.changes import DRAFT, load_change_set
from harness.suite import load_suite
from harness.training.changes_draft import paragraph


def drafted(suite, capsys, *args) -> tuple[int, str, str]:
    code = cli.main(["changes", "--suite", str(suite), *args])
    out, err = capsys.readouterr()
    return code, out, err


def edits(suite) -> list[dict]:
    return yaml.safe_load((suite / DRAFT).read_text())["edits"]


def edit_for(suite, qid: str) -> dict:
    return next(e for e in edits(suite) if any(q["id"] == qid for q in e["questions"]))


def test_every_drafted_edit_applies_as_a_change_set(tiny_suite, capsys):
    code, out, _ = drafted(tiny_suite, capsys, "--count", "10")
    assert code == 0 and re.search(r"drafted 4 edits of 10 asked .*skipped 1 questions \(no count", out)
    text = (tiny_suite / DRAFT).read_text()
    assert text.startswith("# Drafted by `harness changes`") and "# documents: quollball.md (300 characters" in text
    plain = [{k: v for k, v in e.items() if k not in ("status", "reason")} for e in edits(tiny_suite)]
    assert all(e["reason"] for e in edits(tiny_suite))
    (tiny_suite / "changes").mkdir()
    (tiny_suite / "changes" / "all.yaml").write_text(yaml.safe_dump({"edits": plain}))
    suite = load_suite(tiny_suite)  # applies every edit, each check made
    assert set(suite.change.changed) == {"t1", "t2", "t3", "t4"}
    assert len(load_change_set(tiny_suite / "changes" / "all.yaml").edits) == 4


@pytest.mark.parametrize("seed", range(8))
def test_a_count_moves_by_one_to_three_in_words_and_never_to_a_value_its_passage_states(tiny_suite, capsys, seed):
    drafted(tiny_suite, capsys, "--seed", str(seed))
    words = {"six": 6, "eight": 8, "ten": 10, "eleven": 11, "twelve": 12}  # seven: the passage states it
    edit = edit_for(tiny_suite, "t1")
    (mention,) = edit["mentions"]
    assert edit["new"][0] in words and mention["replace"] == mention["find"].replace("nine", edit["new"][0])
    assert 1 <= abs(words[edit["new"][0]] - 9) <= 3 and edit["new"][1] == str(words[edit["new"][0]])
    assert "left out 7" in edit["reason"]
    gold = edit["questions"][0]
    assert gold["answer"] == edit["new"][0].capitalize()  # "Nine" stays a capitalised word
    assert [p["answer"] for p in edit["pairs"]] == [f"{gold['answer']} players.", f"{gold['answer']}."]
    text = (tiny_suite / "corpus" / "quollball.md").read_text()
    stated = paragraph(text, text.index("nine"))
    for e in edits(tiny_suite):
        assert not re.search(rf"\b{re.escape(e['new'][0])}\b", stated, re.IGNORECASE), e


def test_quantities_keep_their_unit_and_form(tiny_suite, capsys):
    drafted(tiny_suite, capsys, "--seed", "3")
    edit = edit_for(tiny_suite, "t2")
    n = {"forty": 40}[edit["new"][0]]  # 25, 35, 45: no single word; 30 ×0.8–1.5 in steps of 5
    assert edit["questions"][0]["answer"] == f"{n} minutes"  # the gold's digits, in its unit


def test_an_existing_draft_is_never_overwritten(tiny_suite, capsys):
    drafted(tiny_suite, capsys)
    before = (tiny_suite / DRAFT).read_text()
    code, out, err = drafted(tiny_suite, capsys, "--seed", "5")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "never overwritten" in err
    assert (tiny_suite / DRAFT).read_text() == before


def test_the_same_seed_drafts_the_same_file(tiny_suite, capsys):
    files = []
    for seed in (1, 1, 2, 4):
        drafted(tiny_suite, capsys, "--seed", str(seed))
        files.append((tiny_suite / DRAFT).read_text())
        (tiny_suite / DRAFT).unlink()
    assert files[0] == files[1] and len(set(files)) > 1


def test_a_value_others_derive_from_is_flagged_not_edited(tiny_suite, capsys):
    corpus = tiny_suite / "corpus" / "quollball.md"
    corpus.write_text(corpus.read_text() + "Each half of a match lasts fifteen minutes.\n")
    drafted(tiny_suite, capsys)
    edit = edit_for(tiny_suite, "t2")
    assert len(edit["derived"]) == 1 and "fifteen minutes" in edit["derived"][0] and "half" in edit["derived"][0]
    assert all("fifteen" not in m["find"] for m in edit["mentions"])


def test_review_writes_only_the_accepted_edits_to_a_change_set(tiny_suite, capsys, monkeypatch):
    drafted(tiny_suite, capsys)
    order = [next(q["id"] for q in e["questions"]) for e in edits(tiny_suite)]
    answers = {"t1": "e 11", "t2": "n", "t3": "y", "t4": "skip"}
    replies = iter([answers[q] for q in order])
    monkeypatch.setattr("builtins.input", lambda prompt: next(replies))
    assert cli.main(["review", "--changes", "--suite", str(tiny_suite), "--name", "mine"]) == 0
    assert "1 accepted as drafted, 1 accepted with another value, 1 rejected" in capsys.readouterr().out
    written = yaml.safe_load((tiny_suite / "changes" / "mine.yaml").read_text())
    assert all("status" not in e and "reason" not in e for e in written["edits"])
    suite = load_suite(tiny_suite)
    assert set(suite.change.changed) == {"t1", "t3"}
    after = {q.id: q.answer for q in suite.change.after.questions}
    assert after["t1"] == "Eleven" and "eleven players" in suite.change.after.documents[0].text
    assert [e["status"] for e in edits(tiny_suite)] == [{"e 11": "edited", "n": "rejected", "y": "accepted",
                                                         "skip": "draft"}[answers[q]] for q in order]

    replies = iter(["y"])  # a second review asks only what is still pending
    monkeypatch.setattr("builtins.input", lambda prompt: next(replies))
    assert cli.main(["review", "--changes", "--suite", str(tiny_suite), "--name", "mine"]) == 0
    assert set(load_suite(tiny_suite).change.changed) == {"t1", "t3", "t4"}
