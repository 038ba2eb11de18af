"""Progress lines: what phase, how far, how long left; shown past pytest's capture."""
import contextlib
import io
from types import SimpleNamespace

import pytest

from harness.core import progress


def _lines(monkeypatch, run, every=0.0):
    """The lines ``run`` prints; by default a line per update."""
    stream = io.StringIO()
    monkeypatch.setattr(progress, "_stream", stream)
    monkeypatch.setattr(progress, "_uncaptured", contextlib.nullcontext)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", every)
    run()
    return stream.getvalue().splitlines()


@pytest.fixture
def clock(monkeypatch):
    """harness.core.progress's clock, moved by hand: ``clock.now += 30``."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: clock.now))
    return clock


def test_plain_lines_say_phase_count_and_time_left_and_end_once(monkeypatch, clock):  # the clock stands still
    def run():
        with progress.scope("rag-x"), progress.progress("generating", total=4, unit="answers") as bar:
            bar.update(2, loss=1.23456)
            bar.update(2)
    lines = _lines(monkeypatch, run)
    assert lines[0].startswith("[harness] rag-x: generating: 0/4 answers (0%), 0:00 elapsed")
    assert lines[1].startswith("[harness] rag-x: generating: 2/4 answers (50%), 0:00 elapsed, ~0:00 left, loss 1.235")
    assert lines[-1].endswith(" done") and "4/4 answers (100%)" in lines[-1]
    assert sum("4/4" in line for line in lines) == 1  # the last update leaves the closing line to close()


def test_a_phase_without_a_count_says_started_then_done(monkeypatch, clock):
    def run():
        with progress.progress("preparing"):
            pass
    assert _lines(monkeypatch, run) == ["[harness] preparing: started, 0:00 elapsed",
                                        "[harness] preparing: started, 0:00 elapsed done"]


def test_time_left_is_the_mean_time_per_item_so_far_times_the_items_left(monkeypatch, clock):
    def run():
        with progress.progress("embedding", total=10, unit="texts") as bar:
            clock.now += 30
            bar.update(2)  # 15 s each: 8 left, 2:00
            clock.now += 5
            bar.update(1)  # 5 s after the last line: none
            clock.now += 55
            bar.update(3)  # 90 s for 6: 15 s each, 4 left, 1:00
            clock.now += 10
            bar.update(4)  # the last: its line is close()'s
    assert _lines(monkeypatch, run, every=10.0) == [
        "[harness] embedding: 0/10 texts (0%), 0:00 elapsed",
        "[harness] embedding: 2/10 texts (20%), 0:30 elapsed, ~2:00 left",
        "[harness] embedding: 6/10 texts (60%), 1:30 elapsed, ~1:00 left",
        "[harness] embedding: 10/10 texts (100%), 1:40 elapsed done"]


def test_the_training_callback_shows_step_of_total_loss_and_hours_left(monkeypatch, clock):
    transformers = pytest.importorskip("transformers")
    from harness.training.progress import progress_callback

    def run():
        callback, state = progress_callback("training lora"), transformers.TrainerState(max_steps=100)
        callback.on_train_begin(None, state, None)
        for loss in (2.34567, 1.5):  # as the Trainer calls it: a step ends, then its loss is logged
            clock.now += 75
            callback.on_step_end(None, state, None)
            callback.on_log(None, state, None, logs={"loss": loss})
        callback.on_log(None, state, None, logs={"eval_loss": 1.25})
        callback.on_train_end(None, state, None)
    # 75 s a step: after 1 step 99 x 75 s = 2h03 left; after 2, 98 x 75 s = 2h02. A loss shows on the next line.
    assert _lines(monkeypatch, run, every=10.0) == [
        "[harness] training lora: 0/100 steps (0%), 0:00 elapsed",
        "[harness] training lora: 1/100 steps (1%), 1:15 elapsed, ~2h03 left",
        "[harness] training lora: 2/100 steps (2%), 2:30 elapsed, ~2h02 left, loss 2.346",
        "[harness] training lora: 2/100 steps (2%), 2:30 elapsed, loss 1.5, eval loss 1.25 done"]
