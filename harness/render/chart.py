"""reports/accuracy.png: accuracy per system with 95% Wilson interval bars."""
from __future__ import annotations

from pathlib import Path


def _save(fig, path: Path) -> None:
    """Write atomically: a reader never sees half a PNG."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def accuracy_chart(path: Path, rows: list[tuple[str, float, tuple[float, float] | None]], title: str) -> None:
    """rows: (system, accuracy, (low, high)); written atomically."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display here or in CI
    import matplotlib.pyplot as plt

    names = [r[0] for r in rows]
    values = [r[1] for r in rows]
    # clipped at 0: at 0% or 100% the Wilson bound and the value differ only by rounding, either way
    low = [max(r[1] - r[2][0], 0.0) if r[2] else 0 for r in rows]
    high = [max(r[2][1] - r[1], 0.0) if r[2] else 0 for r in rows]
    fig, ax = plt.subplots(figsize=(1.6 * len(rows) + 2, 4))
    bars = ax.bar(names, values, yerr=[low, high], capsize=6, color="#4C78A8")
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:.0%}", (bar.get_x() + bar.get_width() / 2, value), xytext=(10, 3),
                    textcoords="offset points", fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_ylabel("answer accuracy")
    ax.set_title(title + "\n(bars: 95% Wilson interval)", fontsize=10)
    _save(fig, path)


def loss_chart(path: Path, logs: dict, title: str) -> None:
    """Train (solid) and eval (dashed) loss per adapter (``logs``: system -> TrainingLog), named by the
    systems sharing it, one line per seed for systems trained with several; atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    adapters: dict[str, tuple[list[str], object]] = {}
    for system, first in logs.items():
        for log in first.runs():
            suffix = f" seed {log.seed}" if log.seed is not None else ""
            adapters.setdefault(log.adapter or system, ([], log))[0].append(system + suffix)
    fig, ax = plt.subplots(figsize=(7, 4))
    corpus = False
    for i, (systems, log) in enumerate(adapters.values()):
        corpus = corpus or log.settings.get("train_on") == "corpus"
        curves(ax, i, ", ".join(systems), log.on_epochs(log.train), log.on_epochs(log.eval))
    ax.set_xlabel("epochs")
    ax.set_ylabel("loss per answer token" + (" (lora-docs: per token of its passages)" if corpus else ""))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)


def curves(ax, i: int, name: str, train, held) -> None:
    """One run's train loss (solid) and eval loss on held-out examples (dashed), in the i-th colour."""
    colour = f"C{i % 10}"
    if train:
        ax.plot(*zip(*train), color=colour, label=f"{name}: train")
    if held:
        ax.plot(*zip(*held), color=colour, linestyle="--", marker="o", markersize=3, label=f"{name}: eval (held out)")


FAMILY_COLOURS = {"none": "#888888", "retrieval": "#4C78A8", "fine-tuning": "#F58518", "both": "#54A24B"}


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (lower cost, higher accuracy), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -1.0
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def cost_chart(path: Path, rows: list[tuple[str, str, float, float | None, float]], title: str) -> None:
    """rows: (system, family, accuracy, seconds per answer, seconds to build: training + indexing). Two
    panels, accuracy against each cost, the Pareto frontier drawn, points coloured by family; atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, column, label in ((axes[0], 3, "seconds per answer"),
                              (axes[1], 4, "seconds to build after a change to the documents (training + indexing)")):
        shown = [r for r in rows if r[column] is not None]
        for family, colour in FAMILY_COLOURS.items():
            mine = [r for r in shown if r[1] == family]
            if mine:
                ax.scatter([r[column] for r in mine], [r[2] for r in mine], color=colour, label=family, s=40, zorder=3)
        for r in shown:
            ax.annotate(r[0], (r[column], r[2]), xytext=(4, 4), textcoords="offset points", fontsize=8)
        front = [shown[i] for i in pareto([(r[column], r[2]) for r in shown])]
        ax.step([r[column] for r in front], [r[2] for r in front], where="post", color="#333", linestyle="--",
                linewidth=1, label="Pareto frontier", zorder=2)
        if column == 4:  # from seconds of indexing to minutes of training
            ax.set_xscale("symlog", linthresh=0.1)
        else:
            ax.set_xlim(left=0)
        ax.set_ylim(0, 1)
        ax.set_xlabel(label, fontsize=9)
        ax.set_ylabel("answer accuracy")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=10)
    _save(fig, path)
