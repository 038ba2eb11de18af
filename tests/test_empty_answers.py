"""Empty answers are seen (issue 34, item 7): a reply that opens with a line break goes on to its
answer instead of ending empty, and the empty answers a system does give are warned about once."""
from pathlib import Path

import pytest

from harness.models.prompts import clean_reply
from harness.results.model import Row

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "fixtures" / "touch_rugby"


def test_a_reply_that_opens_with_line_breaks_keeps_its_first_line_of_text():
    assert clean_reply("\n\nSix players.").text == "Six players."
    assert clean_reply("\n \n Six players.\nQuestion: how many?").text == "Six players."
    assert clean_reply("\n\n").text == ""


# ---- the transformers path: a tiny model whose vocabulary holds line breaks, steered token by token

NEWLINE, TEXT_THEN_BREAK = "\n", "ten\n"  # a bare line break; text and a line break in one token


@pytest.fixture(scope="module")
def newline_lm(tmp_path_factory):
    """tiny_lm's model with two line-break tokens in its vocabulary."""
    torch = pytest.importorskip("torch")
    from tiny_models import tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("newline-lm")
    tok, size = tokenizer(["<pad>", "<bos>", "<eos>", NEWLINE, TEXT_THEN_BREAK, "<unk>"])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>",
                            unk_token="<unk>").save_pretrained(path)
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, pad_token_id=0, bos_token_id=1,
                                 eos_token_id=2, max_position_embeddings=256)).save_pretrained(path)
    return path


def _generator(path, tmp_path, batch_size=2, max_new_tokens=8):
    from harness.inputs.config import Generation
    from harness.models import make_generator

    return make_generator(str(path), Generation(batch_size=batch_size, max_new_tokens=max_new_tokens,
                                                dtype="float32"), tmp_path)


def _steer(generator, scripts):
    """Make the model write scripts[row] token by token in every batch (its logits overruled after each
    forward pass; a row past its script repeats the script's last token)."""
    vocab = generator.tokenizer.get_vocab()
    ids = [[vocab[t] for t in script] for script in scripts]
    state = {"step": 0}

    def hook(module, args, kwargs, output):
        rows, width = kwargs["input_ids"].shape
        if rows == 1 and width > 1 and rows != generator.settings.batch_size:
            return output  # the shared head's keys and values, computed once
        state["step"] = 0 if width > 1 else state["step"] + 1
        logits = output.logits[:, -1]
        for row in range(rows):
            script = ids[row % len(ids)]
            token = script[min(state["step"], len(script) - 1)]
            logits[row] = -1e4
            logits[row, token] = 1e4
        return output

    generator.model.register_forward_hook(hook, with_kwargs=True)


def test_a_reply_that_opens_with_a_line_break_is_not_empty(newline_lm, tmp_path):
    from harness.models.prompts import PromptParts

    generator = _generator(newline_lm, tmp_path)
    _steer(generator, [[NEWLINE, NEWLINE, "six", "players", ".", NEWLINE, "seven", "<eos>"],
                       [NEWLINE, "ten", "metres", "<eos>"]])
    prompts = [PromptParts("answer .", (), None, q) for q in ("how many players ?", "how many metres ?")]
    replies = generator.generate(prompts)
    assert [r.text for r in replies] == ["six players .", "ten metres"]  # the old stop rule gave "" for both
    assert generator.complete(["how many players ?"]) == ["six players ."]  # the judge's path alike


def test_a_row_stops_at_a_line_break_only_after_text(newline_lm, tmp_path):
    """The stopping rule itself, on crafted replies, through the class generate() gets."""
    import torch

    generator = _generator(newline_lm, tmp_path)
    vocab = generator.tokenizer.get_vocab()
    prompt = [vocab[w] for w in "how many players ?".split()]
    replies = {  # reply tokens -> whether the row stops after its last token
        (NEWLINE,): False,
        (NEWLINE, NEWLINE): False,
        (NEWLINE, "six"): False,
        (NEWLINE, NEWLINE, "six", "players"): False,
        (NEWLINE, "six", NEWLINE): True,
        ("six", NEWLINE): True,
        (TEXT_THEN_BREAK,): True,  # text ahead of the break in one token
        (NEWLINE, TEXT_THEN_BREAK): True,
        ("<pad>", NEWLINE): False,  # a special token is no text
    }
    rule = generator._first_line(len(prompt))
    for reply, stops in replies.items():
        ids = torch.tensor([prompt + [vocab[t] for t in reply]])
        assert rule(ids, None).tolist() == [stops], reply
    # one batch, as generate() checks it: each row on its own
    batch = [(NEWLINE, NEWLINE), (NEWLINE, "six"), ("six", NEWLINE), (NEWLINE, TEXT_THEN_BREAK), ("<pad>", NEWLINE)]
    ids = torch.tensor([prompt + [vocab[t] for t in reply] for reply in batch])
    assert rule(ids, None).tolist() == [False, False, True, True, False]


# ---- the report: empty answers counted apart, one warning per system

def _row(system, qid, answer):
    return Row(system=system, id=qid, answer=answer, correct=None if answer is None else False, evidence_rank=None,
               retrieved=[], explanation="", seconds=0.1, verdict_source="judge", certain=True, judge=None)


def test_empty_answers_are_counted_and_warned_about_once_per_system():
    from synthetic_run import run_report

    from harness.suite import load_suite

    suite = load_suite(SUITE)
    ids = [q.id for q in suite.questions]
    blank = {ids[0]: "", ids[1]: "  \n ", ids[2]: "\n"}
    rows = [_row("baseline", q, blank.get(q, "Six players.")) for q in ids]
    rows = [r.model_copy(update={"answer": None, "correct": None}) if r.id == ids[3] else r for r in rows]
    rows += [_row("rag-minilm", q, "Six players.") for q in ids]
    warnings = run_report(suite, rows).analysis.warnings
    empty = [w for w in warnings if " empty answer" in w]
    assert empty == [next(w for w in warnings if w.startswith(f"baseline gave 3 empty answers of {len(ids) - 1}:"))]
    assert not any(w.startswith("rag-minilm gave") for w in warnings)
