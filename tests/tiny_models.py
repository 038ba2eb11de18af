"""Tiny random transformers models built in-process, for fast tests of the real code paths."""
import pytest
import torch

WORDS = ("answer question how many players field six seven ten metres penalty team the a is of "
         "quollball ball hat orange : . ?").split()


def tokenizer(special):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(special + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=special[-1]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    return tok, len(vocab)


def build_lm(path, family: str = "llama", **shape):
    from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM,
                              PreTrainedTokenizerFast)

    tok, size = tokenizer(["<pad>", "<bos>", "<eos>", "<unk>"])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
                            unk_token="<unk>").save_pretrained(path)
    torch.manual_seed(0)
    config_class, model_class = {"llama": (LlamaConfig, LlamaForCausalLM),
                                 "gemma3": (Gemma3TextConfig, Gemma3ForCausalLM)}[family]
    config = config_class(**{"vocab_size": size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                            "num_attention_heads": 4, "num_key_value_heads": 2, "pad_token_id": 0, "bos_token_id": 1,
                            "eos_token_id": 2, "max_position_embeddings": 256, **shape})
    model_class(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    return build_lm(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="session")
def sliding_lm(tmp_path_factory):
    """A tiny Gemma 3, as the default model is built: local layers that keep the last 8 positions' keys and
    values beside a global one, so a reply of a long prompt runs past the window while it decodes."""
    return build_lm(tmp_path_factory.mktemp("sliding-lm"), family="gemma3", num_hidden_layers=3, head_dim=8,
                    num_key_value_heads=1, sliding_window=8,
                    layer_types=["sliding_attention", "sliding_attention", "full_attention"])


@pytest.fixture(scope="session")
def square_lm(tmp_path_factory):
    """tiny_lm with as many key-value heads as query heads: every linear is a multiple of 32 wide, as
    GPTQ's packing needs."""
    return build_lm(tmp_path_factory.mktemp("square-lm"), num_key_value_heads=4)


@pytest.fixture(scope="session")
def wide_lm(tmp_path_factory):
    """tiny_lm with the default model's projection shapes (640 wide, 4 heads of 256, one key-value
    head): bfloat16 matrix products of these shapes round differently with the batch's shape."""
    return build_lm(tmp_path_factory.mktemp("wide-lm"), hidden_size=640, intermediate_size=2048,
                    num_key_value_heads=1, head_dim=256, max_position_embeddings=1024)
