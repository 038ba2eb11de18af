"""The disk cache: every entry is verified when read; a corrupt one is discarded, reported and recomputed."""
import contextlib
import io

import numpy as np
import pytest

from harness.core import progress
from harness.core.cache import DiskCache
from harness.core.errors import HarnessError


@pytest.fixture
def notices(monkeypatch):
    """What the cache tells the user, who sees it past pytest's capture."""
    stream = io.StringIO()
    monkeypatch.setattr(progress, "_stream", stream)
    monkeypatch.setattr(progress, "_uncaptured", contextlib.nullcontext)
    return stream


@pytest.fixture
def cache(tmp_path):
    return DiskCache(tmp_path / "cache")


def _entry(cache, namespace, suffix):
    (path,) = (cache.root / namespace).rglob(f"*{suffix}")
    return path


def test_round_trip(cache):
    cache.put("answer", "ab12", {"text": "Six.", "seconds": 0.5})
    cache.put_array("embedding", "cd34", np.arange(4, dtype="float32"))
    assert cache.get("answer", "ab12") == {"text": "Six.", "seconds": 0.5}
    assert cache.get_array("embedding", "cd34").tolist() == [0, 1, 2, 3]
    assert cache.get("answer", "ffff") is None


@pytest.mark.parametrize("damage", [
    lambda data: b"\xff\xfe" + data[2:],  # not UTF-8
    lambda data: b"{}",  # a plausible JSON value that we did not write
    lambda data: data[: len(data) // 2],  # truncated
    lambda data: b"",  # empty
    lambda data: data[:65] + data[65:].replace(b"Six", b"Ten"),  # payload edited, checksum kept
])
def test_a_damaged_json_entry_is_discarded_and_reported(cache, notices, damage):
    cache.put("answer", "ab12", {"text": "Six.", "seconds": 0.5})
    path = _entry(cache, "answer", ".json")
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get("answer", "ab12") is None
    assert not path.exists()
    err = notices.getvalue()
    assert err.count("\n") == 1 and f"cache entry {path} is corrupt" in err and "recomputing" in err


@pytest.mark.parametrize("damage", [
    lambda data: data[:80],  # truncated inside the header
    lambda data: b"",
    lambda data: data[:-16] + np.full(4, np.nan, dtype="float32").tobytes(),  # garbage over the data, header kept
])
def test_a_damaged_array_entry_is_discarded(cache, notices, damage):
    cache.put_array("embedding", "cd34", np.arange(4, dtype="float32"))
    path = _entry(cache, "embedding", ".npy")
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get_array("embedding", "cd34") is None
    assert "is corrupt" in notices.getvalue()


def test_nan_is_never_cached(cache):
    with pytest.raises(HarnessError, match="NaN"):
        cache.put_array("embedding", "cd34", np.array([1.0, np.nan], dtype="float32"))
    assert cache.get_array("embedding", "cd34") is None


def test_a_rerun_recomputes_a_corrupt_answer_and_uses_the_fresh_one(tmp_path, notices):
    """Through the Answerer: one corrupt answer costs one generation, never a traceback."""
    from harness.inputs.config import Generation
    from harness.models.answering import Answerer

    calls = []

    class Echo:
        def generate(self, prompts):
            calls.append(len(prompts))
            return [p.question.upper() for p in prompts]

    cache = DiskCache(tmp_path)
    answerer = Answerer(lambda: Echo(), "echo", Generation(), "", (), cache)
    assert [g.text for g in answerer.answer(["a", "b"])] == ["A", "B"]
    for path in (tmp_path / "answer").rglob("*.json"):
        path.write_bytes(b"{}")
        break
    assert [g.text for g in answerer.answer(["a", "b"])] == ["A", "B"]
    assert calls == [2, 1]


def test_a_sealed_folder_is_checked_file_by_file(tmp_path, notices):
    from harness.core.cache import intact, seal

    folder = tmp_path / "adapter"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00" * 1000)
    (folder / "sub" / "config.json").write_text("{}")
    seal(folder)
    assert intact(folder)
    (folder / "weights.bin").write_bytes(b"\x00" * 999 + b"\x01")  # same size, one byte changed
    assert not intact(folder) and not folder.exists()
    assert "weights.bin" in notices.getvalue()
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"")  # left by an older version: no manifest
    assert not intact(folder) and not folder.exists()
    assert not intact(folder)  # absent: nothing to report
    assert notices.getvalue().count("\n") == 2
