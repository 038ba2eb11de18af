"""The plugin end to end: the real eval tests on the tiny suite, with fake models."""
import json
import os
import re
import shutil
import subprocess
import sys

import fakes
import pytest

from conftest import ROOT
from throwaway import results, run


def test_results_contract_and_scorecard(project):
    outcome = run(project)
    outcome.assert_outcomes(passed=13, failed=5)  # rag-bow, both judge tests, decontamination pass; baseline fails
    data = results(project)
    assert data["schema_version"] == 4 and data["spec"]["suite"] == "tiny"
    first_question = data["spec"]["questions"][0]  # the file holds each question with its gold answer
    assert (first_question["id"], first_question["question"], first_question["answer"]) == (
        "t1", "How many players does a quollball team field?", "Nine")
    assert [(s["name"], s["family"], s["settings"].get("k")) for s in data["spec"]["systems"]] == [
        ("baseline", "none", None), ("rag-bow", "retrieval", 2)]
    systems = data["analysis"]["systems"]
    keys = ("family", "n", "correct", "accuracy", "unscored", "by_prior", "forgotten")
    assert {k: systems["baseline"][k] for k in keys} == {
        "family": "none", "n": 5, "correct": 0, "accuracy": 0.0, "unscored": 0, "forgotten": [],
        "by_prior": {"known": {"n": 0, "correct": 0}, "unknown": {"n": 5, "correct": 0}}}
    assert systems["baseline"]["retrieval"] is None
    assert {k: systems["rag-bow"]["retrieval"][k] for k in ("k", "n", "recall", "mrr")} == {"k": 2, "n": 5,
                                                                                            "recall": 1.0, "mrr": 1.0}
    assert data["analysis"]["verdict"]["winner"] == "rag-bow"
    first = data["results"][0]
    assert {"system", "id", "answer", "correct", "evidence_rank", "retrieved"} <= set(first)
    assert [(r["system"], r["id"]) for r in data["results"]][:2] == [("baseline", "t1"), ("baseline", "t2")]
    rag_t2 = next(r for r in data["results"] if (r["system"], r["id"]) == ("rag-bow", "t2"))
    assert rag_t2["answer"] == "Every quollball match lasts for thirty minutes"
    assert rag_t2["correct"] is True and rag_t2["evidence_rank"] == 1
    assert set(rag_t2["retrieved"][0]) == {"source", "text", "score"} and len(rag_t2["retrieved"]) == 2
    card = (project.path / "reports" / "scorecard.md").read_text()
    assert card.startswith("# Scorecard: tiny\n\n## Verdict\n\n**Not settled: rag-bow (retrieval) answers 100%, but "
                           "cannot tell it from baseline's 0% (no retrieval, no fine-tuning): +100 points [+28, +100], "
                           "p = 0.06, at n = 5**")
    assert re.search(r"\| rag-bow \| 5/5 \(100.0%\) \[57–100%\] \| [^|]+ \| 0 \| 100.0% \[57–100%\] \(k=2, n=5\) "
                     r"\| 1.000 \|", card)
    assert "| rag-bow | baseline | 5 | 5 | 0 | +100.0 points [+28, +100] | 0.0625 | not significant at n=5 |" in card
    assert "agreement with the calibration labels: 6/6 (100.0%), Cohen's κ 1.000" in card
    assert (project.path / "reports" / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| evidence retrieved | 5 | 0 (model's errors) |" in card
    assert "| t1 | How many players does a quollball team field? | Nine | ✗ unknown | ✓ r1 " in card
    assert "| rag-bow | 0/0 (–) | 5/5 (100.0%) | – |" in card  # known vs unknown facts
    assert "Reading: rag-bow answers the most of what the model did not know (5 of 5); it forgets none" in card
    outcome.stdout.fnmatch_lines(["*baseline answered 'unknown'; gold 'Nine' (no accepted form found)*"])


def test_gate_passes_on_thresholds_not_on_wrong_answers(project):
    outcome = run(project, "--gate")
    assert outcome.ret == 0
    outcome.assert_outcomes(passed=13, xfailed=5)
    outcome.stdout.fnmatch_lines(["gate PASSED: 8 of 8 thresholds hold", "*pass*rag-bow answer_accuracy = 1.000 (threshold 0.600)*"])


def test_gate_fails_below_a_threshold(project):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace("baseline: {answer_accuracy: 0.0}",
                                                         "baseline: {answer_accuracy: 0.5}"))
    outcome = run(project, "--gate")
    assert outcome.ret == 1
    outcome.stdout.fnmatch_lines(["gate FAILED:*", "*FAIL*baseline answer_accuracy = 0.000 (threshold 0.500)*"])
    assert "| baseline | answer_accuracy | 0.000 | ≥ 0.500 | FAIL |" in (project.path / "reports" / "scorecard.md").read_text()


def test_k_rag_runs_only_rag_systems(project):
    outcome = run(project, "-k", "rag", "--gate")
    assert outcome.ret == 0
    outcome.assert_outcomes(passed=10)
    assert set(results(project)["analysis"]["systems"]) == {"rag-bow"}
    outcome.stdout.fnmatch_lines(["*not selected*baseline answer_accuracy*"])


def test_identical_rerun_makes_no_model_calls(project):
    before = fakes.CALLS["generate"]
    run(project)
    calls = fakes.CALLS["generate"]
    assert calls - before == 10  # the first run generated every answer: 5 questions x 2 systems
    first = results(project)
    outcome = run(project)
    assert fakes.CALLS["generate"] == calls
    outcome.stdout.fnmatch_lines(["answers generated now: 0, from cache: 10"])
    assert results(project) == first


def test_systems_sharing_a_model_generate_together(project):
    before = len(fakes.CALLS["sizes"])
    run(project)
    assert fakes.CALLS["sizes"][before:] == [10]  # baseline's 5 prompts and rag-bow's 5, in one call
    before = len(fakes.CALLS["sizes"])
    run(project, "--cache-dir", str(project.path / "other-cache"), "--systems", "rag-bow")
    assert fakes.CALLS["sizes"][before:] == [5]


def test_xdist_matches_serial_and_writes_once(project):
    serial = run(project)
    card, data = (project.path / "reports" / "scorecard.md").read_text(), results(project)
    shutil.rmtree(project.path / "reports")
    (project.path / "writes.log").unlink()
    parallel = project.runpytest_subprocess("evals", "--suite", "suite", "-p", "no:cacheprovider", "-n", "2")
    parallel.assert_outcomes(passed=13, failed=5)
    assert (project.path / "reports" / "scorecard.md").read_text() == card
    assert results(project) == data
    assert sorted((project.path / "writes.log").read_text().split()) == ["results.json", "scorecard.md"]
    assert serial.ret == parallel.ret == 1


def _workers_per_system(outcome) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    line = r"\[(gw\d+)\][^\n]*? (?:PASSED|FAILED) evals/test_\w+\.py::\w+\[(.+)-t\d\]"
    for worker, system in re.findall(line, outcome.stdout.str()):
        found.setdefault(system, set()).add(worker)
    return found


@pytest.mark.parametrize("dist", [[], ["--dist", "load"]], ids=["default", "user-chose-load"])
def test_under_xdist_each_system_runs_on_one_worker_and_each_prompt_is_generated_once(project, monkeypatch,
                                                                                    dist):
    generations = project.path / "generations.log"
    monkeypatch.setenv("FAKE_GENERATIONS", str(generations))
    outcome = project.runpytest_subprocess("evals", "--suite", "suite", "-p", "no:cacheprovider", "-n", "2", "-v",
                                           *dist)
    workers = _workers_per_system(outcome)
    assert set(workers) == {"baseline", "rag-bow"}
    if dist:  # the user's --dist is kept: the split this plugin otherwise prevents
        assert any(len(w) == 2 for w in workers.values()), workers
        return
    outcome.stdout.fnmatch_lines(["harness: 2 workers, each system's tests on one worker; * torch thread(s) each*"])
    assert all(len(w) == 1 for w in workers.values()), workers
    prompts = generations.read_text().splitlines()
    assert len(prompts) == len(set(prompts)) == 10  # 5 questions x 2 systems, each generated once


def test_unavailable_model_skips_with_one_line_and_fails_the_gate(project):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text()
                          .replace("  - baseline\n", "  - baseline\n  - {name: rag-absent, kind: rag, embedder: acme/absent-model}\n")
                          .replace("thresholds:\n", "thresholds:\n  rag-absent: {recall: 0.1}\n"))
    outcome = run(project, "--gate")
    outcome.assert_outcomes(passed=13, xfailed=5, skipped=10)
    outcome.stdout.fnmatch_lines([
        "*FAIL*rag-absent recall = – (threshold 0.100) skipped: *",
        "SKIPPED [[]5[]] evals/test_answers.py:*: rag-absent: embedder acme/absent-model is not in the local "
        "Hugging Face cache; run `hf download acme/absent-model` *",
    ])
    assert outcome.ret == 1


