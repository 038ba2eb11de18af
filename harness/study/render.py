"""A study rendered: study.md (the verdict first), study_loss.png (every run's loss curves on one axis of
epochs), study_accuracy.png (accuracy against each dimension) and study.html (the same, one page)."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from harness.core.cache import write_atomic
from harness.study.analysis import held_text
from harness.study.grid import value_text
from harness.study.model import StudyResult


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _loss(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _value(v) -> str:
    return "all" if v is None else value_text(v)


def cell_table(study: StudyResult) -> list[list[str]]:
    head = ["cell", *study.dimensions, "seed", "pairs", "accuracy", "95% CI", "train loss", "eval loss",
            "train s", "peak MB", "adapter"]
    rows = [head]
    for c in study.cells:
        ci = f"{c.interval[0]:.0%}–{c.interval[1]:.0%}" if c.interval else "–"
        rows.append([c.id, *(_value(c.coordinates.get(d)) for d in study.dimensions), str(c.seed), str(c.pairs),
                     f"{_pct(c.accuracy)} ({c.correct}/{c.n})", ci, _loss(c.train_loss), _loss(c.eval_loss),
                     f"{c.train_seconds:.0f}" + ("" if c.trained_now else "*"),
                     f"{c.peak_rss_mb:.0f}" if c.peak_rss_mb else "–",
                     c.adapter + (" (checkpoint)" if c.checkpoint_of else "")])
    return rows


def series_lines(study: StudyResult) -> list[str]:
    lines = []
    for s in study.series:
        points = ", ".join(f"{_value(p.value)}: {_pct(p.accuracy)}" for p in s.points)
        lines.append(f"- {s.dimension} ({held_text(s.held)}, seed {s.seed}): {points}")
    return lines


def cost_line(study: StudyResult) -> str:
    """What the study cost: its runs' own training seconds (a resumed study's earlier work included), and
    the time of the invocation that finished it, against its estimate."""
    runs = {c.adapter: c.train_seconds for c in study.cells if c.checkpoint_of is None}
    return (f"Training: {len(runs)} runs, {sum(runs.values()) / 60:.0f} min in all; the invocation that finished "
            f"the study took {study.seconds / 60:.1f} min, estimated at {study.estimate_seconds / 60:.1f} min.")


def _md_table(rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
                     + ["| " + " | ".join(r) + " |" for r in rows[1:]])


def _correlation(study: StudyResult) -> str:
    c = study.correlation
    if c.get("rho") is None:
        return f"eval loss against accuracy over {c.get('cells', 0)} cells: too few distinct values for a correlation"
    return (f"eval loss against accuracy over {c['cells']:.0f} cells: Spearman's rho {c['rho']:+.2f} "
            f"(p = {c['p_value']:.2g}; negative: lower loss came with better answers)")


def markdown(study: StudyResult) -> str:
    v = study.verdict
    out = [f"# Study: {study.system} ({study.kind}) on {study.suite}", "",
           f"**Verdict: {v.headline}.**", ""]
    out += [f"- {line}" for line in v.lines]
    out += ["", "## Loss and accuracy", ""]
    out += [f"- {x.line}" for x in study.loss_vs_accuracy] or ["- no series with eval loss at both ends"]
    out += [f"- {_correlation(study)}", "", "## Accuracy against each dimension", ""]
    out += series_lines(study) or ["- no dimension varies alone"]
    out += ["", "![accuracy against each dimension](study_accuracy.png)", "", "## Cells", "",
            _md_table(cell_table(study)), "",
            f"{len(study.cells)} cells, {len(study.questions)} questions each, judge {study.judge}, generator "
            f"{study.generator}. train s: the run's training seconds up to the cell's epochs (*: from the cache, "
            f"or trained by another cell). {cost_line(study)}", ""]
    if study.facts:
        out += [f"Facts: {study.facts}.", ""]
    out += [f"Note: {note}." for note in study.notes]
    out += ["", "## Loss curves", "", "![loss curves](study_loss.png)", ""]
    return "\n".join(out)


def loss_chart(study: StudyResult, path: Path) -> None:
    """Train (solid) and eval (dashed) loss of every run on one axis of epochs; checkpoints share their run's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.render.chart import _save, curves

    runs = {}
    for c in study.cells:
        run = c.adapter.partition("@")[0]
        if run not in runs or len(c.curve_train) > len(runs[run].curve_train):
            runs[run] = c
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for i, c in enumerate(runs.values()):
        curves(ax, i, f"{c.label}, seed {c.seed}", c.curve_train, c.curve_eval)
    ax.set_xlabel("epochs (runs of other batch sizes and data sizes line up)")
    ax.set_ylabel("loss per answer token" if study.trained_on == "pairs" else "loss per token of the passages")
    ax.set_title(f"{study.system}: loss of every run", fontsize=10)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the curves, not over them
    _save(fig, path)


