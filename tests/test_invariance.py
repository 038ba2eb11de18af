"""An answer depends on its prompt alone: not on its batch-mates, the cache, --systems, -n or the
order of questions. A real (tiny, random) model answers in bfloat16, where a prompt padded beside
other prompts rounds differently; its near-tied logits make any such difference show."""
import json
import random

import shutil

import pytest
import yaml

from harness.core.cache import DiskCache
from harness.inputs.config import Generation
from harness.models import make_generator
from harness.models.answering import Answerer
from harness.models.prompts import PromptParts


WORDS = "how many players field six seven ten metres penalty team the a is of quollball ball hat orange".split()


def _suite(project, tiny_lm, questions: int = 14) -> None:
    """The tiny suite with the tiny model in bfloat16, more questions of many lengths, small batches."""
    suite = project.path / "suite"
    config = yaml.safe_load((suite / "suite.yaml").read_text())
    config.update(generator=str(tiny_lm), generation={"dtype": "bfloat16", "batch_size": 3, "decode_rows": 4,
                                                            "max_new_tokens": 6})
    config["thresholds"] = {}
    (suite / "suite.yaml").write_text(yaml.safe_dump(config))
    rng = random.Random(7)
    extra = [{"id": f"x{i}", "question": " ".join(rng.choices(WORDS, k=rng.randint(3, 40))) + " ?",
              "answer": "Nine", "evidence": ["A quollball team fields exactly nine players."]}
             for i in range(questions)]
    with (suite / "questions.yaml").open("a") as handle:
        handle.write(yaml.safe_dump(extra))


def _answers(project, cache: str, *args) -> dict[tuple[str, str], str]:
    outcome = project.runpytest_subprocess("evals", "--suite", "suite", "-p", "no:cacheprovider", "-k", "answer",
                                           "--cache-dir", cache, *args)
    assert outcome.ret in (0, 1), outcome.stdout.str()[-3000:]  # 1: a wrong answer fails its test
    rows = json.loads((project.path / "reports" / "results.json").read_text())["results"]
    return {(r["system"], r["id"]): r["answer"] for r in rows}


def _prompts(count: int) -> list[PromptParts]:
    rng = random.Random(7)
    sentence = lambda: " ".join(rng.choices(WORDS, k=rng.randint(100, 400)))  # noqa: E731
    return [PromptParts("Answer briefly.", (), (sentence(),) if i % 2 else None, sentence() + " ?")
            for i in range(count)]


def _first_logits(generator) -> dict[tuple, set[bytes]]:
    """Every prompt's next-token logits, bit for bit, each time the model reads it (keyed by its tokens)."""
    seen: dict[tuple, set[bytes]] = {}

    def record(module, args, kwargs, output):
        ids = kwargs["input_ids"]
        if ids.shape[1] > 1:  # the prompt itself, not a generated token
            for row, logits in zip(ids, output.logits[:, -1]):
                keep = row != generator.tokenizer.pad_token_id
                seen.setdefault(tuple(row[keep].tolist()), set()).add(logits.float().numpy().tobytes())

    generator.model.register_forward_hook(record, with_kwargs=True)
    return seen


def test_an_answer_depends_on_its_prompt_alone(wide_lm, tmp_path):
    """Any subset, in any order, from any state of the cache: the same arithmetic for the same prompt,
    hence the same answer."""
    settings = Generation(dtype="bfloat16", batch_size=3, decode_rows=4, max_new_tokens=6)
    generator = make_generator(str(wide_lm), settings, tmp_path)
    logits = _first_logits(generator)
    answerer = Answerer(lambda: generator, "wide", settings, "Answer briefly.", (), DiskCache(tmp_path / "cache"))
    prompts = _prompts(16)
    ask = lambda indices: [a.text for a in answerer.answer([prompts[i].question for i in indices],  # noqa: E731
                                                           [prompts[i].context or () for i in indices])]
    cold = ask(range(16))
    assert len(set(cold)) > 5  # a model that always says the same thing would prove nothing
    rng = random.Random(0)
    entries = sorted((tmp_path / "cache" / "answer").rglob("*.json"))
    for entry in rng.sample(entries, len(entries) // 2):
        entry.unlink()
    order = rng.sample(range(16), 16)
    assert ask(order) == [cold[i] for i in order], "half of the cache deleted, questions reordered"
    shutil.rmtree(tmp_path / "cache")
    for subset in (range(5), range(3, 16, 2), [15, 2, 9]):  # other batch-mates, from an empty cache each time
        assert ask(subset) == [cold[i] for i in subset], list(subset)
        shutil.rmtree(tmp_path / "cache")
    assert len(logits) == 16 + 1 and all(len(v) == 1 for v in logits.values()), \
        f"{sum(len(v) > 1 for v in logits.values())} of 16 prompts (and their shared head) were computed " \
        "differently beside other prompts"


@pytest.mark.must_run_in_ci
def test_a_run_gives_the_same_answers_alone_and_under_xdist(project, wide_lm):  # noqa: F811
    _suite(project, wide_lm)
    cold = _answers(project, "cold")
    assert len(cold) == 2 * 19 and len(set(cold.values())) > 5
    assert _answers(project, "alone", "--systems", "rag-bow") == {k: v for k, v in cold.items() if k[0] == "rag-bow"}
    assert _answers(project, "workers", "-n", "2") == cold