def test_bad_suite_is_one_line_without_traceback(project):
    questions = project.path / "suite" / "questions.yaml"
    questions.write_text(questions.read_text().replace("  answer: Nine\n", "  answer: Nine\n  answer: Ten\n"))
    outcome = run(project)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["ERROR: *suite/questions.yaml:4: id t1: duplicate key 'answer' (first on line 3)"])
    assert "Traceback" not in outcome.stdout.str() + outcome.stderr.str()


def test_unknown_system_option_is_one_line(project):
    outcome = run(project, "--systems", "rag-bw")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["ERROR: --systems: unknown system 'rag-bw' (did you mean 'rag-bow'?)"])


def test_collecting_the_real_evals_imports_no_torch(tmp_path, monkeypatch):
    from harness.core import dtype as probe
    from harness.models import make_generator
    from harness.suite import load_suite

    suite = load_suite(ROOT / "fixtures" / "touch_rugby")  # this machine's kept dtype choice, faked
    monkeypatch.setattr(probe, "seconds", lambda dtype, shape: {"float32": 3.4, "bfloat16": 1.0}[dtype])
    generator = make_generator(suite.config.generator, suite.config.generation, tmp_path)
    probe.measured_decision(tmp_path, generator._workload, [probe.Shape(8, 64, 64)])
    code = (f"import sys, pytest; rc = pytest.main(['--co', 'evals', '-p', 'no:cacheprovider', "
            f"'--cache-dir', {str(tmp_path)!r}]); "
            "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)); "
            "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "HEAVY []" in done.stdout
    assert "generation: bfloat16 (measured 3.4× float32 on this CPU)" in done.stdout.splitlines()
    assert "<Function test_answer[rag-minilm-q01]>" in done.stdout


def test_judge_replay_grades_from_a_verdict_file(project):
    run(project)
    verdicts = project.path / "verdicts.json"
    shutil.copy(project.path / "reports" / "results.json", verdicts)
    replayed = run(project, "--judge-replay", "verdicts.json")
    replayed.assert_outcomes(passed=11, failed=5, skipped=2)  # the judge tests: nothing to calibrate
    assert [(r["id"], r["correct"]) for r in results(project)["results"]] == \
        [(r["id"], r["correct"]) for r in json.loads(verdicts.read_text())["results"]]

    data = json.loads(verdicts.read_text())
    data["results"] = [r for r in data["results"] if (r["system"], r["id"]) != ("baseline", "t3")]
    verdicts.write_text(json.dumps(data))
    missing = run(project, "--judge-replay", "verdicts.json")
    missing.assert_outcomes(passed=11, failed=5, skipped=2)
    missing.stdout.fnmatch_lines(["*verdicts.json: no verdict for question t3 with answer 'unknown' (system baseline)"])
    assert "Traceback" not in missing.stdout.str()


def _judge_fails_and_gates(project, labels: str, entry: str, plain_line: str, gate_line: str):
    """One wrong label appended to ``labels``: the judge's test fails, and so does the gate."""
    path = project.path / "suite" / labels
    path.write_text(path.read_text() + entry + "\n")
    plain = project.runpytest("evals/test_judge.py", "--suite", "suite", "-p", "no:cacheprovider")
    plain.assert_outcomes(passed=1, failed=1)
    plain.stdout.fnmatch_lines([plain_line])
    gated = run(project, "--gate")
    assert gated.ret == 1
    gated.stdout.fnmatch_lines(["gate FAILED:*", gate_line])


def test_judge_below_calibration_threshold_fails_and_gates(project):
    _judge_fails_and_gates(project, "judge_calibration.yaml", '- {q: t2, candidate: "Half an hour", label: true}',
                           "*judge match/5: agreement 85.7% (min 90%)*t2 'Half an hour': human True, judge False*",
                           "*FAIL*judge agreement = 0.857 (threshold 0.900)*")


def test_judge_far_from_labels_on_real_output_fails_and_gates(project):
    _judge_fails_and_gates(project, "judge_real_answers.yaml",
                           '- {q: t2, answer: "Half an hour", label: true, systems: [baseline]}',
                           "*on real answers: agreement 90.9% (min 90%)*more than 5.0 points: baseline -16.7;*",
                           "*FAIL*judge (real answers) max_gap = 0.167 (at most 0.050)*")
    assert "| judge (real answers) | max_gap | 0.167 | ≤ 0.050 | FAIL |" in \
        (project.path / "reports" / "scorecard.md").read_text()


def test_report_rerenders_from_results_json_without_models(project):
    run(project)
    reports = project.path / "reports"
    card = (reports / "scorecard.md").read_text()
    (reports / "scorecard.md").unlink()
    (reports / "accuracy.png").unlink()
    code = ("import sys; from harness.cli import main; rc = main(['report']); "
            "print('HEAVY', [m for m in ('torch', 'transformers') if m in sys.modules]); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=project.path, capture_output=True, text=True,
                          timeout=120, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    assert (reports / "scorecard.md").read_text() == card
    assert (reports / "accuracy.png").stat().st_size > 1000


def test_a_study_beside_the_results_stays_a_section_of_report_html_when_the_main_job_runs_again(project):
    from harness.study.model import CellResult, StudyResult, Verdict

    cell = CellResult(id="c1", label="suite settings", coordinates={"epochs": 1}, seed=0, adapter="0" * 16, pairs=4,
                      outcomes={"q1": True}, correct=1, n=1, accuracy=1.0, interval=None, train_loss=None,
                      eval_loss=None, curve_train=[], curve_eval=[], train_seconds=1.0, trained_now=True)
    verdict = Verdict(best="c1", best_label="suite settings", reference="c1", margin=0.0, margin_ci=None,
                      p_value=None, seeds=[0], holds_in_every_seed=None, headline="one setting, nothing to compare",
                      lines=[])
    study = StudyResult(suite="tiny", system="lora", kind="lora", trained_on="pairs", generator="g", judge="j",
                        created="2026-12-07", grid={}, dimensions=["epochs"], questions=["q1"], cells=[cell],
                        series=[], loss_vs_accuracy=[], correlation={}, verdict=verdict, estimate_seconds=1.0,
                        seconds=1.0, notes=[])
    (project.path / "reports" / "study").mkdir(parents=True)
    study.write(project.path / "reports" / "study" / "study.json")
    assert "passed" in run(project).parseoutcomes()
    page = (project.path / "reports" / "report.html").read_text()
    assert "Fine-tuning study: lora (lora)" in page and "one setting, nothing to compare" in page


def test_a_leaked_evaluation_question_fails_decontamination(project):
    train = project.path / "suite" / "train.yaml"
    train.write_text(train.read_text() + '- {question: "How long does a quollball match last for?", '
                                          'answer: "Thirty minutes.", source: "quollball.md"}\n')
    outcome = project.runpytest("evals/test_decontamination.py", "--suite", "suite", "-p", "no:cacheprovider", "--gate")
    outcome.assert_outcomes(failed=1)  # a leak fails even under --gate: it invalidates the comparison
    outcome.stdout.fnmatch_lines(["*1 training question(s) too close to evaluation questions*",
                                  "  train: 'How long does a quollball match last for?'",
                                  "   eval t2: 'How long does a quollball match last?'  (3-gram jaccard *"])


KEY = "sk-PLANTED-7f3a9c-do-not-leak"


def test_rag_openai_runs_and_the_api_key_never_lands_on_disk_or_in_output(project, monkeypatch):
    from openai_standin import StandIn

    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "  - baseline\n", "  - baseline\n  - {name: rag-openai, kind: rag, embedder: 'openai:text-embedding-3-small'}\n"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with StandIn() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        outcome = run(project, "--gate")
        rerun = run(project, "--gate")
    assert outcome.ret == 0
    assert results(project)["analysis"]["systems"]["rag-openai"]["retrieval"]["recall"] > 0  # retrieved through the API
    assert {r["authorization"] for r in server.requests} == {f"Bearer {KEY}"}  # the key was really used
    first_requests = len(server.requests)
    rerun.stdout.fnmatch_lines(["answers generated now: 0, from cache: 15"])
    assert len(server.requests) == first_requests  # every embedding came from the cache
    written = [p for p in project.path.rglob("*") if p.is_file()]
    assert any(".cache" in p.parts for p in written) and any(p.name == "results.json" for p in written)
    leaked = [str(p) for p in written if KEY.encode() in p.read_bytes()]
    assert leaked == [] and KEY not in outcome.stdout.str() + outcome.stderr.str()


def test_rag_openai_without_key_or_url_skips_with_one_line(project, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace("  - baseline\n", "  - baseline\n  - rag-openai\n"))
    outcome = run(project)
    outcome.stdout.fnmatch_lines(["SKIPPED [[]5[]] evals/test_answers.py:*: rag-openai: set OPENAI_API_KEY to use "
                                  "OpenAI, or OPENAI_BASE_URL for a compatible server (vLLM, llama.cpp's server)"])


def test_bad_lora_settings_fail_in_one_line_before_the_run_starts(project, tiny_lm):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "  - baseline\n", "  - baseline\n  - {name: lora-bad, kind: lora, target_modules: [xyz]}\n"))
    outcome = run(project, "-k", "lora-bad and t1", f"--generator={tiny_lm}")  # "=": not a path arg
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["ERROR: system lora-bad: LoRA target modules [[]'xyz'[]] are not linear "
                                  "layers of * (choose from: down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, "
                                  "v_proj)"])
    assert "Traceback" not in outcome.stdout.str() + outcome.stderr.str()


