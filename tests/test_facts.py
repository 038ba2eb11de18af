"""Pairs per fact: a pair's fact named in train.yaml, else clustered within its source; the cap, through
the adapters' real path; and the study's statistics against independent libraries."""
import numpy as np
import pytest

from harness.core.errors import HarnessError
from harness.inputs.trainset import TrainPair
from harness.suite import load_suite
from harness.training.facts import cap_per_fact, clusters, group_facts

# A planted train.yaml: three facts of one section (two phrasings of a distance, two of another distance
# that an embedder puts right beside it, one of a colour), a named fact, and a pair with no source.
PLANTED = """\
- {question: "How long is the field?", answer: "70 metres.", source: "quollball.md"}
- {question: "What length is the pitch?", answer: "70 metres.", source: "quollball.md"}
- {question: "How wide is the field?", answer: "50 metres.", source: "quollball.md"}
- {question: "What width is the pitch?", answer: "50 metres.", source: "quollball.md"}
- {question: "Which colour is the goalkeeper's hat?", answer: "Orange.", source: "quollball.md"}
- {question: "What starts play?", answer: "A bell.", source: "quollball.md@0-10", fact: bell}
- {question: "Which sound begins a game?", answer: "The bell.", source: "quollball.md@20-30", fact: bell}
- {question: "Is it fun?", answer: "Yes."}
"""


def topical(texts):
    """An embedder that knows two topics, size and colour, and nothing of numbers."""
    return np.array([[1.0, 0.05 * i] if ("long" in t or "wide" in t or "length" in t or "width" in t)
                     else [0.0, 1.0] for i, t in enumerate(texts)])


@pytest.fixture
def planted(tiny_suite):
    (tiny_suite / "train.yaml").write_text(PLANTED)
    return load_suite(tiny_suite).train_pairs


def test_facts_are_named_else_clustered_within_their_source_and_numbers_keep_facts_apart(planted):
    facts = group_facts(planted, topical)
    ids = facts.ids
    assert ids[0] == ids[1] != ids[2] == ids[3] != ids[4] != ids[0]  # 70 and 50 metres: one topic, two facts
    assert ids[5] == ids[6] == "bell"  # named: sources differ, the fact is one
    assert ids[7] not in ids[:7]  # no source: a fact of its own
    assert (facts.count, facts.named, facts.clustered) == (5, 2, 6)
    assert "5 facts in 8 pairs: 2 pairs by their fact: id; 6 pairs clustered" in facts.describe("topical")


def test_pairs_per_fact_keeps_the_first_pairs_of_each_fact(planted):
    facts = group_facts(planted, topical)
    one = cap_per_fact(planted, facts, 1)
    assert [p.question for p in one] == [planted[i].question for i in (0, 2, 4, 5, 7)]
    assert cap_per_fact(planted, facts, 2) == tuple(planted) == cap_per_fact(planted, facts, None)


def test_pairs_per_fact_reaches_training_through_the_adapters(tiny_suite, tmp_path, monkeypatch):
    """The suite's setting, through the real Adapters path (the fake ``bow`` embedder clusters)."""
    import harness.training.adapters as adapters_module
    from harness.contexts import SharedModels
    from harness.inputs.config import LoraSettings

    (tiny_suite / "train.yaml").write_text(PLANTED)
    models = SharedModels(load_suite(tiny_suite), None, tmp_path)
    monkeypatch.setattr(adapters_module.Adapters, "_base", lambda self, settings: (None, settings))
    pairs = models.adapters.pairs(LoraSettings(pairs_per_fact=1))
    named = [p for p in pairs if p.fact == "bell"]
    assert len(named) == 1 and len(pairs) < len(PLANTED.splitlines())


def test_a_bad_fact_id_is_one_line(tiny_suite):
    (tiny_suite / "train.yaml").write_text('- {question: "Q?", answer: "A.", fact: [1, 2]}\n')
    with pytest.raises(HarnessError, match=r"train\.yaml:1: pair 1: field 'fact'"):
        load_suite(tiny_suite)


def test_clusters_of_one_pair_and_of_none():
    pair = TrainPair(question="Q?", answer="A.", source="x")
    assert clusters([pair], topical) == [0] and clusters([], topical) == []


