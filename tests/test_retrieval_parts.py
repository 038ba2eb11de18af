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
from harness.retrieval.embedders import EMBEDDERS, SentenceTransformerEmbedder, make_embedder

DOC = Document("d.md", " ".join(f"w{i}" for i in range(10)))


def words(text):
    return [m.span() for m in re.finditer(r"\S+", text)]


def retriever(docs, cache, fixed=None, **options):
    """A retriever over ``docs`` from a system's options, as a rag system builds it. Every embedder name
    gives the ``fixed`` embedder; without one, names resolve through the real registry."""
    ctx = SimpleNamespace(suite=SimpleNamespace(documents=tuple(docs), corpus_hash="h"), cache=cache,
                          embedder=lambda name: fixed or make_embedder(name, None))
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


ABC = [Document(f"{name}.md", name) for name in "abc"]


class Ranked(BagOfWords):
    """Ranks the documents of ABC in ``order`` for the query "q": cosines 3, 2 and 1 over sqrt(14)."""

    def __init__(self, order: str):
        self.order, self.identity = order, f"ranked-{order}"

    def embed(self, texts):
        return np.array([[3, 2, 1] if t == "q" else np.eye(3)[self.order.index(t)] for t in texts], dtype="float32")


EMBEDDERS.register("ranked-abc")(lambda generator: Ranked("abc"))
EMBEDDERS.register("ranked-bca")(lambda generator: Ranked("bca"))


def test_hybrid_fuses_full_rankings_with_each_retrievers_weight(tmp_path):
    # ranks: a b c (weight 3) and b c a (weight 1), rrf_k 1: a = 3/2 + 1/4, b = 3/3 + 1/2, c = 3/4 + 1/3.
    # Unweighted, b would win (a = 0.75, b = 0.83); fusing only the top 2, a would score 3/2 and tie b.
    parts = [{"retriever": "dense", "embedder": "ranked-abc", "weight": 3},
             {"retriever": "dense", "embedder": "ranked-bca"}]
    hybrid = retriever(ABC, DiskCache(tmp_path), retriever="hybrid", retrievers=parts, rrf_k=1, k=2, chunk_tokens=5,
                       chunk_overlap=0)
    (hits,) = hybrid.retrieve(["q"])
    assert [(h.source, h.score) for h in hits] == [("a.md", 1.75), ("b.md", 1.5)]


TOKENS = {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1], "w": [1, 1, 0]}  # w: halfway between x and y


class TokenTable(SentenceTransformerEmbedder):
    """A sentence-transformers embedder (what late interaction takes) whose token vectors come from TOKENS."""

    max_tokens = None
    token_spans = staticmethod(words)

    def __init__(self):
        super().__init__("token-table")

    def check_available(self):
        pass

    @property
    def model(self):
        return self  # encode() below stands in for SentenceTransformer.encode

    def encode(self, texts, output_value, **kwargs):
        import torch

        assert output_value == "token_embeddings"
        return [torch.tensor([TOKENS[w] for w in text.split()], dtype=torch.float32) for text in texts]


EMBEDDERS.register("token-table")(lambda generator: TokenTable())


def test_late_interaction_sums_each_query_tokens_best_cosine(tmp_path):
    pytest.importorskip("torch")
    # Query "x y". MaxSim: a = 1 + 1; c = 1 + cos(y, w); b = 2 cos(x, w), with cos(., w) = 1/sqrt(2).
    # Mean-pooled vectors would rank b (1.0) over c (0.92) over a (0.43); summing every chunk
    # token instead of the best would give c 1 + 2/sqrt(2) and put it first.
    docs = [Document("a.md", "x y z z z"), Document("b.md", "w"), Document("c.md", "x w")]
    late = retriever(docs, DiskCache(tmp_path), retriever="late", embedder="token-table", k=3, chunk_tokens=5,
                     chunk_overlap=0)
    (hits,) = late.retrieve(["x y"])
    assert [h.source for h in hits] == ["a.md", "c.md", "b.md"]
    half = 2 ** -0.5  # stored as float16, so compared to 1e-3
    assert [h.score for h in hits] == pytest.approx([2.0, 1 + half, 2 * half], abs=1e-3)