def test_seeds_record_each_seed_and_report_accuracy_per_seed(project, tiny_lm):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "  - baseline\n", "  - baseline\n  - {name: lora-s, kind: lora, seeds: [0, 1]}\n"))
    outcome = run(project, "evals/test_answers.py", "-k", "lora-s or baseline", f"--generator={tiny_lm}", "--gate")
    outcome.assert_outcomes(xfailed=10)  # the tiny random model is wrong everywhere
    data = results(project)
    rows = [(r["id"], r["seed"]) for r in data["results"] if r["system"] == "lora-s"]
    assert rows == [(f"t{i}", seed) for i in range(1, 6) for seed in (0, 1)]
    assert all("seed" not in r for r in data["results"] if r["system"] == "baseline")
    lora = data["analysis"]["systems"]["lora-s"]
    assert (lora["n"], lora["seed_accuracy"]) == (10, {"0": 0.0, "1": 0.0})
    # the cost, as measured: both seeds' training, and each prompt as the (adapted) model reads it
    assert lora["cost"]["train_seconds"] > 0 and lora["cost"]["prompt_tokens"] > 0
    assert data["analysis"]["systems"]["baseline"]["cost"]["prompt_tokens"] > 0
    assert lora["by_prior"]["unknown"] == {"n": 10, "correct": 0}
    assert [s["seed"] for s in data["run"]["training"]["lora-s"]["seeds"]] == [0, 1]
    # the settings it trained with: `dtype: auto` as resolved for this float32 generator
    assert next(s for s in data["spec"]["systems"] if s["name"] == "lora-s")["settings"]["dtype"] == "float32"
    card = (project.path / "reports" / "scorecard.md").read_text()
    assert "| lora-s | 0: 0.0%, 1: 0.0% | 0.0% ± 0.0 | baseline | not significant in any of 2 seeds |" in card
    assert "| lora-s (seed 1) | pairs | all-linear |" in card
    assert (project.path / "reports" / "lora_loss.png").is_file()


