"""Fine-tuning as the literature runs it: sources, phrasings, RAFT, seeds, known vs unknown facts."""
import re
import statistics

import pytest

from conftest import ROOT
from harness.core.errors import HarnessError
from harness.inputs.trainset import cap_phrasings, resolve_source
from harness.results.analysis import _seed_verdict, by_prior, first_seed, order_rows, seed_accuracy
from harness.results.model import PriorGroup, Row
from harness.results.records import Results
from harness.contexts import SharedModels
from harness.run import EvalRun
from harness.suite import load_suite


def add_systems(suite_dir, entries: str):
    yaml = suite_dir / "suite.yaml"
    yaml.write_text(yaml.read_text().replace("  - {name: rag-bow", entries + "  - {name: rag-bow"))
    return load_suite(suite_dir)


def test_every_shipped_pair_names_a_source_that_resolves():
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    unresolved = [p.question for p in suite.train_pairs if not p.source]
    assert not unresolved, f"pairs without a source: {unresolved[:3]}"
    for pair in suite.train_pairs:
        span = resolve_source(suite.documents, pair.source)
        assert span.end > span.start


def test_source_forms(tiny_suite):
    docs = load_suite(tiny_suite).documents
    text = docs[0].text
    assert resolve_source(docs, "quollball.md") == (whole := resolve_source(docs, "quollball.md"))
    assert (whole.start, whole.end) == (0, len(text))
    span = resolve_source(docs, "quollball.md@44-64")
    assert text[span.start:span.end] == "exactly nine players"
    (tiny_suite / "corpus" / "rules.md").write_text("# R\n\n## 1. One\nalpha\n### 1.1 Sub\nbeta\n## 2. Two\ngamma\n")
    docs = load_suite(tiny_suite).documents
    rules = next(d for d in docs if d.source == "rules.md").text
    one, sub = resolve_source(docs, "rules.md#1"), resolve_source(docs, "rules.md#1.1")
    assert rules[one.start:one.end] == "## 1. One\nalpha\n### 1.1 Sub\nbeta\n"  # up to the next heading at its level
    assert rules[sub.start:sub.end] == "### 1.1 Sub\nbeta\n"


@pytest.mark.parametrize("source, message", [
    ("quollbal.md#1", r"source 'quollbal.md#1': no document 'quollbal.md' in the corpus \(did you mean 'quollball.md'\?\)"),
    ("quollball.md#4", r"source 'quollball.md#4': quollball.md has no section numbered '4'"),
    ("quollball.md@90-9999", r"source 'quollball.md@90-9999': expected @START or @START-END within quollball.md's \d+ characters"),
])
def test_a_source_that_does_not_resolve_is_one_line_naming_the_pair(tiny_suite, source, message):
    (tiny_suite / "train.yaml").write_text(f'- {{question: "Q?", answer: "A.", source: "{source}"}}\n')
    with pytest.raises(HarnessError, match=r"train\.yaml:1: pair 1: " + message + r" \('Q\?'\)$"):
        load_suite(tiny_suite)


def test_phrasings_caps_pairs_per_source(tiny_suite):
    pairs = load_suite(tiny_suite).train_pairs  # quollball.md@44-64 has two phrasings, every other source one
    assert len(cap_phrasings(pairs, None)) == 6
    one = cap_phrasings(pairs, 1)
    assert [p.question for p in one] == [p.question for i, p in enumerate(pairs) if i != 1]
    assert len({p.source for p in one}) == len(one)
    assert cap_phrasings(pairs, 2) == pairs
    assert len(cap_phrasings([p.model_copy(update={"source": ""}) for p in pairs], 1)) == 6  # no source: own fact


