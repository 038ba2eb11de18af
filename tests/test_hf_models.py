"""The real transformers and sentence-transformers paths, on tiny random models built here."""
import pytest

torch = pytest.importorskip("torch")

from harness.config import Generation  # noqa: E402
from harness.embedders import GeneratorInputEmbedder, SentenceTransformerEmbedder  # noqa: E402
from harness.generators import HFGenerator, make_generator  # noqa: E402
from harness.prompts import PromptParts  # noqa: E402
from tiny_models import tokenizer as _tokenizer  # noqa: E402

PROMPTS = [PromptParts("answer .", (), None, q) for q in
           ("how many players ?", "how many metres is the field of the quollball team ?", "hat ?")]


def test_batched_generation_matches_one_at_a_time(tiny_lm, tmp_path):
    batched = make_generator(str(tiny_lm), Generation(batch_size=3, max_new_tokens=6), tmp_path)
    single = make_generator(str(tiny_lm), Generation(batch_size=1, max_new_tokens=6), tmp_path)
    assert isinstance(batched, HFGenerator) and not batched.chat  # no chat template: completion prompts
    out = batched.generate(PROMPTS)
    assert out == single.generate(PROMPTS)
    assert all(isinstance(text, str) and "\n" not in text for text in out)


def test_input_embeddings_are_mean_pooled_rows(tiny_lm, tmp_path):
    generator = make_generator(str(tiny_lm), Generation(), tmp_path)
    embedder = GeneratorInputEmbedder(generator)
    vectors = embedder.embed(["six players", "orange hat"])
    table = generator.model.get_input_embeddings().weight.detach()
    ids = generator.tokenizer(["six players"], add_special_tokens=False).input_ids[0]
    assert torch.allclose(torch.from_numpy(vectors[0]), table[ids].mean(0), atol=1e-6)
    assert embedder.token_spans("six players") == [(0, 3), (4, 11)]
    assert embedder.identity == f"input-embeddings:hf:{tiny_lm}"


def test_sentence_transformer_embedder_on_a_local_model(tmp_path):
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok, size = _tokenizer(["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                            mask_token="[MASK]", unk_token="[UNK]").save_pretrained(tmp_path)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=64)).save_pretrained(tmp_path)
    embedder = SentenceTransformerEmbedder(str(tmp_path))
    embedder.check_available()  # a local path needs no hub
    vectors = embedder.embed(["six players", "orange hat", "six players"])
    assert vectors.shape == (3, 16) and vectors.dtype == "float32"
    assert (vectors[0] == vectors[2]).all() and not (vectors[0] == vectors[1]).all()
    assert embedder.token_spans("orange hat .") == [(0, 6), (7, 10), (11, 12)]
