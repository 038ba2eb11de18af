import re
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import BagOfWords

from harness.core.cache import DiskCache
from harness.inputs.corpus import Document
from harness.inputs.evidence import Span, evidence_rank, find_span
from harness.retrieval import RetrievalOptions, make_retriever
from harness.retrieval.chunking import chunk_document

DOC = Document("d.md", " ".join(f"w{i}" for i in range(10)))


def words(text):
    return [m.span() for m in re.finditer(r"\S+", text)]


def retriever(docs, cache, embedder, **options):
    """A retriever over ``docs`` from a system's options, as a rag system builds it."""
    ctx = SimpleNamespace(suite=SimpleNamespace(documents=tuple(docs), corpus_hash="h"), cache=cache,
                          embedder=lambda name: embedder)
    return make_retriever(RetrievalOptions(**{"embedder": "bow", **options}), ctx)


def test_chunks_are_overlapping_token_windows():
    chunks = chunk_document(DOC, words, size=4, overlap=2)
    texts = [DOC.text[c.start:c.end] for c in chunks]
    assert texts == ["w0 w1 w2 w3", "w2 w3 w4 w5", "w4 w5 w6 w7", "w6 w7 w8 w9"]


def test_short_document_is_one_chunk():
    chunks = chunk_document(Document("s.md", "just three words"), words, size=100, overlap=50)
    assert [(c.start, c.end) for c in chunks] == [(0, 16)]


def test_evidence_rank_counts_spans_cut_by_a_border():
    (occ,) = find_span([DOC], "W3   w4")  # case and whitespace do not matter
    left, right, far = Span("d.md", 0, 8), Span("d.md", 6, 14), Span("d.md", 20, 29)
    assert evidence_rank([occ], [far, left]) is None  # w4 is never covered
    assert evidence_rank([occ], [left, far, right]) == 3  # covered once the neighbour arrives
    assert evidence_rank([occ], [Span("d.md", 6, 20)]) == 1  # one chunk holding it whole


def test_retriever_ranks_by_similarity_and_caches(tmp_path):
    docs = [Document("a.md", "apples grow on trees. bananas are yellow fruit.")]
    cache = DiskCache(tmp_path)
    options = dict(k=2, similarity="cosine", chunk_tokens=4, chunk_overlap=1)
    (hits,) = retriever(docs, cache, BagOfWords(), **options).retrieve(["which bananas are yellow"])
    assert "bananas" in hits[0].text and hits[0].score >= hits[1].score
    assert len(list((tmp_path / "embedding").rglob("*.npy"))) == 3 + 1  # 3 chunks, 1 query

    class Exploding(BagOfWords):
        def embed(self, texts):
            raise AssertionError("cached index and query must not be embedded again")

        def token_spans(self, text):
            raise AssertionError("cached chunks must not be tokenized again")

    assert retriever(docs, cache, Exploding(), **options).retrieve(["which bananas are yellow"]) == [hits]


def test_embeddings_are_saved_batch_by_batch(tmp_path, monkeypatch):
    """An interrupted embedding run keeps the batches it finished."""
    from harness.retrieval import embedding

    monkeypatch.setattr(embedding, "BATCH", 2)

    class DiesOnThirdBatch(BagOfWords):
        calls = 0

        def embed(self, texts):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return super().embed(texts)

    with pytest.raises(KeyboardInterrupt):
        embedding.embed_cached(DiesOnThirdBatch(), [f"text {i}" for i in range(6)], DiskCache(tmp_path))
    assert len(list(tmp_path.rglob("*.npy"))) == 4


def test_an_embedder_that_drops_vectors_caches_nothing(tmp_path):
    from harness.core.errors import HarnessError
    from harness.retrieval import embed_cached

    class Short(BagOfWords):
        def embed(self, texts):
            return super().embed(texts)[:-1]

    with pytest.raises(HarnessError, match=r"bow-64 returned 1 embeddings for 2 texts"):
        embed_cached(Short(), ["one text", "two texts"], DiskCache(tmp_path))
    assert not list(tmp_path.rglob("*.npy"))


def test_dot_and_cosine_differ_on_unnormalised_vectors(tmp_path):
    class Fixed(BagOfWords):
        identity = "fixed"

        def embed(self, texts):
            table = {"long": [10.0, 10.0], "near": [0.0, 1.0], "q": [0.0, 1.0]}
            return np.array([table[t.split()[0]] for t in texts], dtype="float32")

    docs = [Document("a.md", "long x"), Document("b.md", "near y")]
    top = {sim: retriever(docs, DiskCache(tmp_path / sim), Fixed(), k=1, similarity=sim, chunk_tokens=5,
                          chunk_overlap=0).retrieve(["q"])[0][0].source for sim in ("dot", "cosine")}
    assert top == {"dot": "a.md", "cosine": "b.md"}


def test_chunks_beyond_the_embedders_limit_stop_with_one_line(tmp_path):
    from harness.core.errors import HarnessError

    class Short(BagOfWords):
        max_tokens = 8

    with pytest.raises(HarnessError, match=r"^chunk size 9 tokens exceeds what bow-64 reads \(8\); lower chunk_tokens$"):
        retriever([DOC], DiskCache(tmp_path), Short(), k=1, chunk_tokens=9, chunk_overlap=0)  # when it is built