def accuracy_chart(study: StudyResult, path: Path) -> None:
    """Accuracy (95% Wilson interval) against each dimension, a line per series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.render.chart import _save

    dims = [d for d in study.dimensions if any(s.dimension == d for s in study.series)]
    fig, axes = plt.subplots(1, max(1, len(dims)), figsize=(4.2 * max(1, len(dims)), 3.8), squeeze=False)
    for ax, dim in zip(axes[0], dims):
        for s in (s for s in study.series if s.dimension == dim):
            _points(ax, [(_value(p.value), p.accuracy, p.interval) for p in s.points],
                    f"{held_text(s.held)}, seed {s.seed}")
        ax.set_xlabel(dim)
    if not dims:  # no dimension varies alone: each cell, side by side
        _points(axes[0][0], [(c.label, c.accuracy, c.interval) for c in study.cells], "every cell")
        axes[0][0].tick_params(axis="x", labelrotation=30, labelsize=7)
    for ax in axes[0]:
        ax.set_ylabel("answer accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
    fig.suptitle(f"{study.system}: accuracy against each dimension (bars: 95% Wilson interval)", fontsize=10)
    _save(fig, path)


def section(study: StudyResult, charts: list[Path]) -> str:
    """The study as a section of a page: of its own (study.html), or of the run's report.html."""
    v = study.verdict
    esc = html.escape
    rows = cell_table(study)
    table = ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in rows[0]) + "</tr>"
             + "".join("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in r) + "</tr>" for r in rows[1:]) + "</table>")
    images = "".join(f'<img alt="{esc(p.stem)}" src="data:image/png;base64,'
                     f'{base64.b64encode(p.read_bytes()).decode()}">' for p in charts if p.is_file())
    items = lambda lines: "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>" if lines else ""  # noqa: E731
    return (f"<section class='study'><h2>Fine-tuning study: {esc(study.system)} ({esc(study.kind)})</h2>"
            f"<p><strong>Verdict: {esc(v.headline)}.</strong></p>{items(v.lines)}"
            f"<h3>Loss and accuracy</h3>{items([x.line for x in study.loss_vs_accuracy] + [_correlation(study)])}"
            f"<h3>Accuracy against each dimension</h3>{items(series_lines(study))}{images}"
            f"<h3>Cells</h3>{table}{items([f'Facts: {study.facts}'] if study.facts else [])}{items(study.notes)}"
            "</section>")


def _points(ax, points, label: str) -> None:
    """(x, accuracy, interval) as points joined by a line, with their 95% intervals."""
    low = [max(acc - ci[0], 0) if ci else 0 for _, acc, ci in points]
    high = [max(ci[1] - acc, 0) if ci else 0 for _, acc, ci in points]
    ax.errorbar([x for x, _, _ in points], [acc for _, acc, _ in points], yerr=[low, high], marker="o", capsize=4,
                label=label)


def page(study: StudyResult, charts: list[Path]) -> str:
    return (f"<!doctype html><meta charset='utf-8'><title>Study: {html.escape(study.system)}</title>"
            "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%;display:block;margin:1em 0}</style>"
            f"<h1>{html.escape(study.suite)}</h1>{section(study, charts)}")


def charts_of(out: Path) -> list[Path]:
    return [out / "study_accuracy.png", out / "study_loss.png"]


STUDY_DIR = "study"  # a study written beside a run's results.json joins its report.html


def sections_beside(results_dir: Path) -> list[str]:
    """The section of the study in ``results_dir/study/``, if there is one, for the run's report.html."""
    from harness.study.model import read_study

    path = results_dir / STUDY_DIR / "study.json"
    return [section(read_study(path), charts_of(path.parent))] if path.is_file() else []


def publish(study: StudyResult, out: Path) -> list[Path]:
    """study.json, study.md, the two charts and study.html in ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    study.write(out / "study.json")
    charts = charts_of(out)
    accuracy_chart(study, charts[0])
    loss_chart(study, charts[1])
    write_atomic(out / "study.md", markdown(study))
    write_atomic(out / "study.html", page(study, charts))
    return [out / "study.json", out / "study.md", out / "study.html", *charts]
