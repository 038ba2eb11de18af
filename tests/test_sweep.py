"""`harness sweep` end to end on the tiny suite, and its grid validation."""
import json
import re
from types import SimpleNamespace

import pytest
import yaml

from harness.cli import main
from harness.suite import load_suite

GRID = """\
retrievers:
  dense: {retriever: dense, embedder: bow}
  bm25: {retriever: bm25, embedder: bow}
  hybrid: {retriever: hybrid, embedder: bow, retrievers: [{retriever: dense, embedder: bow}, {retriever: bm25}]}
chunking: [tokens, sections]
chunk_tokens: [6, 12]
chunk_overlap: [0, 2]
k: [1, 2]
similarity: [cosine, dot]
"""


def sweep(tiny_suite, tmp_path, grid=GRID, *extra):
    (tmp_path / "grid.yaml").write_text(grid)
    return main(["sweep", "--suite", str(tiny_suite), "--grid", str(tmp_path / "grid.yaml"), "--out", str(tmp_path),
                 "--json", str(tmp_path / "sweep.json"), "--cache-dir", str(tmp_path / "cache"), *extra])


def test_sweep_writes_table_json_chart_and_a_pasteable_best(tiny_suite, tmp_path, capsys):
    assert sweep(tiny_suite, tmp_path, GRID, "--systems", "rag-bow", "--budget", "20") == 0
    out = capsys.readouterr().out
    data = json.loads((tmp_path / "sweep.json").read_text())
    # bm25 ignores similarity, so it is not swept twice: (16 dense + 8 bm25 + 16 hybrid) x 2 k, plus rag-bow
    assert len(data["configs"]) == (16 + 8 + 16) * 2 + 1 and data["budget"] == 20 and data["suite"] == "tiny"
    first = data["configs"][0]
    assert {"system", "k", "recall", "mrr", "chunks", "context_tokens", "index_s"} <= set(first)
    assert first["system"]["kind"] == "rag" and 0 <= first["recall"] <= 1
    best = data["best"]
    fitting = [c for c in data["configs"] if c["context_tokens"] <= 20 and "name" not in c["system"]]
    assert best["context_tokens"] <= 20 and best["recall"] == max(c["recall"] for c in fitting)
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    assert re.search(r"rag-bow\s+2\s+1\.000", out)  # the suite's own system, beside the grid
    assert "best per context budget" in out and "context tokens counted with words" in out
    pasted = out.split("ready to paste under `systems:`:\n")[1].split("\n\n")[0]
    (entry,) = yaml.safe_load(pasted)
    suite_yaml = tiny_suite / "suite.yaml"
    suite_yaml.write_text(suite_yaml.read_text().replace("systems:\n", "systems:\n  - " + json.dumps(entry) + "\n"))
    assert load_suite(tiny_suite).system("rag-best").options.k == best["k"]


def test_a_cached_rerun_gives_the_same_figures(tiny_suite, tmp_path):
    grid = GRID.replace("similarity: [cosine, dot]", "similarity: [cosine]")
    assert sweep(tiny_suite, tmp_path, grid) == 0
    first = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep(tiny_suite, tmp_path, grid) == 0
    again = json.loads((tmp_path / "sweep.json").read_text())
    strip = lambda data: [{k: v for k, v in c.items() if k not in ("index_s", "query_ms")} for c in data["configs"]]
    assert strip(first) == strip(again)


@pytest.mark.parametrize("grid, message", [
    (GRID.replace("[6, 12]", "[6, x]"), r"grid\.yaml:6: field 'chunk_tokens\.1': Input should be a valid integer"),
    (GRID.replace("{retriever: bm25, embedder: bow}", "{retriever: bm52}"),
     r"grid\.yaml:3: retriever bm25: field 'retriever': (Value error, )?unknown retriever 'bm52' \(did you mean 'bm25'\?\)"),
    (GRID.replace("chunk_overlap: [0, 2]", "chunk_overlap: [0, 6]"), r"grid\.yaml:\d+: .*every chunk_overlap must be"),
    (GRID + "chunk_token: [3]\n", r"grid\.yaml:10: unknown field 'chunk_token' \(did you mean 'chunk_tokens'\?\)"),
    ("retrievers: {a: {retriever: dense}\n", r"grid\.yaml:\d+: YAML syntax error"),
])
def test_a_bad_grid_is_one_line_naming_file_and_line(tiny_suite, tmp_path, capsys, grid, message):
    assert sweep(tiny_suite, tmp_path, grid) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1


