"""Progress lines: what phase, how far, how long left; shown past pytest's capture."""
import contextlib
import io

from harness.core import progress


def _lines(monkeypatch, run):
    stream = io.StringIO()
    monkeypatch.setattr(progress, "_stream", stream)
    monkeypatch.setattr(progress, "_uncaptured", contextlib.nullcontext)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # a line per update
    run()
    return stream.getvalue().splitlines()


def test_plain_lines_say_phase_count_and_time_left_and_end_once(monkeypatch):
    def run():
        with progress.scope("rag-x"), progress.progress("generating", total=4, unit="answers") as bar:
            bar.update(2, loss=1.23456)
            bar.update(2)
    lines = _lines(monkeypatch, run)
    assert lines[0].startswith("[harness] rag-x: generating: 0/4 answers (0%), 0:00 elapsed")
    assert lines[1].startswith("[harness] rag-x: generating: 2/4 answers (50%), 0:00 elapsed, ~0:00 left, loss 1.235")
    assert lines[-1].endswith(" done") and "4/4 answers (100%)" in lines[-1]
    assert sum("4/4" in line for line in lines) == 1  # the last update leaves the closing line to close()


def test_a_phase_without_a_count_says_started_then_done(monkeypatch):
    def run():
        with progress.progress("preparing"):
            pass
    assert _lines(monkeypatch, run) == ["[harness] preparing: started, 0:00 elapsed",
                                        "[harness] preparing: started, 0:00 elapsed done"]
