"""One step from a RunReport to every file a run leaves: results.json, the scorecard, the charts and
report.html, then the gate. The plugin, ``harness merge`` and ``harness report`` all publish this way."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.core.cache import write_atomic
from harness.render.chart import accuracy_chart, cost_chart, loss_chart
from harness.render.html import HTML, write_html
from harness.render.scorecard import CHART, COST_CHART, LOSS_CHART, render_scorecard
from harness.results.gate import gate_passed
from harness.results.model import RunReport


def write_charts(report: RunReport, folder: Path) -> list[Path]:
    systems, training, suite = report.analysis.systems, report.run.training, report.spec.suite
    charts = []
    if systems:
        charts.append(folder / CHART)
        accuracy_chart(charts[-1], [(name, s.accuracy, s.accuracy_ci) for name, s in systems.items()],
                       f"{suite}: answer accuracy")
        charts.append(folder / COST_CHART)
        cost_chart(charts[-1], [(name, s.family, s.accuracy, s.cost.seconds_per_answer,
                                 (s.cost.train_seconds or 0) + (s.cost.index_seconds or 0))
                                for name, s in systems.items()], f"{suite}: accuracy against cost")
    if training:
        charts.append(folder / LOSS_CHART)
        loss_chart(charts[-1], training, f"{suite}: LoRA training")
    return charts


def publish(report: RunReport, scorecard: Path, results_json: Path | None = None, sections: Sequence[str] = ()
            ) -> bool:
    """Write the run's files (results.json only when a path is given; ``sections``: more HTML for
    report.html); True when the gate holds."""
    if results_json is not None:
        write_atomic(results_json, report.to_json())
    charts = write_charts(report, scorecard.parent)
    write_atomic(scorecard, render_scorecard(report))
    write_html(report, scorecard.parent / HTML, charts, sections)
    return gate_passed(report.analysis.gate)
