"""``harness study`` on the tiny suite and a tiny model: the real training path, fakes for the rest."""
import html
import json

import pytest

pytest.importorskip("torch")

import harness.study.run  # noqa: E402
import harness.training.adapters  # noqa: E402
import harness.training.lora  # noqa: E402
from harness.cli import main  # noqa: E402


def write_grid(tmp_path, text: str):
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


def study(suite, grid, lm, tmp_path, *more):
    return main(["study", "--suite", str(suite), "--grid", str(grid), "--generator", str(lm),
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), *more])


@pytest.fixture
def trainings(monkeypatch):
    """The runs trained, by their epochs and the checkpoints they saved."""
    calls = []
    real = harness.training.adapters.train_adapter

    def counted(generator, pairs, settings, *args, **kwargs):
        calls.append((settings.epochs, tuple(kwargs.get("checkpoints") or ())))
        return real(generator, pairs, settings, *args, **kwargs)

    monkeypatch.setattr(harness.training.adapters, "train_adapter", counted)
    return calls


GRID = """\
system: lora
grid:
  - {epochs: [1, 2, 3]}
  - {batch_size: [4]}
"""


def test_a_study_trains_each_run_once_answers_from_checkpoints_and_renders(tiny_suite, tiny_lm, tmp_path,
                                                                           trainings, capsys):
    assert study(tiny_suite, write_grid(tmp_path, GRID), tiny_lm, tmp_path) == 0
    out = capsys.readouterr().out
    assert "verdict: " in out and "estimate: " in out
    # The suite's own settings train as themselves; epochs 1 and 2 are checkpoints of one run of 3; batch 4 its own
    assert sorted(trainings) == [(2, ()), (2, ()), (3, (1, 2))]
    data = json.loads((tmp_path / "out" / "study.json").read_text())
    cells = {c["label"]: c for c in data["cells"]}
    assert set(cells) == {"suite settings", "epochs=1", "epochs=2", "epochs=3", "batch_size=4"}
    run = cells["epochs=3"]["adapter"]
    assert cells["epochs=1"]["adapter"] == run + "@1" and cells["epochs=2"]["adapter"] == run + "@2"
    assert cells["epochs=1"]["checkpoint_of"] == cells["epochs=2"]["checkpoint_of"] == run
    assert cells["suite settings"]["checkpoint_of"] is cells["epochs=3"]["checkpoint_of"] is None
    assert "@" not in cells["suite settings"]["adapter"] != run
    # the epochs series is the run and its checkpoints; the batch size series has the suite's own run
    series = {s["dimension"]: [p["cell"] for p in s["points"]] for s in data["series"]}
    ids = {label: c["id"] for label, c in cells.items()}
    assert series == {"epochs": [ids["epochs=1"], ids["epochs=2"], ids["epochs=3"]],
                      "batch_size": [ids["suite settings"], ids["batch_size=4"]]}
    for cell in data["cells"]:
        assert cell["n"] == 5 and len(cell["outcomes"]) == 5
        # curves on an axis of epochs: batch 2 and batch 4 end at their own epochs, whatever their steps
        assert cell["curve_train"][-1][0] == pytest.approx(cell["coordinates"]["epochs"], abs=1e-6)
        assert cell["curve_eval"][-1][0] == pytest.approx(cell["coordinates"]["epochs"], abs=1e-6)
    assert cells["batch_size=4"]["coordinates"] == {"epochs": 2, "batch_size": 4}
    assert cells["epochs=1"]["train_seconds"] < cells["epochs=3"]["train_seconds"]
    md = (tmp_path / "out" / "study.md").read_text()
    assert md.splitlines()[2].startswith("**Verdict: ") and "Note: cells with fewer epochs answer" in md
    for name in ("study.html", "study_loss.png", "study_accuracy.png"):
        assert (tmp_path / "out" / name).stat().st_size > 1000

    # rendered again from study.json alone
    (tmp_path / "out" / "study.md").unlink()
    assert main(["report", "--study", str(tmp_path / "out" / "study.json")]) == 0
    assert (tmp_path / "out" / "study.md").read_text() == md

    # beside a run's results.json (reports/study/), the study is a section of the run's report.html
    from synthetic_run import made_up_suite, run_report, synthetic_rows

    suite = made_up_suite(tmp_path / "made-up", 10)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "results.json").write_text(run_report(suite, synthetic_rows(suite, ["baseline"], 0)[0]).to_json())
    (tmp_path / "out").rename(reports / "study")
    assert main(["report", "--results-json", str(reports / "results.json")]) == 0
    page = (reports / "report.html").read_text()
    assert "Fine-tuning study: lora (lora)" in page and html.escape(data["verdict"]["headline"]) in page


