"""``harness sweep``: retrieval alone, over a grid of retriever x chunking x size x overlap x k x similarity.

Every configuration is scored with the evaluation's own evidence test (``harness.inputs.evidence``: the
retrieved chunks' spans together cover an evidence span), so figures compare across chunkings.
Recall rises with bigger chunks and bigger k for free, and a weak model gets lost in long context:
the best configuration is the highest recall@k whose context (the k retrieved chunks, counted in
the generator's tokens) fits a budget.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from pydantic import PositiveInt, field_validator, model_validator

from harness.core.errors import HarnessError
from harness.core.metrics import MRR, RECALL
from harness.inputs.config import Strict
from harness.inputs.evidence import Span, evidence_rank
from harness.inputs.validation import validate
from harness.inputs.yamlfile import LineDict, load_yaml
from harness.results.stats import wilson

BUDGETS = (100, 200, 300, 500, 1000)  # context tokens per query, for the best-per-budget table
DIMENSIONS = ("chunking", "chunk_tokens", "chunk_overlap", "k", "similarity", "section_titles")


class Grid(Strict):
    """A sweep grid (YAML). ``retrievers`` maps a label to a retriever's settings, as a rag system gives them."""

    retrievers: dict[str, dict] = {
        "dense": {"retriever": "dense", "embedder": "minilm"},
        "bm25": {"retriever": "bm25"},
        "hybrid": {"retriever": "hybrid", "retrievers": [{"retriever": "dense", "embedder": "minilm"},
                                                         {"retriever": "bm25"}]},
        "late": {"retriever": "late", "embedder": "minilm"},
    }
    chunking: list[str] = ["tokens", "sections"]
    chunk_tokens: list[PositiveInt] = [50, 100, 200]
    chunk_overlap: list[int] = [0]
    k: list[PositiveInt] = [3]
    similarity: list[Literal["dot", "cosine"]] = ["cosine"]  # dense retrievers only
    section_titles: list[bool] = [True]  # sections only

    @field_validator(*DIMENSIONS, "retrievers")
    @classmethod
    def _not_empty(cls, value):
        if not value:
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _overlaps_fit(self):
        if min(self.chunk_overlap) < 0 or max(self.chunk_overlap) >= min(self.chunk_tokens):
            raise ValueError(f"every chunk_overlap must be at least 0 and below every chunk_tokens "
                             f"(here {max(self.chunk_overlap)} and {min(self.chunk_tokens)})")
        return self


def load_grid(path: Path | None) -> tuple[Grid, dict[str, int]]:
    """The grid, and the line of each retriever label (to point errors in its settings at it)."""
    if path is None:
        return Grid(), {}
    raw = load_yaml(path)
    grid = validate(Grid, raw if raw is not None else LineDict(), path)
    return grid, getattr(raw.get("retrievers"), "key_lines", {})


@dataclass
class Config:
    label: str  # retriever label and settings, for the table
    retriever: str  # the grid's retriever label (or the suite system's name)
    system: dict  # the rag system entry this configuration is
    options: object  # its validated RetrievalOptions (k: the largest of ks)
    ks: tuple[int, ...]  # the k each row reports: one retrieval serves them all
    from_suite: bool = False  # a suite system, shown beside the grid but never "best"


@dataclass
class Row:
    config: Config
    k: int
    n: int
    hits: int
    recall: float
    mrr: float
    chunks: int
    context_tokens: float
    index_s: float
    query_ms: float

    def json(self) -> dict:
        return {"system": self.config.system, "k": self.k, "recall": round(self.recall, 6), "mrr": round(self.mrr, 6),
                "chunks": self.chunks, "context_tokens": round(self.context_tokens, 1), "index_s": round(self.index_s, 3),
                "query_ms": round(self.query_ms, 2), "n": self.n, "label": self.config.label}


def _uses(stage, kind: str) -> bool:
    return stage.retriever == kind or any(_uses(part, kind) for part in stage.retrievers)


def _with_similarity(entry: dict, similarity: str) -> dict:
    """The entry with ``similarity`` set wherever a dense retriever reads it (itself or a part it fuses)."""
    out = {**entry, "similarity": similarity} if entry.get("retriever", "dense") == "dense" else dict(entry)
    if "retrievers" in entry:
        out["retrievers"] = [_with_similarity(dict(part), similarity) for part in entry["retrievers"]]
    return out


def grid_configs(grid: Grid, path: Path | None, lines: dict[str, int] | None = None) -> list[Config]:
    """Every distinct configuration: settings a retriever ignores do not multiply it."""
    from harness.retrieval import RetrievalOptions

    where = path or Path("<default grid>")
    configs, seen = [], set()
    for (label, entry), chunking, tokens, overlap, similarity, titles in itertools.product(
            grid.retrievers.items(), grid.chunking, grid.chunk_tokens, grid.chunk_overlap, grid.similarity,
            grid.section_titles):
        titles = titles and chunking == "sections"
        system = {"kind": "rag", **_with_similarity(dict(entry), similarity), "chunking": chunking,
                  "chunk_tokens": tokens, "chunk_overlap": overlap, "k": max(grid.k), "section_titles": titles}
        settings = LineDict({k: v for k, v in system.items() if k != "kind"})
        settings.line, settings.key_lines = (lines or {}).get(label), {}
        options = validate(RetrievalOptions, settings, where, item=f"retriever {label}")
        key = repr(sorted(system.items(), key=str))
        if key in seen:
            continue
        seen.add(key)
        settings = f"{chunking}{'+titles' if titles else ''} {tokens}/{overlap}" + (
            f" {similarity}" if _uses(options, "dense") and len(grid.similarity) > 1 else "")
        configs.append(Config(f"{label} {settings}", label, system, options, tuple(grid.k)))
    return configs


