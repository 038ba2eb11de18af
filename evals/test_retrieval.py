"""Retrieval recall: one test per RAG system × question with evidence spans.

Passes when the chunks retrieved for the question cover one of its evidence spans within the top k.
"""


def test_evidence_in_top_k(retrieval_case, eval_run, record, check):
    system, question, _ = retrieval_case
    hits = eval_run.retrieve(retrieval_case)
    rank = record(retrieval_case, retrieved=hits)["evidence_rank"]
    sources = ", ".join(f"{h.source}@{h.start}" for h in hits)
    check(rank is not None, f"{system}: no evidence for {question.id} in the top {len(hits)} ({sources})")
