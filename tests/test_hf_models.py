"""The real transformers and sentence-transformers paths, on tiny random models built here."""
import json

import pytest

torch = pytest.importorskip("torch")

from tiny_models import tokenizer as _tokenizer  # noqa: E402

from harness.inputs.config import Generation  # noqa: E402
from harness.models import HFGenerator, make_generator  # noqa: E402
from harness.models.hf import HEAD_CACHE  # noqa: E402
from harness.models.hf_dtype import WEIGHT_MAJOR  # noqa: E402
from harness.models.prompts import PromptParts, Reply, completion_head  # noqa: E402
from harness.retrieval.embedders import GeneratorInputEmbedder, SentenceTransformerEmbedder  # noqa: E402

PROMPTS = [PromptParts("answer .", (), None, q) for q in
           ("how many players ?", "how many metres is the field of the quollball team ?", "hat ?")]


def test_batched_generation_matches_one_at_a_time(tiny_lm, tmp_path):
    batched = make_generator(str(tiny_lm), Generation(batch_size=3, max_new_tokens=6, dtype="float32"), tmp_path)
    single = make_generator(str(tiny_lm), Generation(batch_size=1, max_new_tokens=6, dtype="float32"), tmp_path)
    assert isinstance(batched, HFGenerator) and not batched.chat  # no chat template: completion prompts
    out = batched.generate(PROMPTS)
    assert out == single.generate(PROMPTS)
    assert all(isinstance(r, Reply) and "\n" not in r.text for r in out)


def test_the_shared_head_is_computed_once_and_answers_as_the_whole_prompt_does(tiny_lm, tmp_path):
    from harness.inputs.config import Example

    head = PromptParts("answer the question .", (Example(question="how many players ?", answer="six ."),), None, "")
    prompts = [PromptParts(head.instructions, head.examples, context, q) for q, context in
               (("how many metres ?", None), ("the hat ?", ("orange hat .",)), ("team ten ?", None))]
    generator = make_generator(str(tiny_lm), Generation(batch_size=2, max_new_tokens=6, dtype="float32"), tmp_path)
    prefills = []
    generator.model.register_forward_hook(lambda m, a, kw, out: prefills.append(kw["input_ids"].shape),
                                          with_kwargs=True)
    cached = generator.generate(prompts)
    heads = [shape for shape in prefills if shape[0] == 1]
    assert heads == [(1, len(generator._head_tokens(completion_head(head))))]  # one row, once for all prompts
    texts = [generator.render(p) for p in prompts]
    assert cached == generator._run(texts, 6)  # float32: the same answers as prefilling each whole prompt
    assert len({r.text for r in cached}) > 1


def test_input_embeddings_are_mean_pooled_rows(tiny_lm, tmp_path):
    generator = make_generator(str(tiny_lm), Generation(dtype="float32"), tmp_path)
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


def test_a_gguf_is_parsed_once_with_the_same_fields_and_tensors(tmp_path):
    import gguf
    import numpy as np

    from harness.models.embedded import parsed_once_gguf

    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_token_list([f"tok{i}" for i in range(300)])
    writer.add_token_scores([float(i) for i in range(300)])
    writer.add_context_length(64)
    writer.add_tensor("w", np.arange(24, dtype=np.float32).reshape(4, 6))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    stock = gguf.GGUFReader(path)
    with parsed_once_gguf():
        fast = gguf.GGUFReader(path)
        assert gguf.GGUFReader(path) is fast  # the tokenizer, config and weights share one parse
    assert gguf.GGUFReader(path) is not fast  # outside the block, the library is as it was
    assert stock.fields.keys() == fast.fields.keys()
    for name in stock.fields:
        assert stock.fields[name].contents() == fast.fields[name].contents(), name
    assert [t.name for t in stock.tensors] == [t.name for t in fast.tensors]
    assert np.array_equal(stock.tensors[0].data, fast.tensors[0].data)
    assert type(fast.data) is np.ndarray


def fake_timings(monkeypatch, per_dtype: dict[str, float]) -> list:
    """Every timed matrix product takes its dtype's time per million multiply-adds; returns the calls."""
    from harness.core import dtype as probe

    calls = []

    def seconds(dtype, shape):
        calls.append((dtype, shape))
        return per_dtype[dtype] * shape.flops / shape.count / 2e6
    monkeypatch.setattr(probe, "seconds", seconds)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    return calls


