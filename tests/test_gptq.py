"""GPTQ checkpoints: `harness quantize` writes one from the suite's corpus, and it answers and trains like any other."""
import importlib.util
import json

import pytest

from harness.cli import main
from harness.core.errors import Unavailable
from harness.inputs.config import Generation
from harness.models.base import make_generator
from harness.models.quantize import RECORD
from harness.run import EvalRun
from harness.suite import load_suite


def quantize_tiny(suite_dir, model, out, cache) -> int:
    # the tiny models' linears are 32 and 64 wide: one scale per 32 columns
    return main(["quantize", "--suite", str(suite_dir), "--generator", str(model), "--out", str(out),
                 "--group-size", "32", "--cache-dir", str(cache)])


@pytest.mark.must_run_in_ci
def test_a_checkpoint_quantized_on_the_corpus_answers_and_trains_lora(tiny_suite, square_lm, tmp_path, capsys):
    pytest.importorskip("gptqmodel", reason='the GPTQ runtime: pip install -e ".[gptq]"')
    from gptqmodel.nn_modules.qlinear import BaseQuantLinear

    out = tmp_path / "tiny-gptq"
    assert quantize_tiny(tiny_suite, square_lm, out, tmp_path / "cache") == 0
    assert f"to run a suite on it: `generator: {out}`" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())["quantization_config"]
    assert (config["quant_method"], config["bits"], config["group_size"]) == ("gptq", 4, 32)
    assert json.loads((out / RECORD).read_text())["calibration_texts"] >= 1
    assert not list(tmp_path.glob(".tiny-gptq.*"))  # its temporary folder was renamed, none left beside it

    yaml = tiny_suite / "suite.yaml"
    yaml.write_text(yaml.read_text().replace("  - baseline\n", "  - baseline\n  - {name: lora, kind: lora}\n"))
    suite = load_suite(tiny_suite)
    run = EvalRun(suite, suite.systems, generator=str(out), cache_dir=tmp_path / "cache")
    answers = run.system("baseline").answer(suite.questions)
    assert len(answers) == len(suite.questions) and all(isinstance(a.text, str) for a in answers)
    model = run.models.generator.model
    assert isinstance(model.get_submodule("model.layers.0.self_attn.q_proj"), BaseQuantLinear)
    lora = run.system("lora")
    assert lora.training_log["examples"] >= 1 and lora.training_log["train"]  # trained on the quantized base
    assert len(lora.answer(suite.questions)) == len(suite.questions)
    assert run.models.generator.weights_identity.startswith(f"hf:{out}|gptq:")  # answers and adapters key on it


@pytest.mark.must_run_in_ci
def test_a_shape_gptq_cannot_pack_stops_in_one_line_and_writes_nothing(tiny_suite, tiny_lm, tmp_path, capsys):
    pytest.importorskip("gptqmodel", reason='the GPTQ runtime: pip install -e ".[gptq]"')
    out = tmp_path / "odd"
    assert quantize_tiny(tiny_suite, tiny_lm, out, tmp_path) == 2  # tiny_lm's key-value projections are 16 wide
    last = capsys.readouterr().err.splitlines()[-1]  # after optimum's own progress bars
    assert last == (f"error: GPTQ cannot quantize hf:{tiny_lm}: pack_block extension requires out_features "
                    "to be divisible by 32")
    assert not out.exists() and not list(tmp_path.glob(".odd.*"))


def without_gptq_runtime(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("optimum", "gptqmodel") else real(name, *a))


def test_a_gptq_checkpoint_without_its_runtime_stops_with_one_line_naming_the_extra(tiny_lm, tmp_path, monkeypatch):
    import shutil

    checkpoint = shutil.copytree(tiny_lm, tmp_path / "tiny-gptq")
    config = json.loads((checkpoint / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "gptq", "bits": 4, "group_size": 32}
    (checkpoint / "config.json").write_text(json.dumps(config))
    without_gptq_runtime(monkeypatch)
    make_generator(str(tiny_lm), Generation(), tmp_path).check_available()  # a plain checkpoint loads
    with pytest.raises(Unavailable, match=r"^generator .*tiny-gptq is a GPTQ checkpoint, which needs optimum and "
                                          r'gptqmodel: pip install -e "\.\[gptq\]"$'):
        make_generator(str(checkpoint), Generation(), tmp_path).check_available()


def test_quantize_without_the_runtime_or_onto_an_existing_folder_says_so_in_one_line(tiny_suite, tiny_lm, tmp_path,
                                                                                      monkeypatch, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    assert quantize_tiny(tiny_suite, tiny_lm, taken, tmp_path) == 2
    assert capsys.readouterr().err == (f"error: {taken} exists: remove it or choose another --out "
                                       "(a checkpoint is never overwritten)\n")
    without_gptq_runtime(monkeypatch)
    assert quantize_tiny(tiny_suite, tiny_lm, tmp_path / "new", tmp_path) == 2
    assert capsys.readouterr().err == 'error: harness quantize needs optimum and gptqmodel: pip install -e ".[gptq]"\n'
    assert not (tmp_path / "new").exists()
