"""The LoRA path for real (TRL + PEFT) on a tiny model; synthesis and decontamination with fakes."""
import pytest

pytest.importorskip("torch")

import fakes  # noqa: E402

import harness.training.adapters  # noqa: E402
from harness.core.errors import HarnessError, Unavailable  # noqa: E402
from harness.models.prompts import PromptParts  # noqa: E402
from harness.retrieval.chunking import chunk_corpus  # noqa: E402
from harness.contexts import SharedModels  # noqa: E402
from harness.run import EvalRun  # noqa: E402
from harness.suite import load_suite  # noqa: E402
from harness.training.decontam import find_leaks, side_by_side  # noqa: E402
from harness.training.synth import parse_pairs, synthesize  # noqa: E402
from harness.training.writing import Writer  # noqa: E402


def with_lora(suite_dir, extra=""):
    yaml = suite_dir / "suite.yaml"
    yaml.write_text(yaml.read_text().replace(
        "  - {name: rag-bow", "  - {name: lora, kind: lora}\n"
        "  - {name: lora-rag, kind: lora-rag, embedder: bow}\n" + extra + "  - {name: rag-bow"))
    return load_suite(suite_dir)


def test_lora_trains_once_caches_and_leaves_the_base_model_alone(tiny_suite, tiny_lm, tmp_path, monkeypatch):
    suite = with_lora(tiny_suite)
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    probe = [PromptParts("answer .", (), None, "how many players ?")]
    before = run.models.generator.generate(probe)

    lora = run.system("lora")
    log = lora.adapter.log
    assert log["examples"] == 4 and log["train"] and log["eval"]  # 6 pairs, a third held out for eval loss
    assert (lora.adapter.path / "adapter_model.safetensors").exists()
    answers = lora.answer(suite.questions)
    assert len(answers) == 5 and all(isinstance(a.text, str) and a.retrieved is None for a in answers)
    assert run.models.generator.generate(probe) == before  # the adapter is off outside LoRA calls

    with_context = run.system("lora-rag")
    assert with_context.adapter is lora.adapter  # same settings: one adapter, one base model
    assert all(len(a.retrieved) == 2 for a in with_context.answer(suite.questions))

    monkeypatch.setattr(harness.training.adapters, "train_adapter", lambda *a, **k: pytest.fail("trained again"))
    again = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    assert again.system("lora").adapter.key == lora.adapter.key


def test_a_missing_target_module_is_refused_when_the_run_starts_and_else_before_training(tiny_suite, tiny_lm,
                                                                                      tmp_path, monkeypatch):
    from harness.models import HFGenerator
    from harness.training.lora import linear_layers

    suite = with_lora(tiny_suite, "  - {name: lora-qx, kind: lora, target_modules: [q_proj, qx_proj]}\n")
    with pytest.raises(HarnessError, match=r"^system lora-qx: LoRA target modules \['qx_proj'\] are not linear "
                                           r"layers of .*tiny-lm.* \(did you mean 'q_proj'\?\)$"):
        EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    generator = HFGenerator(str(tiny_lm), suite.config.generation, tmp_path)
    assert generator.linear_layer_names() == set(linear_layers(generator.fresh_copy()[0]))  # the files say what
    monkeypatch.setattr(HFGenerator, "linear_layer_names", lambda self: None)  # files that do not name them
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    with pytest.raises(HarnessError, match=r"LoRA target modules \['qx_proj'\] are not linear layers of .*; its "
                                           r"linear layers are: down_proj, gate_proj, k_proj, o_proj, q_proj, "
                                           r"up_proj, v_proj"):
        run.system("lora-qx")


def test_settings_that_do_not_fit_the_model(tiny_suite, tiny_lm, tmp_path):
    suite = with_lora(tiny_suite, "  - {name: lora-long, kind: lora, max_length: 4096}\n")
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    with pytest.raises(HarnessError, match=r"LoRA max_length 4096 exceeds .* 256 positions"):
        run.system("lora-long")


def test_no_train_skips_instead_of_training(tiny_suite, tiny_lm, tmp_path):
    suite = with_lora(tiny_suite)
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path, no_train=True)
    with pytest.raises(Unavailable, match=r"--no-train and no cached adapter; train it first with `harness train"):
        run.system("lora")


@pytest.mark.parametrize("entry, message", [
    ('- {question: "Q?", source: "x"}\n', r"train\.yaml:1: pair 1: missing field 'answer'"),
    ('- {question: "Q?", answr: "A", source: "x"}\n', r"train\.yaml:1: pair 1: unknown field 'answr' \(did you mean 'answer'\?\)"),
])
def test_bad_train_file_is_one_line(tiny_suite, entry, message):
    (tiny_suite / "train.yaml").write_text(entry)
    with pytest.raises(HarnessError, match=message):
        load_suite(tiny_suite)


