"""The sections chunker: structure-aware, exact spans, never over budget."""
import re

import pytest

from harness.core.errors import HarnessError
from harness.inputs.corpus import Document
from harness.retrieval.chunking import CHUNKERS, chunk_corpus, indexed_text

RULES = """# Quollball Rules

Quollball is played on grass by two teams of nine players each.

## Rule 1 - The Field

**1.1** The field is sixty metres long and forty metres wide, marked with white lines.

**1.2** The hoops stand at each end, three metres tall.

- **1.2.1** A hoop that falls is replaced by the referee before play resumes.
- **1.2.2** Bent hoops are straightened at half time.

---

## Rule 2 - The Hat

**2.1** The goalkeeper wears a bright orange hat at all times, even when the sun is hidden and the wind blows hard from the north across the long field towards the distant hoops.

"""


def words(text):
    return [m.span() for m in re.finditer(r"\S+", text)]


def texts(chunks, doc):
    return [doc.text[c.start:c.end] for c in chunks]


@pytest.mark.parametrize("size", [6, 12, 25, 60])
@pytest.mark.parametrize("titles", [False, True])
def test_spans_are_exact_and_within_budget(size, titles):
    doc = Document("rules.md", RULES)
    chunks = chunk_corpus([doc], words, size, 2, "sections", titles)
    for chunk, text in zip(chunks, texts(chunks, doc)):
        assert text == text.strip() and text in RULES
        assert len(words(indexed_text(chunk, text))) <= size  # the heading is counted in the budget
        assert bool(chunk.title) == titles or len(words(chunk.title)) + 1 > size
    covered = "".join(texts(chunks, doc))
    assert all(word in covered for word in re.findall(r"\w+", RULES))  # nothing lost (lines and marks aside)


def test_chunks_follow_headings_and_rules():
    doc = Document("rules.md", RULES)
    got = texts(chunk_corpus([doc], words, 40, 0, "sections"), doc)
    assert got[0] == "# Quollball Rules\n\nQuollball is played on grass by two teams of nine players each."
    # Rule 1 does not fit in 40 words: it is cut between its rules, never inside one.
    assert got[1].startswith("## Rule 1 - The Field\n\n**1.1**") and got[1].endswith("three metres tall.")
    assert got[2].startswith("- **1.2.1** A hoop") and got[2].endswith("at half time.")
    assert got[3].startswith("## Rule 2 - The Hat") and "Rule 1" not in got[3]  # never across a heading


def test_titles_are_indexed_but_not_part_of_the_span():
    doc = Document("rules.md", RULES)
    chunks = chunk_corpus([doc], words, 40, 0, "sections", titles=True)
    hat = next(c for c in chunks if "orange hat" in doc.text[c.start:c.end])
    assert hat.title == "Rule 2 - The Hat"
    text = doc.text[hat.start:hat.end]
    assert text.startswith("**2.1** The goalkeeper")  # the heading did not fit beside the rule...
    assert indexed_text(hat, text) == "Rule 2 - The Hat\n" + text  # ...so it is indexed in front of it


def test_a_piece_longer_than_the_budget_is_cut_into_windows():
    doc = Document("rules.md", RULES)
    chunks = chunk_corpus([doc], words, 10, 3, "sections")
    rule = RULES.index("**2.1**")
    windows = [doc.text[c.start:c.end] for c in chunks if c.start >= rule]
    assert len(windows) == 5 and all(len(words(t)) <= 10 for t in windows)
    assert windows[0].startswith("**2.1**") and windows[-1].endswith("distant hoops.")
    assert all(a.split()[-3:] == b.split()[:3] for a, b in zip(windows, windows[1:]))  # 3 tokens of overlap


def test_unknown_strategy_says_did_you_mean():
    with pytest.raises(HarnessError, match=r"unknown chunking strategy 'section' \(did you mean 'sections'\?\)"):
        CHUNKERS.get("section")
