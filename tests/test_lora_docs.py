"""lora-docs: LoRA trained on the corpus text itself (train_on: corpus), and the fine-tuned built-ins
on a suite with no train.yaml."""
import pytest

pytest.importorskip("torch")

import harness.training.adapters  # noqa: E402
import harness.training.lora  # noqa: E402
from harness.core.errors import HarnessError, Unavailable  # noqa: E402
from harness.run import EvalRun, select_systems  # noqa: E402
from harness.suite import load_suite  # noqa: E402


def test_lora_docs_trains_on_the_corpus_tokens_only_and_caches(tiny_suite, tiny_lm, tmp_path, monkeypatch):
    (tiny_suite / "train.yaml").unlink()  # no pairs: lora-docs needs none
    suite = load_suite(tiny_suite)
    built = []
    real = harness.training.lora.tokenized
    monkeypatch.setattr(harness.training.lora, "tokenized", lambda rows, *a: built.extend(rows) or real(rows, *a))
    run = EvalRun(suite, select_systems(suite, "lora-docs,lora-docs-rag"), generator=str(tiny_lm), cache_dir=tmp_path)
    docs = run.system("lora-docs")
    text = "".join(d.text for d in suite.documents)
    assert built and all(row["prompt"] == "" for row in built)  # no question, no instructions: the text alone
    words = " ".join(row["completion"] for row in built).split()
    assert words == text.split()  # every word of the corpus once, in order, and nothing else
    assert docs.adapter.log["examples"] == len(built) and docs.adapter.log["train"]
    assert docs.answer(suite.questions[:1])[0].retrieved is None
    assert run.system("lora-docs-rag").adapter is docs.adapter  # one adapter for both

    def trained_again(*args, **kwargs):
        raise RuntimeError("trained again")

    monkeypatch.setattr(harness.training.adapters, "train_adapter", trained_again)
    again = EvalRun(suite, select_systems(suite, "lora-docs"), generator=str(tiny_lm), cache_dir=tmp_path)
    assert again.system("lora-docs").adapter.key == docs.adapter.key
    (tiny_suite / "corpus" / "quollball.md").write_text(text + "\nthe ball is orange .\n")
    changed = load_suite(tiny_suite)
    with pytest.raises(RuntimeError, match="trained again"):  # keyed on the corpus: a new sentence trains anew
        EvalRun(changed, select_systems(changed, "lora-docs"), generator=str(tiny_lm), cache_dir=tmp_path
                ).system("lora-docs")


def test_corpus_rows_are_labelled_on_every_token(tiny_lm):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    rows = harness.training.lora.tokenized([{"prompt": "", "completion": "the team is six players ."}], tokenizer, 32)
    assert rows[0]["labels"] == rows[0]["input_ids"]  # no prompt: every token, and the end of text, is trained


def test_fine_tuned_built_ins_on_a_suite_without_pairs_say_why_in_one_line(tiny_suite, tiny_lm, tmp_path):
    (tiny_suite / "train.yaml").unlink()
    suite = load_suite(tiny_suite)
    run = EvalRun(suite, select_systems(suite, "lora,lora-rag,raft,lora-docs"), generator=str(tiny_lm),
                  cache_dir=tmp_path)
    for name in ("lora", "lora-rag", "raft"):
        with pytest.raises(Unavailable, match=r"^needs train\.yaml: run `harness draft` \(then `harness review "
                                              r"--drafts`\), or use lora-docs, which trains on the corpus itself$"):
            run.system(name)


def test_a_suite_with_no_systems_list_has_a_fine_tuning_family(tiny_suite):
    yaml = tiny_suite / "suite.yaml"
    text = yaml.read_text()
    yaml.write_text(text[:text.index("systems:")] + text[text.index("training:"):])
    (tiny_suite / "judge_real_answers.yaml").unlink()  # it names the suite's systems
    assert {"lora-docs", "lora-docs-rag", "lora"} <= set(load_suite(tiny_suite).default_systems)


def test_raft_does_not_train_on_the_corpus(tiny_suite):
    yaml = tiny_suite / "suite.yaml"
    yaml.write_text(yaml.read_text().replace("  - {name: rag-bow", "  - {name: r, kind: raft, retriever: rag-bow, "
                                                                   "train_on: corpus}\n  - {name: rag-bow"))
    with pytest.raises(HarnessError, match=r"system r: raft trains on pairs with their retrieved chunks"):
        load_suite(tiny_suite)


def test_an_empty_corpus_stops_with_one_line(tiny_suite):
    for doc in (tiny_suite / "corpus").iterdir():
        doc.write_text("   \n")
    with pytest.raises(HarnessError, match=r"corpus.*empty") as err:
        load_suite(tiny_suite)
    assert "\n" not in str(err.value)
    from harness.training.corpus import corpus_passages
    with pytest.raises(HarnessError, match=r"^train_on: corpus: the corpus has no text to train on$"):
        corpus_passages((), None, 64)