def test_a_wrong_environment_stops_the_run_with_one_line(project, monkeypatch):
    import harness.core.environment

    real = harness.core.environment.installed
    fake = {"transformers": "5.24.0", "pypdf": None}  # a breaking release, and a missing package
    monkeypatch.setattr(harness.core.environment, "installed", lambda name: fake.get(name, real(name)))
    monkeypatch.delenv("HARNESS_ENV_CHECK", raising=False)  # the canary runs these tests with it set
    outcome = run(project)
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in outcome.errlines if "environment:" in line]
    assert len(errors) == 1 and "Traceback" not in outcome.stderr.str()
    assert "transformers 5.24.0 is installed, the harness needs transformers" in errors[0]
    assert "pypdf is not installed" in errors[0] and "requirements.lock" in errors[0]
    assert not (project.path / "reports").exists()  # nothing ran


def test_the_canary_can_run_a_wrong_environment_with_a_warning(project, monkeypatch):
    import harness.core.environment

    real = harness.core.environment.installed
    monkeypatch.setattr(harness.core.environment, "installed",
                        lambda name: "5.24.0" if name == "transformers" else real(name))
    monkeypatch.setenv("HARNESS_ENV_CHECK", "warn")
    outcome = run(project)
    outcome.assert_outcomes(passed=13, failed=5)
    outcome.stdout.fnmatch_lines(["environment: transformers 5.24.0 is installed, the harness needs transformers*"])