def test_an_interrupted_study_resumes_without_training_a_finished_cell_again(tiny_suite, tiny_lm, tmp_path,
                                                                             trainings, monkeypatch):
    real = harness.study.run.run_cell
    done = []

    def interrupted(*args, **kwargs):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(real(*args, **kwargs))
        return done[-1]

    monkeypatch.setattr(harness.study.run, "run_cell", interrupted)
    with pytest.raises(KeyboardInterrupt):
        study(tiny_suite, write_grid(tmp_path, GRID), tiny_lm, tmp_path)
    assert sorted(trainings) == [(2, ()), (3, (1, 2))]  # the suite's own settings, then epochs=1
    monkeypatch.setattr(harness.study.run, "run_cell", real)
    trainings.clear()
    assert study(tiny_suite, write_grid(tmp_path, GRID), tiny_lm, tmp_path) == 0
    assert trainings == [(2, ())]  # only the batch-4 run was left
    trainings.clear()
    assert study(tiny_suite, write_grid(tmp_path, GRID), tiny_lm, tmp_path) == 0
    assert trainings == []


def test_a_study_over_budget_is_refused_in_one_line_before_training(tiny_suite, tiny_lm, tmp_path, trainings,
                                                                    capsys):
    code = study(tiny_suite, write_grid(tmp_path, GRID), tiny_lm, tmp_path, "--budget", "0.0001")
    err = capsys.readouterr().err
    assert code == 2 and trainings == []
    assert not (tmp_path / "cache" / "adapters").exists()
    line = err.strip().splitlines()[-1]  # above it, only the model's loading bar (the estimate times a few steps)
    assert "Traceback" not in err and line.startswith("error: the study's estimate: ") and "3 training runs" in line
    assert "passes --budget 0.0001 min" in line


@pytest.mark.parametrize("grid, message", [
    ("", r"grid\.yaml: missing field 'system'"),
    ("system: lora\ngrid: {epochs: 3}\n", r"grid\.yaml:2: field 'grid\.0\.epochs': Input should be a valid list"),
    ("- epochs: [1]\n", r"grid\.yaml(:1)?: expected a mapping, got list"),
    ("system: lora\ngrid: {epoch: [1, 2]}\n",
     r"grid\.yaml:2: grid dimension 'epoch': not a setting of lora \(did you mean 'epochs'\?\)"),
    ("system: lora\ngrid: {seed: [1, 2]}\n", r"grid dimension 'seed': seeds: sets the seeds"),
    ("system: rag-bow\ngrid: {epochs: [1]}\n", r"grid\.yaml:1: system 'rag-bow' does not fine-tune"),
    ("system: lroa\ngrid: {epochs: [1]}\n", r"system 'lroa' is not a system of the suite that fine-tunes "
                                            r"\(did you mean 'lora'\?\)"),
    ("system: lora\ngrid: {epochs: [0]}\n", r"cell epochs=0, seed 0: field 'epochs': Input should be greater"),
    ("system: lora\ngrid: {epochs: []}\n", r"grid\.yaml:2: field 'grid': .*dimension 'epochs' has no values"),
    ("system: lora\ngrid: {target_modules: [[q_proj, qx_proj]]}\n",
     r"cell target_modules=q_proj\+qx_proj: LoRA target modules \['qx_proj'\] are not linear layers of .*"
     r"\(did you mean 'q_proj'\?\)"),
])
def test_a_bad_grid_is_one_line_before_anything_trains(tiny_suite, tiny_lm, tmp_path, trainings, capsys, grid,
                                                      message):
    import re

    assert study(tiny_suite, write_grid(tmp_path, grid), tiny_lm, tmp_path) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert trainings == []


def test_the_best_settings_run_again_with_the_replicate_seeds(tiny_suite, tiny_lm, tmp_path, trainings, capsys):
    grid = write_grid(tmp_path, "system: lora\ngrid: {target_modules: [[q_proj, k_proj]], epochs: [1]}\n"
                                "replicate: {best: 1, seeds: [0, 1]}\n")
    assert study(tiny_suite, grid, tiny_lm, tmp_path) == 0
    data = json.loads((tmp_path / "out" / "study.json").read_text())
    best = max(data["cells"][:2], key=lambda c: (c["accuracy"], c["label"] == "suite settings"))["label"]
    again = [(c["label"], c["seed"]) for c in data["cells"][2:]]
    # seed 0 of it ran already; the suite's own settings, the verdict's reference, run with the seeds too
    assert again == [(best, 1)] + [("suite settings", 1)] * (best != "suite settings")
    assert len(trainings) == 2 + len(again)
    assert data["verdict"]["seeds"] == [0, 1] and data["verdict"]["holds_in_every_seed"] is not None
    assert any(line.startswith(f"{best}: seed 0 ") for line in data["verdict"]["lines"])