@pytest.mark.parametrize("entry, message", [
    ("{name: l1, kind: lora, phrasings: 0}", r"system l1: field 'phrasings': Input should be greater than or equal to 1"),
    ("{name: ls, kind: lora, seeds: [0, 1, 0]}", r"system ls: field 'seeds': duplicate seeds \[0\]"),
    ("{name: r, kind: raft, retriever: rag-bow, oracle_fraction: 1.5}",
     r"system r: field 'oracle_fraction': Input should be less than or equal to 1"),
    ("{name: r, kind: raft, retriever: rag-bo}",
     r"suite\.yaml:\d+: system r: unknown retriever 'rag-bo': name a system of the suite that retrieves "
     r"\(did you mean 'rag-bow'\?\)"),
    ("{name: r, kind: raft, retriever: baseline}", r"system r: unknown retriever 'baseline'"),
])
def test_bad_fine_tuning_settings_are_one_line(tiny_suite, entry, message):
    with pytest.raises(HarnessError, match=message):
        add_systems(tiny_suite, f"  - {entry}\n")


def planner(tiny_suite, tmp_path, **options):
    from systems.raft import RaftPlanner

    settings = ", ".join(f"{k}: {v}" for k, v in options.items())
    suite = add_systems(tiny_suite, f"  - {{name: raft, kind: raft, retriever: rag-bow, {settings}}}\n")
    run = SharedModels(suite, "fake:copy", tmp_path)
    spec = suite.system("raft")
    return suite, run, RaftPlanner("raft", spec.options, suite.system("rag-bow").options, run)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_raft_prompts_hold_the_oracle_in_the_planned_fraction_and_distractors_never_are_it(tiny_suite, tmp_path,
                                                                                           fraction):
    suite, run, plan = planner(tiny_suite, tmp_path, distractors=2, oracle_fraction=fraction)
    pairs = suite.train_pairs[:5]  # offsets sources: passages shorter than a chunk
    examples = plan.examples(pairs, seed=0)
    assert sum(e.oracle is not None for e in examples) == round(fraction * len(pairs))
    text = suite.documents[0].text
    for pair, e in zip(pairs, examples):
        passage = resolve_source(suite.documents, pair.source)
        fact = text[passage.start:passage.end]
        distractors = [c for c in e.context if c != e.oracle]
        assert len(distractors) == 2 and all(fact not in c for c in distractors)
        if e.oracle is not None:
            assert e.oracle in e.context and fact in e.oracle and len(e.context) == 3
    assert plan(pairs, 0) == [e.context for e in examples]
    assert plan(pairs, 1) != plan(pairs, 0) or fraction in (0.0, 1.0)  # the seed picks and shuffles


def test_raft_with_more_distractors_than_chunks_is_one_line(tiny_suite, tmp_path):
    suite, run, plan = planner(tiny_suite, tmp_path, distractors=40)
    with pytest.raises(HarnessError, match=r"^system raft: distractors 40 but the corpus has \d+ chunks with "
                                           r"rag-bow's chunking; at most \d+$"):
        plan(suite.train_pairs, 0)


def test_raft_pair_without_room_for_distractors_names_the_pair(tiny_suite, tmp_path):
    suite, run, plan = planner(tiny_suite, tmp_path, distractors=1)
    with pytest.raises(HarnessError, match=r"system raft: training pair 'What sound begins play\?' \(source "
                                           r"'quollball.md'\): only 0 chunks lie outside its source passage"):
        plan(suite.train_pairs, 0)  # the last pair's source is the whole document


@pytest.fixture
def lm_suite(tiny_suite):
    pytest.importorskip("torch")
    return add_systems(tiny_suite, "  - {name: lora, kind: lora}\n"
                                   "  - {name: lora-seeds, kind: lora, seeds: [0, 1]}\n"
                                   "  - {name: raft, kind: raft, retriever: rag-bow, phrasings: 1, max_length: 128}\n")


# The tiny corpus in rag-bow's chunks (10 words, 2 overlapping), and each training pair's oracle among them:
# the one chunk holding its whole source passage. The next chunk starts with the passage's last word(s).
CHUNKS = ["# Quollball basics\n\nA quollball team fields exactly nine players.",
          "nine players.\nEvery quollball match lasts for thirty minutes.\nThe",
          "minutes.\nThe goalkeeper always wears a bright orange hat.\nA",
          "hat.\nA strike through the hoops scores seven points.\nFouls",
          "points.\nFouls are punished with a free throw instead.\nThe",
          "instead.\nThe referee starts play by ringing a bell."]