def test_auto_dtype_is_measured_once_per_machine_and_kept(tiny_lm, tmp_path, monkeypatch):
    from importlib import metadata

    calls = fake_timings(monkeypatch, {"float32": 3.4, "bfloat16": 1.0})
    auto = make_generator(str(tiny_lm), Generation(max_new_tokens=6), tmp_path)
    assert auto.cached_dtype_decision() is None  # nothing kept yet: the header says nothing
    assert auto.dtype_decision == "bfloat16 (measured 3.4× float32 on this CPU)"
    assert auto.dtype == "bfloat16" and auto.model.dtype == torch.bfloat16
    assert auto.table_identity.endswith("|bfloat16")
    assert {d for d, _ in calls} == {"float32", "bfloat16"}
    hidden = auto.model.config.hidden_size
    heads = {s for _, s in calls if s.n_in == hidden and s.n_out == auto.model.config.vocab_size}  # its own shapes
    assert heads and all(s.weight_major for s in heads)  # the output layer timed as float32 generation takes it
    kept = list((tmp_path / "dtype").glob("*.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["dtype"] == "bfloat16"

    calls.clear()  # a second process on this machine reads the kept choice, even if timings would differ now
    fake_timings(monkeypatch, {"float32": 1.0, "bfloat16": 3.0})
    again = make_generator(str(tiny_lm), Generation(max_new_tokens=6), tmp_path)
    assert again.cached_dtype_decision() == again.dtype_decision == auto.dtype_decision and not calls

    real_version = metadata.version  # another torch (or CPU, thread count, model, batch) measures anew
    monkeypatch.setattr(metadata, "version", lambda name: "9.9" if name == "torch" else real_version(name))
    slower = make_generator(str(tiny_lm), Generation(max_new_tokens=6), tmp_path)
    assert slower.cached_dtype_decision() is None
    assert slower.dtype_decision == "float32 (bfloat16 measured 0.3× float32 on this CPU, below 1.25×)"
    assert slower.dtype == "float32" and slower.table_identity == slower.weights_identity
    assert len(list((tmp_path / "dtype").glob("*.json"))) == 2


def test_an_emulated_avx2_cpu_keeps_float32_unmeasured_and_says_so(tiny_lm, tmp_path, monkeypatch):
    calls = fake_timings(monkeypatch, {"float32": 3.4, "bfloat16": 1.0})  # the probe would choose bfloat16
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    held = make_generator(str(tiny_lm), Generation(max_new_tokens=6), tmp_path)
    assert held.dtype == "float32" and not calls
    assert held.dtype_decision == held.cached_dtype_decision() == (
        "float32 (emulated CPU without bfloat16 arithmetic: ATEN_CPU_CAPABILITY=avx2; such CPUs measured and kept "
        "float32)")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")  # held to AVX512 kernels: measured as usual
    assert make_generator(str(tiny_lm), Generation(max_new_tokens=6), tmp_path).dtype == "bfloat16" and calls


def test_bfloat16_barely_faster_stays_float32_and_a_setting_is_not_measured(tiny_lm, tmp_path, monkeypatch):
    calls = fake_timings(monkeypatch, {"float32": 1.1, "bfloat16": 1.0})  # within noise: not worth changed answers
    assert make_generator(str(tiny_lm), Generation(), tmp_path).dtype == "float32"
    calls.clear()
    forced = make_generator(str(tiny_lm), Generation(dtype="bfloat16"), tmp_path / "other")
    assert forced.dtype_decision == forced.cached_dtype_decision() == "bfloat16 (generation.dtype: bfloat16)"
    assert not calls


def test_a_gpu_answers_in_bfloat16_where_supported(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert make_generator("some/model", Generation(), tmp_path).dtype_decision == "bfloat16 (GPU with bfloat16 support)"


def test_bfloat16_answers_are_keyed_apart_and_training_stays_float32(tiny_lm, tmp_path):
    fp32 = make_generator(str(tiny_lm), Generation(dtype="float32", max_new_tokens=6), tmp_path)
    bf16 = make_generator(str(tiny_lm), Generation(dtype="bfloat16", max_new_tokens=6), tmp_path)
    assert bf16.model.dtype == torch.bfloat16 and fp32.model.dtype == torch.float32
    assert bf16.table_identity == f"{fp32.table_identity}|bfloat16" and bf16.weights_identity == fp32.weights_identity
    assert bf16.identity == f"{bf16.table_identity}|{HEAD_CACHE}" != fp32.identity
    assert fp32.identity == f"{fp32.table_identity}|{HEAD_CACHE}|{WEIGHT_MAJOR}"  # its output layer's product
    assert GeneratorInputEmbedder(bf16).identity != GeneratorInputEmbedder(fp32).identity
    model, _ = bf16.fresh_copy()
    assert model.dtype == torch.float32
    assert all(isinstance(r.text, str) for r in bf16.generate(PROMPTS))


def test_the_dtype_probe_times_a_weight_major_shape_weight_major_in_float32_alone():
    from harness.core.dtype import Shape, product

    head, body = Shape(3, 8, 40, weight_major=True), Shape(3, 8, 40)
    assert product("float32", head)().shape == (40, 3)  # weight @ x.T, as generation's float32 output layer
    assert product("bfloat16", head)().shape == product("float32", body)().shape == (3, 40)  # F.linear


def test_a_float32_output_layer_computes_weight_major_what_f_linear_computes(tiny_lm, tmp_path):
    """The weight @ hidden.T product (hf_dtype.weight_major_output_layer): the logits F.linear gives,
    laid out as that product's transpose; a bfloat16 model keeps F.linear's own product."""
    fp32 = make_generator(str(tiny_lm), Generation(dtype="float32"), tmp_path)
    bf16 = make_generator(str(tiny_lm), Generation(dtype="bfloat16"), tmp_path)
    for generator, weight_major in ((fp32, True), (bf16, False)):
        head = generator.model.get_output_embeddings()
        hidden = torch.randn(3, 5, head.in_features, dtype=head.weight.dtype)
        with torch.inference_mode():
            logits = head(hidden)
        assert logits.shape == (3, 5, head.out_features)
        assert torch.allclose(logits.float(), torch.nn.functional.linear(hidden, head.weight).float(), atol=1e-2)
        assert (logits.stride(-1) != 1) is weight_major  # the vocabulary runs down the product's rows