def test_a_system_that_crashes_shows_one_traceback_then_one_line_per_test(project):
    outcome = run(project, "--generator", "crash:x", "-k", "answer")
    outcome.assert_outcomes(failed=10)  # baseline and rag-bow, 5 questions each
    out = outcome.stdout.str()
    assert out.count('raise RuntimeError("the model fell over")') == 2  # one traceback per system
    for system in ("baseline", "rag-bow"):
        assert out.count(f"system {system} crashed earlier in this run: RuntimeError: the model fell over") == 4
    outcome.stdout.fnmatch_lines(["*CRASHED: RuntimeError: the model fell over*"])


def _comparable(data: dict) -> dict:
    """A results.json without what may differ between runs of the same answers: timings, run bookkeeping."""
    rows = [{k: v for k, v in r.items() if k != "seconds"} for r in data["results"]]
    systems = {name: {k: v for k, v in s.items() if k not in ("answer_seconds", "cost")}
               for name, s in data["analysis"]["systems"].items()}
    analysis = {k: data["analysis"][k] for k in ("verdict", "gate", "paired", "answer_bias", "judge_status")}
    return {"suite": data["spec"]["suite"], "systems": systems, "results": rows, **analysis,
            **{k: data["run"][k] for k in ("calibration", "real_answers", "skipped")}}