def test_decontamination_flags_reworded_and_copied_questions(tiny_suite):
    suite = load_suite(tiny_suite)
    evals = [(q.id, q.question) for q in suite.questions]
    embed = fakes.BagOfWords().embed
    clean = find_leaks([p.question for p in suite.train_pairs], evals, embed, max_ngram_jaccard=0.5, max_cosine=0.9)
    assert clean == []
    leaks = find_leaks(["How many players does a quollball team have?", "Who wears the bright hat?"], evals, embed,
                       max_ngram_jaccard=0.5, max_cosine=0.9)
    assert [(l.train, l.eval_id) for l in leaks] == [("How many players does a quollball team have?", "t1")]
    assert "eval t1: 'How many players does a quollball team field?'" in side_by_side(leaks)


@pytest.mark.parametrize("reply, pairs", [
    ('[{"question": "Q1?", "answer": "A1"}, {"question": "Q2?", "answer": "A2"}]', [("Q1?", "A1"), ("Q2?", "A2")]),
    ('Sure! {"question": "Q1?", "answer": "A1"} and {"question": "Q2?", "answer": "A2"}', [("Q1?", "A1"), ("Q2?", "A2")]),
    ('[{"question": "Q1?"}]', None),
    ("I cannot do that.", None),
])
def test_parse_pairs(reply, pairs):
    assert parse_pairs(reply) == pairs


def test_synth_runs_end_to_end_and_cleans(tiny_suite, tmp_path):
    suite = load_suite(tiny_suite)
    embedder = fakes.BagOfWords()
    n = len(chunk_corpus(suite.documents, embedder.token_spans, 10, 2))
    good = '[{"question": "What does the goalkeeper put on?", "answer": "An orange hat."}]'
    fakes.ScriptedGenerator.REPLIES[:] = [
        '[{"question": "Which sound starts a game?", "answer": "A bell."}, '
        '{"question": "Which sound starts a game?", "answer": "A bell."}]',  # exact duplicate
        '[{"question": "How many players does a quollball team field?", "answer": "Nine."}]',  # an eval question
        "no JSON here",  # unparsable
    ] + [good] * (n - 3) + ["still no JSON"]  # near-duplicates of one another; the stricter prompt's reply
    run = SharedModels(suite, "scripted:synth", tmp_path)
    pairs, summary = synthesize(suite, Writer(run.generator, run.cache, 256), embedder, pairs_per_chunk=2)
    assert (summary.chunks, summary.made, summary.asked.unparsable, summary.asked.retried) == (n, 3 + (n - 3), 1, 1)
    assert summary.duplicates == 1 + (n - 4) and summary.contaminated == 1
    assert [p.question for p in pairs] == ["Which sound starts a game?", "What does the goalkeeper put on?"]
    assert pairs[0].source.startswith("quollball.md@")
    assert pairs[0].fact.startswith(pairs[0].source + "~") and pairs[0].fact != pairs[1].fact  # written for review


def test_answer_only_loss_equals_trls_loss(tiny_suite, tiny_lm, tmp_path):
    import torch
    from trl import SFTTrainer

    from harness.inputs.config import LoraSettings
    from harness.training.lora import answer_only_loss, sft_trainer

    suite = load_suite(tiny_suite)
    run = SharedModels(suite, str(tiny_lm), tmp_path)
    model, tokenizer = run.generator.fresh_copy()
    trainer, _ = sft_trainer(model, tokenizer, suite.train_pairs, LoraSettings(batch_size=6, max_length=32),
                             tmp_path / "out")
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.eval()  # no dropout: both losses see the same network
    with torch.no_grad():
        reference = SFTTrainer.compute_loss(trainer, trainer.model, dict(batch))
        ours = answer_only_loss(trainer.model, batch)
    assert torch.allclose(ours, reference, atol=1e-5), (float(ours), float(reference))


def test_pairs_are_tokenized_as_trl_prepares_them(tiny_suite, tiny_lm, tmp_path):
    """Our tokenizing (which skips TRL's slow dataset preparation) gives TRL's own ids and labels."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from harness.inputs.config import LoraSettings
    from harness.training.lora import _split, tokenized

    suite = load_suite(tiny_suite)
    run = SharedModels(suite, str(tiny_lm), tmp_path)
    model, tokenizer = run.generator.fresh_copy()
    rows, _ = _split(suite.train_pairs, LoraSettings(eval_fraction=0.0))
    rows.append({"prompt": "word " * 40, "completion": " cut off"})  # answer beyond max_length: dropped
    trl = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=Dataset.from_list(rows),
                     args=SFTConfig(output_dir=str(tmp_path / "out"), max_length=24, report_to=[], use_cpu=True))
    expected = [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in trl.train_dataset]
    ours = tokenized(rows, tokenizer, 24)
    assert len(ours) == len(rows) - 1
    assert ours == expected


def test_eval_loss_is_taken_at_most_five_times_and_at_the_last_step(tiny_suite, tiny_lm, tmp_path):
    from harness.inputs.config import LoraSettings
    from harness.training.lora import train_adapter

    suite = load_suite(tiny_suite)
    run = SharedModels(suite, str(tiny_lm), tmp_path)
    settings = LoraSettings(epochs=7, batch_size=2, max_length=32, eval_fraction=0.34)  # 4 rows: 14 steps
    log = train_adapter(run.generator, suite.train_pairs, settings, tmp_path / "adapter", "key").log
    assert [step for step, _ in log["eval"]] == [3, 6, 9, 12, 14]
    assert log["train"][-1][0] == 14