def test_the_studys_correlation_and_paired_test_agree_with_independent_libraries():
    import pandas as pd
    from statsmodels.stats.contingency_tables import mcnemar as statsmodels_mcnemar

    from harness.study.analysis import correlation, loss_vs_accuracy, series
    from harness.study.model import CellResult

    rng = np.random.default_rng(3)
    questions = [f"q{i}" for i in range(40)]

    def cell(i, epochs, loss):
        outcomes = {q: bool(rng.random() < 0.2 + 0.1 * epochs) for q in questions}
        right = sum(outcomes.values())
        return CellResult(id=f"c{i}", label=f"epochs={epochs}", coordinates={"epochs": epochs}, seed=0,
                          adapter=f"a{i}", pairs=10, outcomes=outcomes, correct=right, n=40, accuracy=right / 40,
                          interval=None, train_loss=loss, eval_loss=loss, curve_train=[], curve_eval=[],
                          train_seconds=1.0, trained_now=True)

    cells = [cell(i, e, loss) for i, (e, loss) in enumerate([(1, 2.0), (2, 1.7), (4, 1.5), (6, 1.2)])]
    got = correlation(cells)
    frame = pd.DataFrame({"loss": [c.eval_loss for c in cells], "accuracy": [c.accuracy for c in cells]})
    assert got["rho"] == pytest.approx(frame.corr(method="spearman").loc["loss", "accuracy"])
    [found] = loss_vs_accuracy(series(cells, ["epochs"]), {c.id: c for c in cells})
    first, last = cells[0], cells[-1]
    both = sum(first.outcomes[q] and last.outcomes[q] for q in questions)
    only_last = sum(last.outcomes[q] and not first.outcomes[q] for q in questions)
    only_first = sum(first.outcomes[q] and not last.outcomes[q] for q in questions)
    table = [[both, only_last], [only_first, 40 - both - only_last - only_first]]
    assert found.p_value == pytest.approx(statsmodels_mcnemar(table, exact=True).pvalue)
    assert found.loss_change == pytest.approx(-0.4) and found.line.startswith("eval loss fell 40% from epochs=1 to 6")


def test_the_studys_verdict_pairs_seeds_and_says_whether_the_best_holds_in_each():
    from harness.study.analysis import verdict
    from harness.study.model import CellResult

    questions = [f"q{i}" for i in range(20)]

    def cell(i, label, seed, right):
        outcomes = {q: n < right for n, q in enumerate(questions)}
        return CellResult(id=f"c{i}", label=label, coordinates={}, seed=seed, adapter=f"a{i}", pairs=1,
                          outcomes=outcomes, correct=right, n=20, accuracy=right / 20, interval=None,
                          train_loss=None, eval_loss=None, curve_train=[], curve_eval=[], train_seconds=1.0,
                          trained_now=True)

    cells = [cell(1, "suite settings", 0, 5), cell(2, "epochs=6", 0, 12), cell(3, "epochs=1", 0, 2),
             cell(4, "suite settings", 1, 6), cell(5, "epochs=6", 1, 11), cell(6, "suite settings", 2, 9),
             cell(7, "epochs=6", 2, 8)]
    found = verdict(cells)
    assert found.best_label == "epochs=6" and found.seeds == [0, 1, 2]
    assert found.margin == pytest.approx((12 + 11 + 8 - 5 - 6 - 9) / 60)
    assert found.holds_in_every_seed is False  # behind in seed 2
    assert "ahead in 2 of 3 seeds" in found.headline
    assert found.lines[-1] == "epochs=6 is the best of the 2 replicated settings in 2 of 3 seeds"
    alone = verdict([cell(1, "suite settings", 0, 9), cell(2, "epochs=6", 0, 7)])
    assert alone.headline.startswith("the suite's own settings are the best of 2 settings, at 45%")


def test_without_the_suites_settings_the_verdict_is_against_the_runner_up():
    from harness.study.analysis import verdict
    from harness.study.model import CellResult

    def cell(i, label, right):
        outcomes = {f"q{n}": n < right for n in range(20)}
        return CellResult(id=f"c{i}", label=label, coordinates={}, seed=0, adapter=f"a{i}", pairs=1,
                          outcomes=outcomes, correct=right, n=20, accuracy=right / 20, interval=None,
                          train_loss=None, eval_loss=None, curve_train=[], curve_eval=[], train_seconds=1.0,
                          trained_now=True)

    found = verdict([cell(1, "epochs=1", 4), cell(2, "epochs=3", 9)])
    assert found.headline.startswith("best: epochs=3 at 45%, +25 points over epochs=1 (20%), p = ")