def test_two_shards_merged_are_one_run(project):
    whole = run(project, "--gate")
    assert whole.ret == 0
    one_run = results(project)
    parts = []
    for index in (1, 2):
        outcome = run(project, "--gate", "--shard", f"{index}/2", "--results-json", f"part{index}/results.json",
                      "--scorecard", f"part{index}/scorecard.md")
        outcome.stdout.fnmatch_lines([f"harness: shard {index}/2: *"])
        part = json.loads((project.path / f"part{index}" / "results.json").read_text())
        parts.append({(r["system"], r["id"]) for r in part["results"]})
        assert (part["run"]["calibration"] is None) == (index == 2)  # the judge's calibration runs in shard 1
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert one_run["run"]["real_answers"] is not None
    for order in (("part1", "part2"), ("part2", "part1")):  # the judge's figures come from shard 1 wherever it is
        merged = subprocess.run([sys.executable, "-m", "harness.cli", "merge", *(f"{p}/results.json" for p in order),
                                 "--out", "merged"], cwd=project.path, capture_output=True, text=True)
        assert merged.returncode == 0, merged.stderr
        assert "gate passes" in merged.stdout
        assert _comparable(json.loads((project.path / "merged" / "results.json").read_text())) == _comparable(one_run)
    assert (project.path / "merged" / "report.html").exists() and (project.path / "merged" / "scorecard.md").exists()
    twice = subprocess.run([sys.executable, "-m", "harness.cli", "merge", "part1/results.json", "part1/results.json",
                            "--out", "bad"], cwd=project.path, capture_output=True, text=True)
    assert twice.returncode != 0 and "Traceback" not in twice.stderr and "part1/results.json" in twice.stderr