def test_sweeping_a_system_that_does_not_retrieve_is_one_line(tiny_suite, tmp_path, capsys):
    assert sweep(tiny_suite, tmp_path, GRID, "--systems", "baseline") == 2
    assert "--systems: system 'baseline' does not retrieve" in capsys.readouterr().err


def test_context_is_counted_with_the_generators_tokenizer_without_its_weights(tiny_suite, tmp_path, tiny_lm):
    from harness.contexts import SharedModels
    from harness.sweep import generator_token_counter

    run = SharedModels(load_suite(tiny_suite), str(tiny_lm), tmp_path)
    count, counted_with = generator_token_counter(run)
    assert count("how many players ?") == 4 and counted_with == f"hf:{tiny_lm}"
    assert "_loaded" not in vars(run.generator)  # the model was never loaded


def test_the_pasted_entry_is_plain_yaml_whatever_the_grid_numbers_were(tmp_path):
    from harness.inputs.yamlfile import load_yaml
    from harness.sweep import Config, Row, paste_entry

    (tmp_path / "g.yaml").write_text("weight: 0.5\n")
    weight = load_yaml(tmp_path / "g.yaml")["weight"]  # a float that remembers its text
    system = {"kind": "rag", "retriever": "hybrid", "retrievers": [{"retriever": "bm25", "weight": weight}], "k": 2}
    row = Row(Config("x", "x", system, None, (2,)), 2, 1, 1, 1.0, 1.0, 1, 1.0, 0.0, 0.0)
    assert yaml.safe_load(paste_entry(row)) == [{"name": "rag-best", **system, "retrievers": [{"retriever": "bm25",
                                                                                              "weight": 0.5}]}]


def test_recall_and_mrr_count_hand_placed_evidence_ranks(monkeypatch):
    """Three questions: evidence retrieved at rank 1, at rank 2, and not at all."""
    import harness.retrieval
    from harness.inputs.evidence import Span
    from harness.retrieval import Hit
    from harness.sweep import Config, evaluate

    fact, other = Hit("d.md", 10, 20, "the fact", 1.0), Hit("d.md", 30, 40, "three other words", 0.5)
    ranked = {"first?": (fact, other), "second?": (other, fact), "missing?": (other, other)}
    suite = SimpleNamespace(questions=[SimpleNamespace(id=q, question=q) for q in ranked],
                            evidence={q: (Span("d.md", 12, 18),) for q in ranked})
    pipeline = SimpleNamespace(prepare=lambda: None, retrieve=lambda queries: [ranked[q] for q in queries],
                               chunks=SimpleNamespace(spans=[fact, other]))
    monkeypatch.setattr(harness.retrieval, "make_retriever", lambda options, models: pipeline)
    rows = evaluate([Config("x", "x", {"kind": "rag"}, None, (1, 2))], SimpleNamespace(suite=suite),
                    lambda text: len(text.split()))
    # k=1: only "first?" is found; k=2 adds "second?" at rank 2. Context: words in the top k, per question.
    assert [(r.k, r.n, r.hits, r.chunks) for r in rows] == [(1, 3, 1, 2), (2, 3, 2, 2)]
    top1, top2 = rows
    assert (top1.recall, top1.mrr, top1.context_tokens) == pytest.approx((1 / 3, 1 / 3, (2 + 3 + 3) / 3))
    assert (top2.recall, top2.mrr, top2.context_tokens) == pytest.approx((2 / 3, (1 + 1 / 2 + 0) / 3, (5 + 5 + 6) / 3))
