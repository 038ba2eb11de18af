"""Counterfactual edits drafted without a model (``harness changes``), for review (``harness review --changes``).

A question whose gold value its evidence states gives one edit: the value is typed (a count, a quantity
with its unit, a colour, a defined term of the corpus), a plausible new value of the same type is drawn
(seeded) that the passages of its mentions do not already state, every restatement of the same fact is
found, and the questions and training pairs it moves are listed. Each edit is checked by applying it, as
the run would, together with the ones drafted before it; one that fails is dropped and counted.

The modules, in the order a draft is made: ``values`` (typed values, and a text with one replaced),
``material`` (what an edit is checked against; the corpus as text), ``mentions`` (where a value is stated, and
the finds), ``candidates`` (plausible new values), ``edit`` (one edit and what it moves), ``draft`` (the draft
file, each edit checked), ``review`` (accepting drafted edits into a change set).
"""
from harness.training.changes_draft.draft import Summary, check, draft_changes, dump, header, write_draft
from harness.training.changes_draft.edit import PENDING, REVIEW_ONLY, as_edit, draft_edit
from harness.training.changes_draft.material import (Hit, Material, content_words, corpus_terms, head, paragraph,
                                                     sentence)
from harness.training.changes_draft.mentions import question_value
from harness.training.changes_draft.review import accept, describe, load_draft, revalued, save_draft
from harness.training.changes_draft.values import Value, numbers_in, said, substitute

__all__ = ["PENDING", "REVIEW_ONLY", "Hit", "Material", "Summary", "Value", "accept", "as_edit", "check",
           "content_words", "corpus_terms", "describe", "draft_changes", "draft_edit", "dump", "head", "header",
           "load_draft", "numbers_in", "paragraph", "question_value", "revalued", "said", "save_draft", "sentence",
           "substitute", "write_draft"]