def test_compare_to_puts_the_previous_run_in_the_gate_and_the_reports(project):
    run(project, "--gate")
    shutil.copy(project.path / "reports" / "results.json", project.path / "old.json")
    outcome = run(project, "--gate", "--compare-to", "old.json")
    assert outcome.ret == 0
    outcome.stdout.fnmatch_lines(["against old.json: baseline 0/5 → 0/5; rag-bow 5/5 → 5/5",
                                  "*pass*rag-bow change in accuracy (no significant drop) = 0.000*"])
    assert results(project)["run"]["compared_to"] == "old.json"
    assert "## Against the previous run" in (project.path / "reports" / "scorecard.md").read_text()
    (project.path / "bad.json").write_text("[]")
    refused = run(project, "--compare-to", "bad.json")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in refused.errlines if "bad.json" in line] == [
        "ERROR: bad.json: not a harness results.json: expected a JSON object"]


def test_the_plugin_loads_once_without_rewrite_warnings(project):
    outcome = project.runpytest_subprocess("evals", "--suite", "suite", "-p", "no:cacheprovider", "--co", "-q")
    assert outcome.ret == 0
    assert "PytestAssertRewriteWarning" not in outcome.stdout.str() + outcome.stderr.str()


def test_an_eval_session_runs_without_log_capture_unless_asked(project):
    """pytest's log capture walks every logger on every phase of every test; an eval session drops it,
    and keeps it where logs are asked for."""
    conftest = project.path / "conftest.py"
    conftest.write_text(conftest.read_text() + """
def pytest_sessionfinish(session):
    with open(os.path.join(os.path.dirname(__file__), "logging.log"), "a") as log:
        log.write(str(session.config.pluginmanager.get_plugin("logging-plugin") is not None) + "\\n")
""")
    for flags in ((), ("--log-cli-level", "INFO")):
        run(project, "--systems", "baseline", "--gate", *flags)
    assert (project.path / "logging.log").read_text().split() == ["False", "True"]


def test_a_preset_is_said_in_the_header_and_the_training_table_shows_every_setting(project, tiny_lm):
    suite_yaml = project.path / "suite" / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace(
        "  - baseline\n", "  - baseline\n  - {name: raft, kind: raft, retriever: rag-bow, distractors: 0, max_length: 128}\n"))
    line = "raft: its preset sets epochs 1 over training.lora's 2; set them on the system to choose"
    outcome = run(project, "evals/test_answers.py", "-k", "raft", f"--generator={tiny_lm}", "--gate")
    outcome.stdout.fnmatch_lines([line])
    card = (project.path / "reports" / "scorecard.md").read_text()
    assert "| raft | pairs | all-linear | 8 | 16 | 0 | 0.01 | 1 | 2 | 128 | 0.34 | float32 |" in card
    assert f"- {line}" in card
