"""Decoding many prefilled rows in steps of one shape (harness/models/decoding.py), on tiny real models."""
import random

import pytest

torch = pytest.importorskip("torch")

from tiny_models import WORDS  # noqa: E402

from harness.inputs.config import Generation  # noqa: E402
from harness.models import make_generator  # noqa: E402
from harness.models.decoding import decode  # noqa: E402
from harness.models.padding import decode_waves, padded_rows  # noqa: E402
from harness.models.prompts import PromptParts, clean_reply, completion_head  # noqa: E402

ROWS = 3  # rows a decode step


def _prompts(count: int, seed: int = 3) -> list[PromptParts]:
    rng = random.Random(seed)
    return [PromptParts("answer the question .", (), None, " ".join(rng.choices(WORDS[:-3], k=rng.randint(2, 100))) + " ?")
            for _ in range(count)]


def _decode_alone(generator, rows, batch, stopped, max_new):
    """Each row of ``batch`` prefilled and decoded with no other prompt beside it."""
    out = {}
    for i in batch:
        out.update(decode(generator.model, [generator._prefill([rows[i]], [i])], ROWS, max_new, stopped, None))
    return out


def test_every_step_has_one_shape_rows_that_stop_leave_and_a_row_decodes_as_it_would_alone(tiny_lm, tmp_path):
    generator = make_generator(str(tiny_lm), Generation(batch_size=2, decode_rows=ROWS, dtype="float32"), tmp_path)
    prompts = _prompts(10)
    rows = [generator._split(generator.render(p), completion_head(p)) for p in prompts]
    # a random model never writes a line break: a rule of a row's own tokens stops rows at their own times
    stopped = lambda replies: replies.sum(dim=1) % 5 == 0  # noqa: E731
    steps = []
    generator.model.register_forward_hook(
        lambda m, a, kw, out: steps.append(kw["input_ids"].shape[0]) if kw["input_ids"].shape[1] == 1 else None,
        with_kwargs=True)
    waves = decode_waves(rows, generator._batches(rows), most=7)
    assert len(waves) >= 2 and any(len(wave) > 1 for wave in waves)  # several waves, some of several batches
    replies = {}
    with torch.inference_mode():
        for wave in waves:
            prefilled = [generator._prefill([rows[i] for i in batch], batch) for batch in wave]
            replies.update(decode(generator.model, prefilled, ROWS, 12, stopped, None))
        decoded, steps[:] = list(steps), []
        lengths = {len(tokens) for tokens in replies.values()}
        assert len(lengths) >= 3, lengths  # rows stopped at different times, so there was something to pack
        assert set(decoded) == {ROWS}  # every step one shape: a short one is filled with copies
        packed = sum(-(-sum(len(replies[i]) > s for batch in wave for i in batch) // ROWS)
                     for wave in waves for s in range(1, 12))
        unpacked = sum(-(-sum(map(len, wave)) // ROWS) * (max(len(replies[i]) for b in wave for i in b) - 1)
                       for wave in waves)
        assert len(decoded) == packed < unpacked  # the live rows were packed into fewer steps as rows stopped
        for wave in waves:
            for batch in wave:
                assert _decode_alone(generator, rows, batch, stopped, 12) == {i: replies[i] for i in batch}


def test_a_decode_step_writes_its_column_into_the_cache_in_place(tiny_lm, tmp_path):
    """Packed rows' caches have room for the tokens to come: a step adds its keys and values where they
    were, instead of a new concatenation of every layer's whole cache."""
    generator = make_generator(str(tiny_lm), Generation(batch_size=2, decode_rows=ROWS, dtype="float32"), tmp_path)
    rows = [generator._split(generator.render(p), completion_head(p)) for p in _prompts(2)]
    storages = []
    generator.model.register_forward_hook(
        lambda m, a, kw, out: storages.append([layer.keys.untyped_storage().data_ptr() for layer in out.past_key_values.layers])
        if kw["input_ids"].shape[1] == 1 else None, with_kwargs=True)
    with torch.inference_mode():
        decode(generator.model, [generator._prefill(rows, [0, 1])], ROWS, 6, lambda replies: replies[:, 0] < 0, None)
    assert len(storages) == 5 and all(step == storages[0] for step in storages)


def test_decoding_past_the_sliding_window_answers_as_generate_does(sliding_lm, tmp_path):
    """A Gemma 3 whose local layers keep 8 positions: the rows' caches, gathered and packed again, still
    answer as transformers' own generate() does for each prompt alone."""
    prompts = _prompts(7, seed=5)
    batched = make_generator(str(sliding_lm), Generation(batch_size=2, decode_rows=ROWS, max_new_tokens=12,
                                                         dtype="float32"), tmp_path)
    answers = batched.generate(prompts)
    model, tokenizer = batched.model, batched.tokenizer
    expected = []
    for parts in prompts:  # each alone, laid out as a batch lays it out: [head | left padding | rest]
        ids, mask = (torch.tensor(t) for t in padded_rows([batched._split(batched.render(parts), completion_head(parts))],
                                                          1, tokenizer.pad_token_id))
        assert ids.shape[1] > 8  # longer than the window before the reply begins
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12,
                                 do_sample=False, eos_token_id=tokenizer.eos_token_id,
                                 pad_token_id=tokenizer.pad_token_id)
        expected.append(clean_reply(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)).text)
    assert [a.text for a in answers] == expected
    assert len(set(expected)) > 3
