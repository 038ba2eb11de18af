"""The interleaved timing helper of benchmarks/: order of calls, statistics and the noise warning."""
import pytest

from benchmarks.interleave import Summary, interleave, report


def test_contenders_run_interleaved_in_rotating_order_after_a_warm_up():
    calls = []
    seconds = interleave({name: (lambda n=name: calls.append(n)) for name in "ABC"}, rounds=3)
    assert calls == list("ABC") + list("ABC" "BCA" "CAB")
    assert {name: len(s) for name, s in seconds.items()} == {"A": 3, "B": 3, "C": 3}


def test_median_and_spread():
    s = Summary.of([2.0, 10.0, 4.0, 4.0])
    assert (s.median, s.fastest, s.slowest) == (4.0, 2.0, 10.0)
    assert s.spread == pytest.approx(2.0)


def test_steady_contenders_give_a_ratio_with_its_range_and_no_warning():
    lines = report({"ref": [10.0, 10.5, 9.5], "fast": [5.0, 5.2, 4.8]}, "ref", work=10, unit="answers")
    assert len(lines) == 2 and "WARNING" not in "".join(lines)
    assert "median    5.00 s" in lines[1] and "2.00 answers/s" in lines[1]
    assert "2.00x ref [1.83-2.19]" in lines[1]  # 9.5/5.2 .. 10.5/4.8


def test_a_contender_too_noisy_to_compare_is_named():
    lines = report({"ref": [7.0, 38.0, 12.0], "other": [9.0, 9.1, 8.9]}, "ref", work=10, unit="answers")
    warnings = [line for line in lines if "WARNING" in line]
    assert len(warnings) == 1
    assert "ref varied by 258% of its median over 3 rounds (limit 25%)" in warnings[0]
    assert "1.33x ref [0.77-4.27]" in lines[1]  # the range straddles 1: which is faster is not settled


def test_phase_flops_count_the_padding_rows_and_columns_of_fixed_shape_batches():
    from types import SimpleNamespace

    from benchmarks.phases import Weights, generation_work
    from harness.models.padding import padded_batches
    from harness.models.prompts import PromptParts, Reply

    weights = SimpleNamespace(body=10, head=100, attention_width=1, forward=lambda t, p: Weights.forward(weights, t, p),
                              attention=lambda pairs: Weights.attention(weights, pairs))

    class Generator:  # prompts of 10, 70 and 20 tokens; prefill batches of 2 rows, padded to 64-token multiples;
        settings = SimpleNamespace(batch_size=2, decode_rows=2)  # decode steps of 2 rows

        def _batches(self, rows):
            return padded_batches(rows, 2)

        def _wave_rows(self, rows):
            return 8

        def render(self, parts):
            return parts.question

        def _split(self, text, head):
            return (), list(range(int(text)))

        def _tokens(self, text):
            return list(text)

    parts = [PromptParts("", (), None, n) for n in ("10", "70", "20")]
    prefill, decode = generation_work(Generator(), parts, [Reply("ab"), Reply("a"), Reply("abc")], weights)
    # prefill: 100 prompt tokens and 3 picks, of 2x64 + 2x128 rows run with 4 picks; attention over each
    # prompt's causal pairs (55 + 2485 + 210), of every padded row against every column (2x64x64 + 2x128x128)
    assert (prefill.useful, prefill.computed) == (2 * 10 * 100 + 2 * 100 * 3 + 4 * 2750,
                                                  2 * 10 * 384 + 2 * 100 * 4 + 4 * (2 * 64 * 64 + 2 * 128 * 128))
    # decode: 3 + 2 + 4 tokens (each answer's and its stop), the first of each from prefill: 6 forwards; in steps
    # of 2 rows: 3 live rows take 2 steps, then 2 rows 1 step, then 1 row (and a copy) 1 step: 8 rows run
    assert (decode.useful, decode.computed) == (2 * 10 * 6 + 2 * 100 * 6, 2 * 10 * 8 + 2 * 100 * 8)