ORACLE = {"What is the size of a quollball side?": 0, "For what period of time is a quollball game played?": 1,
          "Which headwear marks out the goalkeeper?": 2, "What is the reward for hitting the hoops?": 3}


def test_raft_trains_with_context_and_answers_with_retrieval(lm_suite, tiny_lm, tmp_path, monkeypatch):
    import harness.training.lora

    lm_suite = lm_suite.__class__(**{**lm_suite.__dict__, "train_pairs": lm_suite.train_pairs[:5]})
    rows = []  # what the model is trained on: the rendered prompts, train and held-out rows alike
    tokenized = harness.training.lora.tokenized
    monkeypatch.setattr(harness.training.lora, "tokenized", lambda r, *a: rows.extend(r) or tokenized(r, *a))
    run = EvalRun(lm_suite, lm_suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    raft = run.system("raft")
    prompts = {row["prompt"].rsplit("Question: ", 1)[1].removesuffix("\nAnswer:"): row["prompt"] for row in rows}
    assert prompts.keys() == ORACLE.keys()  # phrasings: 1 keeps one of the two pairs on the first source
    shown = {q: {i for i, chunk in enumerate(CHUNKS) if f"] {chunk}\n\n" in p} for q, p in prompts.items()}
    for question, prompt in prompts.items():  # every numbered block is one of the chunks
        assert prompt.startswith("Reference material:\n[1] ")
        assert len(re.findall(r"^\[\d+\] ", prompt, flags=re.M)) == len(shown[question])
    # oracle_fraction 0.8 of 4 pairs: 3 prompts hold their oracle. Seed 0 draws pairs 0, 1 and 3
    # (random.Random(0).sample(range(4), 3) == [3, 1, 0]): the goalkeeper pair's prompt goes without.
    with_oracle = {q for q, i in ORACLE.items() if i in shown[q]}
    assert with_oracle == set(ORACLE) - {"Which headwear marks out the goalkeeper?"}
    for question, oracle in ORACLE.items():
        distractors = shown[question] - {oracle}
        assert len(distractors) == 1 and not distractors & {oracle, oracle + 1}  # one, not touching the passage
        assert len(shown[question]) == 1 + (question in with_oracle)
    answers = raft.answer(lm_suite.questions)
    assert all(len(a.retrieved) == 2 and not a.by_seed for a in answers)
    assert raft.adapter.key != run.system("lora").adapter.key
    assert "seeds" not in raft.training_log and raft.training_log["examples"] >= 1


def test_seeds_train_separate_adapters_and_answer_per_seed(lm_suite, tiny_lm, tmp_path):
    run = EvalRun(lm_suite, lm_suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    seeded, single = run.system("lora-seeds"), run.system("lora")
    keys = [a.key for _, a, _ in seeded.adapters]
    assert [s for s, _, _ in seeded.adapters] == [0, 1] and len(set(keys)) == 2
    assert keys[0] == single.adapter.key  # seed 0 is the plain lora's adapter, shared
    assert [log["seed"] for log in seeded.training_log["seeds"]] == [0, 1]
    answers = seeded.answer(lm_suite.questions)
    assert all([s for s, _ in a.by_seed] == [0, 1] for a in answers)
    assert all(not a.by_seed for a in single.answer(lm_suite.questions))


def row(system, qid, correct, seed=None):
    return Row(system=system, id=qid, answer="x", correct=correct, evidence_rank=None, retrieved=[], explanation="",
               seconds=0.0, verdict_source="judge", certain=True, judge=None, seed=seed)


def prior(known: tuple[int, int], unknown: tuple[int, int]) -> dict:
    return {"known": PriorGroup(n=known[0], correct=known[1]), "unknown": PriorGroup(n=unknown[0], correct=unknown[1])}


def test_known_unknown_split_and_forgotten_on_a_hand_made_set():
    rows = [row("baseline", "q1", True), row("baseline", "q2", True), row("baseline", "q3", False),
            row("baseline", "q4", False), row("baseline", "q5", None),
            row("lora", "q1", False), row("lora", "q2", True), row("lora", "q3", True), row("lora", "q4", False),
            row("lora", "q5", True),
            *[row("lora-s", q, c, s) for s, answers in enumerate([(False, True, True), (False, False, True),
                                                                   (True, True, False)])
              for q, c in zip(("q1", "q2", "q3"), answers)]]
    split = by_prior(rows)
    assert split["lora"] == {"by_prior": prior((2, 1), (2, 1)),
                             "forgotten": ["q1"]}  # q5: the baseline's answer was unscored, so in neither group
    assert split["lora-s"]["by_prior"] == prior((6, 3), (3, 2))
    assert split["lora-s"]["forgotten"] == ["q1"]  # q1 wrong in 2 of 3 seeds, q2 in 1 of 3
    assert split["baseline"]["forgotten"] == []
    assert by_prior([r for r in rows if r.system != "baseline"]) == {}


def test_seed_accuracy_mean_sd_and_per_seed_significance():
    rows = [row("baseline", f"q{i}", False) for i in range(12)]
    rows += [row("lora", f"q{i}", i < right, seed) for seed, right in ((0, 9), (1, 6), (2, 3)) for i in range(12)]
    accuracy = seed_accuracy(rows)["lora"]
    assert accuracy == {0: 0.75, 1: 0.5, 2: 0.25}
    assert (statistics.mean(accuracy.values()), statistics.stdev(accuracy.values())) == (0.5, 0.25)
    # McNemar exact with 9, 6 and 3 discordant pairs: p = 0.0039, 0.031, 0.25
    assert _seed_verdict("lora", "baseline", rows, first_seed(rows)) == "better in 2 of 3 seeds (p < 0.05)"
    assert [r.seed for r in first_seed(rows) if r.system == "lora"] == [0] * 12


def test_seeded_records_fold_in_their_retrieval_record_and_single_seed_rows_keep_their_shape(tiny_suite):
    suite = add_systems(tiny_suite, "  - {name: lora-rag, kind: lora-rag, embedder: bow, seeds: [3, 4]}\n")
    results = Results()
    results.add({"system": "lora-rag", "id": "t1", "retrieved": [], "evidence_rank": 1})
    for seed in (4, 3):
        results.add({"system": "lora-rag", "id": "t1", "answer": f"a{seed}", "correct": seed == 3, "seed": seed})
    results.add({"system": "baseline", "id": "t1", "answer": "b", "correct": False})
    rows = order_rows(results.rows(), suite)
    assert [(r.system, r.seed, r.evidence_rank) for r in rows] == [
        ("baseline", None, None), ("lora-rag", 3, 1), ("lora-rag", 4, 1)]
    assert "seed" not in rows[0].model_dump() and rows[1].model_dump()["seed"] == 3


def test_the_raft_adapter_key_covers_distractors_and_chunking(tiny_suite, tmp_path):
    pytest.importorskip("peft")
    from harness.training.lora import adapter_key
    from systems.lora import settings_of

    yaml = tiny_suite / "suite.yaml"
    original = yaml.read_text()

    def key(chunking="{tokens: 10, overlap: 2}", **options):
        yaml.write_text(original.replace("chunking: {tokens: 10, overlap: 2}", f"chunking: {chunking}"))
        suite, _, plan = planner(tiny_suite, tmp_path, **options)
        pairs = suite.train_pairs[:5]
        return adapter_key("base", pairs, settings_of(suite.system("raft").options), plan.identity(pairs, 0))

    assert len({key(distractors=1), key(distractors=1), key(distractors=2),
                key("{tokens: 12, overlap: 2}", distractors=1)}) == 3


def test_training_dtype_bfloat16_autocasts_and_trains_its_own_adapter(tiny_suite, tiny_lm, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import harness.training.lora

    suite = add_systems(tiny_suite, "  - {name: lora, kind: lora, dtype: float32}\n"
                                    "  - {name: lora-bf16, kind: lora, dtype: bfloat16}\n"
                                    "  - {name: lora-auto, kind: lora}\n")
    import torch

    args, autocast = [], set()  # the trainer's arguments as each adapter is built; autocast dtypes in the loss
    sft, loss = harness.training.lora.sft_trainer, harness.training.lora.answer_only_loss
    monkeypatch.setattr(harness.training.lora, "sft_trainer",
                        lambda *a, **k: (built := sft(*a, **k)) and args.append(built[0].args) or built)
    monkeypatch.setattr(harness.training.lora, "answer_only_loss", lambda *a: autocast.add(
        torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None) or loss(*a))
    run = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    plain, bf16, auto = (run.system(name) for name in ("lora", "lora-bf16", "lora-auto"))
    assert auto.adapter.key == plain.adapter.key != bf16.adapter.key  # auto follows generation: float32 here
    assert [a.bf16 for a in args] == [False, True]  # one float32 and one bfloat16 adapter trained, no more
    assert autocast == {None, torch.bfloat16}  # the loss ran under bfloat16 autocast for the bfloat16 adapter only
    assert bf16.training_log["settings"]["dtype"] == "bfloat16" and plain.training_log["settings"]["dtype"] == "float32"
    assert all(isinstance(a.text, str) for a in bf16.answer(suite.questions))
    yaml = tiny_suite / "suite.yaml"  # where generation chose bfloat16, auto trains in it: the bfloat16 adapter
    yaml.write_text(yaml.read_text().replace("generation: {dtype: float32}", "generation: {dtype: bfloat16}"))
    suite = load_suite(tiny_suite)
    rerun = EvalRun(suite, suite.systems, generator=str(tiny_lm), cache_dir=tmp_path)
    assert rerun.system("lora-auto").adapter.key == bf16.adapter.key and len(args) == 2  # from the cache


def test_a_preset_over_a_stated_training_setting_is_said_once_and_a_systems_own_value_is_not(tiny_suite):
    from harness.render.text import preset_line

    suite = add_systems(tiny_suite, "  - {name: raft, kind: raft, retriever: rag-bow}\n"
                                    "  - {name: raft-2, kind: raft, retriever: rag-bow, epochs: 3}\n")
    # raft's budget sets epochs 1 and max_length 512 over the 2 and 32 that training.lora states
    assert suite.system("raft").preset == (("epochs", 1, 2), ("max_length", 512, 32))
    assert suite.system("raft-2").preset == (("max_length", 512, 32),)  # its own epochs is its entry's
    assert suite.system("lora-docs").preset == (("epochs", 1, 2), ("eval_fraction", 0, 0.34))  # a built-in's
    assert suite.system("lora").preset == ()  # no preset: training.lora as stated
    assert preset_line("raft", dict((k, (v, s)) for k, v, s in suite.system("raft").preset)) == (
        "raft: its preset sets epochs 1 and max_length 512 over training.lora's 2 and 32; set them on the "
        "system to choose")


def test_a_raft_system_that_cannot_plan_is_named_once_in_its_failure(tiny_suite, tiny_lm, tmp_path):
    suite = add_systems(tiny_suite, "  - {name: raft, kind: raft, retriever: rag-bow, distractors: 40}\n")
    run = EvalRun(suite, [suite.system("raft")], generator=str(tiny_lm), cache_dir=tmp_path)
    cases = [c for c in run.cases(False) if c.system == "raft"][:2]
    for ask, case in [(run.retrieve, cases[0]), (run.retrieve, cases[1]), (run.answer, cases[1])]:
        with pytest.raises(HarnessError) as failed:  # built once: the first test, and the later ones
            ask(case)
        assert re.fullmatch(r"system raft: distractors 40 but the corpus has \d+ chunks with rag-bow's chunking; "
                            r"at most \d+", str(failed.value))