def suite_configs(suite, names: str | None) -> list[Config]:
    """The named suite systems, as they are (they must retrieve)."""
    from harness.retrieval import RetrievalOptions

    configs = []
    for name in (n.strip() for n in (names or "").split(",") if n.strip()):
        spec = suite.system(name)
        if not spec.retrieves:
            raise HarnessError(f"--systems: system {name!r} does not retrieve")
        fields = {f: getattr(spec.options, f) for f in RetrievalOptions.model_fields}
        options = RetrievalOptions.model_validate(fields)
        system = {"name": name, "kind": spec.kind, **options.model_dump(exclude_defaults=True),
                  "k": options.k, "chunk_tokens": options.chunk_tokens, "chunk_overlap": options.chunk_overlap}
        configs.append(Config(name, name, system, spec.options, (options.k,), from_suite=True))
    return configs


def generator_token_counter(models) -> tuple[Callable[[str], int], str]:
    """Count tokens as the generator will: its tokenizer alone, without loading its weights (words for a
    generator with no local tokenizer, such as an API)."""
    from harness.models import HFGenerator

    generator = models.generator
    if isinstance(generator, HFGenerator):
        tokenizer = generator.load_tokenizer()
        return (lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)), generator.weights_identity
    return (lambda text: len(text.split())), f"words ({generator.identity} has no local tokenizer)"


def evaluate(configs: Sequence[Config], models, count_tokens: Callable[[str], int],
             on_done: Callable[[], None] = lambda: None) -> list[Row]:
    """Retrieve every question with evidence under each configuration; one Row per configuration and k."""
    from harness.retrieval import make_retriever

    questions = [q for q in models.suite.questions if models.suite.evidence.get(q.id)]
    if not questions:
        raise HarnessError("the suite has no questions with evidence to sweep retrieval on", path=models.suite.root)
    lengths: dict[str, int] = {}

    def tokens(text: str) -> int:
        if text not in lengths:
            lengths[text] = count_tokens(text)
        return lengths[text]

    rows = []
    for config in configs:
        retriever = make_retriever(config.options, models)
        start = time.perf_counter()
        retriever.prepare()
        index_s = time.perf_counter() - start
        start = time.perf_counter()
        retrieved = retriever.retrieve([q.question for q in questions])
        query_ms = (time.perf_counter() - start) * 1000 / len(questions)
        for k in config.ks:
            ranks = [evidence_rank(models.suite.evidence[q.id], [Span(h.source, h.start, h.end) for h in hits[:k]])
                     for q, hits in zip(questions, retrieved)]
            found = sum(r is not None for r in ranks)
            context = sum(sum(tokens(h.text) for h in hits[:k]) for hits in retrieved) / len(questions)
            system = {**config.system, "k": k}
            rows.append(Row(Config(config.label, config.retriever, system, config.options, (k,), config.from_suite),
                            k, len(questions), found,
                            RECALL.of_ranks(ranks), MRR.of_ranks(ranks),
                            len(retriever.chunks.spans), context, index_s, query_ms))
        on_done()
    return rows


def best(rows: Sequence[Row], budget: float) -> Row | None:
    """Highest recall within the budget; then higher MRR; then less context."""
    fitting = [r for r in rows if r.context_tokens <= budget and not r.config.from_suite]
    return max(fitting, key=lambda r: (r.recall, r.mrr, -r.context_tokens), default=None)


def table(rows: Sequence[Row]) -> str:
    head = f"{'configuration':<40} {'k':>2} {'recall@k':>8} {'95% CI':>13} {'MRR':>5} {'chunks':>6} {'ctx tok':>7} " \
           f"{'index s':>7} {'ms/q':>6}"
    lines = [head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: (-r.recall, -r.mrr, r.context_tokens)):
        low, high = wilson(r.hits, r.n)
        lines.append(f"{r.config.label:<40} {r.k:>2} {r.recall:>8.3f} {f'[{low:.2f}-{high:.2f}]':>13} {r.mrr:>5.3f} "
                     f"{r.chunks:>6} {r.context_tokens:>7.0f} {r.index_s:>7.2f} {r.query_ms:>6.1f}")
    return "\n".join(lines)


def paste_entry(row: Row, name: str = "rag-best") -> str:
    import yaml

    entry = {"name": name, **{k: v for k, v in row.config.system.items() if k != "name"}}
    plain = json.loads(json.dumps(entry))  # plain types: the YAML reader's numbers remember their text
    return yaml.safe_dump([plain], sort_keys=False, default_flow_style=None, width=120).rstrip()


def chart(rows: Sequence[Row], path: Path, title: str) -> None:
    """recall@k against chunk size, one line per retriever (its best over the other settings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.render.chart import _save

    grid_rows = [r for r in rows if not r.config.from_suite]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for retriever in dict.fromkeys(r.config.retriever for r in grid_rows):
        sizes = sorted({r.config.system["chunk_tokens"] for r in grid_rows if r.config.retriever == retriever})
        recall = [max(r.recall for r in grid_rows if r.config.retriever == retriever
                      and r.config.system["chunk_tokens"] == size) for size in sizes]
        ax.plot(sizes, recall, marker="o", label=retriever)
    ax.set_xlabel("chunk size (embedder tokens)")
    ax.set_ylabel("recall@k (best over the other settings)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.set_title(title, fontsize=10)
    _save(fig, path)
