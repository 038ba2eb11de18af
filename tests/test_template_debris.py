"""Chat-template debris: answers cut at the first marker, and what was cut recorded."""
import pytest

from harness.core.cache import DiskCache
from harness.inputs.config import Generation
from harness.models.answering import Answerer
from harness.models.prompts import (
    SECOND_QUESTION,
    TEMPLATE_MARKERS,
    TURN_OPENERS,
    PromptParts,
    Reply,
    clean_reply,
    stop_sequences,
)


@pytest.mark.parametrize("raw, kept, debris", [
    ("Three. </s><s>[INST]What is the difference between a goal and a try?", "Three.", "</s>"),
    ("\n\nHow many players?  [/INST]\n\n[INST]Answer in ten words.", "How many players?", "[/INST]"),
    ("Nine.<|im_end|>\n<|im_start|>user", "Nine.", "<|im_end|>"),
    ("Nine.<end_of_turn>\n<start_of_turn>user", "Nine.", "<end_of_turn>"),
    ("Nine.<|eot_id|><|start_header_id|>user", "Nine.", "<|eot_id|>"),
    ("Nine.<|endoftext|>", "Nine.", "<|endoftext|>"),
    ("Nine.\n\nWhat else? </s>", "Nine.", "</s>"),  # past the first line: the raw reply still had it
    ("</s>\n\n[User 0003]", "", "</s>"),
    ("Eleven.\n\nQuestion: How long is a match?", "Eleven.", SECOND_QUESTION),
    ("Three. What is a goal?", "Three. What is a goal?", SECOND_QUESTION),  # no marker to cut at: kept
    ("7.5 metres. The defender retires.\nQuestion", "7.5 metres. The defender retires.", None),
    ("Is it a try? Yes.", "Is it a try? Yes.", None),
])
def test_a_reply_ends_at_its_first_template_marker(raw, kept, debris):
    assert clean_reply(raw) == Reply(kept, debris)
    assert clean_reply(kept).text == kept  # idempotent: cached answers are cut again on read


def test_stop_sequences_fit_the_api_and_are_markers():
    assert [len(stop_sequences(chat)) for chat in (True, False)] == [4, 4]  # the OpenAI API takes at most 4
    assert stop_sequences(chat=False)[0] == "\n" and set(TURN_OPENERS) <= set(TEMPLATE_MARKERS)


class RunsOn:
    identity = "runs-on"

    def __init__(self, reply):
        self.reply, self.calls = reply, 0

    def generate(self, prompts):
        self.calls += len(prompts)
        return [self.reply] * len(prompts)  # plain strings: a backend of your own


def answerer(tmp_path, gen):
    return Answerer(lambda: gen, gen.identity, Generation(), "Be brief.", [], DiskCache(tmp_path))


def test_what_was_cut_is_cached_with_the_answer(tmp_path):
    gen = RunsOn("Nine. </s><s>[INST] What else?")
    first = answerer(tmp_path, gen).answer(["q"])[0]
    again = answerer(tmp_path, gen).answer(["q"])[0]
    assert (first.text, first.debris, first.cached) == ("Nine.", "</s>", False)
    assert (again.text, again.debris, again.cached) == ("Nine.", "</s>", True) and gen.calls == 1


def test_an_answer_cached_before_cutting_is_cut_on_read(tmp_path):
    gen = RunsOn("never asked")
    stale = answerer(tmp_path, gen)
    stale.cache.put("answer", stale._key(PromptParts("Be brief.", (), None, "q")),
                    {"text": "Three. </s><s>[INST]What is a goal?", "seconds": 1.0})  # no "debris": the old format
    got = answerer(tmp_path, gen).answer(["q"])[0]
    assert (got.text, got.debris, got.cached) == ("Three.", "</s>", True) and gen.calls == 0
