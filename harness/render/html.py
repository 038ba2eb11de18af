"""report.html: every answer, its verdict and its retrieved chunks, in one self-contained page.

Rendered from the RunReport beside the scorecard. Nothing is fetched: the style, the script
(report.js beside this file) and the charts (PNG data URIs) are inline, so the file opens offline
and can be mailed. The summary is HTML; the answers are one JSON block with every distinct string
stored once (a chunk retrieved for many questions and systems, a repeated answer), so the page
grows with the run's distinct text, not its answers times its chunks. The script filters that data
and puts one page of answers in the document at a time, however long the run, and collects a
reviewer's marks as reviews.yaml lines (hand picks, as ``harness review`` without --sample writes
them: harness/judges/reviews.py review_line).
"""
from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path
from typing import NamedTuple, Sequence

from harness.core.cache import write_atomic
from harness.inputs.config import Question
from harness.inputs.corpus import Document
from harness.inputs.evidence import find_span
from harness.judges.reviews import uncertain
from harness.render import changes
from harness.render.comparison import render_comparison
from harness.render.text import cost_cells, judge_cell, real_answers_line
from harness.results.model import FAMILY_NAMES, Row, RunReport
from harness.results.ppi import NO_SAMPLE

HTML = "report.html"
SCRIPT = (Path(__file__).with_name("report.js")).read_text(encoding="utf-8")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _code(text: str) -> str:
    """``text`` escaped, its `backquoted` parts as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def _verdict(report: RunReport) -> str:
    """The answer first: the verdict's sentence, how sure it is, the judge's standing, and each system's cost."""
    v = report.analysis.verdict
    details = "".join(f"<li>{_code(line)}</li>" for line in [*v.details, report.analysis.judge_status])
    head = ("<tr><th>system</th><th>family</th><th>accuracy</th><th>training (s)</th><th>indexing (s)</th>"
            "<th>s per answer</th><th>prompt tokens</th><th>peak memory (MB)</th></tr>")
    body = "".join(f"<tr><td>{escape(name)}</td><td>{escape(FAMILY_NAMES[s.family])}</td><td>{_pct(s.accuracy)}</td>"
                   + "".join(f"<td>{cell}</td>" for cell in cost_cells(s.cost)) + "</tr>"
                   for name, s in report.analysis.systems.items())
    lines = report.analysis.changes.lines if report.analysis.changes else []
    change = (f'<p class="headline"><strong>{_code(lines[0])}</strong></p>'
              + "<ul>" + "".join(f"<li>{_code(line)}</li>" for line in lines[1:]) + "</ul>") if lines else ""
    return (f'<section id="verdict"><h2>Verdict</h2>{change}<p class="headline"><strong>{_code(v.headline)}</strong></p>'
            f'<ul>{details}</ul><table class="summary">{head}{body}</table></section>')


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return ('<table class="summary"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows) + "</table>")


def _changes(report: RunReport) -> str:
    """The change study: per system, then each changed question with every system's answers and their class."""
    if report.analysis.changes is None:
        return ""
    change = report.spec.change
    header, facts = changes.fact_rows(report)
    return (f'<section id="changes"><h2>When the documents change</h2><p>Change set <code>{escape(change.name)}</code>: '
            f"{len(change.edits)} facts, {len(change.changed)} questions. {escape(change.description)}</p>"
            f"{_table(changes.HEADER, changes.system_rows(report))}{_table(header, facts)}</section>")


def _summary(report: RunReport) -> str:
    systems, reviewed = report.analysis.systems, report.analysis.reviewed
    head = ("<tr><th>system</th><th>accuracy [95% CI]</th><th>judge vs humans</th><th>unscored</th>"
            "<th>human verdicts</th><th>corrected accuracy [95% interval]</th><th>recall@k</th><th>MRR</th></tr>")
    body = []
    for name, m in systems.items():
        ci = f" [{100 * m.accuracy_ci[0]:.0f}–{100 * m.accuracy_ci[1]:.0f}%]" if m.accuracy_ci else ""
        c = m.corrected
        fixed = f'–<div class="why">{_code(NO_SAMPLE)}</div>' if c is None else (
            _pct(c.value) + ("" if c.low is None else f" [{100 * c.low:.0f}–{100 * c.high:.0f}%]")
            + f'<div class="why">from {c.reviewed} random-sample reviews</div>')
        r = m.retrieval
        recall = "–" if r is None or r.recall is None else f"{_pct(r.recall)} (k={r.k})"
        mrr = "–" if r is None or r.mrr is None else f"{r.mrr:.3f}"
        body.append(f"<tr><td>{escape(name)}</td><td>{m.correct}/{m.n} ({_pct(m.accuracy)}){ci}</td>"
                    f"<td>{escape(judge_cell(report, name))}</td><td>{m.unscored}</td><td>{reviewed[name].n}</td>"
                    f"<td>{fixed}</td><td>{recall}</td><td>{mrr}</td></tr>")
    return f'<table class="summary">{head}{"".join(body)}</table>'


def _header(report: RunReport) -> str:
    spec, cal = report.spec, report.run.calibration
    items = [f"generator <code>{escape(spec.generator)}</code>"
             + (f"; generation in {escape(spec.environment.generation)}" if spec.environment.generation else ""),
             f"judge <code>{escape(spec.judge)}</code>",
             "judge agreement on the calibration set: " +
             (f"{cal.agree}/{cal.n} ({_pct(cal.agreement)})" if cal else "not measured")]
    if report.run.real_answers:
        items.append(escape(f"on the systems' own answers, labelled by hand: {real_answers_line(report.run.real_answers)}"))
    reviewed = report.analysis.reviewed[""]
    if reviewed.n:
        items.append(f"on this run's reviewed answers: {reviewed.agree}/{reviewed.n} ({_pct(reviewed.agreement)})")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _comparison(report: RunReport) -> str:
    """The comparison with an earlier run, when there is one: its markdown table, as a preformatted block."""
    c = report.analysis.comparison
    if c is None:
        return ""
    return f'<h2>Against {escape(c.old)}</h2><pre class="comparison">{escape(chr(10).join(render_comparison(c)))}</pre>'


def _options(values: Sequence[str], everything: str) -> str:
    return f'<option value="">{everything}</option>' + "".join(
        f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)


class _Strings(dict):
    """Each distinct string once: the data refers to it by its index in ``list(self)``."""

    def __call__(self, text: str | None) -> int | None:
        return None if text is None else self.setdefault(text, len(self))


class _PageRow(NamedTuple):
    """One answer as the page's script reads it (a JSON array; the names travel once, as ``fields``)."""

    system: int
    answer: int | None  # None: the system gave no answer
    correct: bool | None
    uncertain: bool
    explanation: int
    source: int  # who gave the verdict: judge or human
    sampled: bool  # a human verdict from a random sample drawn for this system (else a hand pick)
    judge: tuple[bool | None, int] | None  # the overruled judge verdict under a human one
    retrieved: list[tuple[int, int, float, list[tuple[int, int]]]]  # source, text, score, evidence marks
    evidence_rank: int | None


def _utf16(text: str, i: int) -> int:
    """A Python string offset as a JavaScript (UTF-16) one: they differ after characters beyond U+FFFF."""
    return len(text[:i].encode("utf-16-le")) // 2


def _marks(text: str, spans: Sequence[str]) -> list[tuple[int, int]]:
    """Where the evidence occurs in a chunk, as the harness finds it (case and whitespace ignored);
    of overlapping occurrences the first is kept."""
    found = sorted((s.start, s.end) for span in spans for s in find_span([Document("", text)], span))
    marks, at = [], 0
    for start, end in found:
        if start >= at:
            marks.append((_utf16(text, start), _utf16(text, end)))
            at = end
    return marks


def _page_row(row: Row, question: Question, text: _Strings) -> _PageRow:
    judge = None if row.judge is None else (row.judge.correct, text(row.judge.explanation))
    retrieved = [(text(h.source), text(h.text), round(h.score, 3), _marks(h.text, question.evidence))
                 for h in row.retrieved]
    return _PageRow(text(row.system), text(row.answer), row.correct, uncertain(row), text(row.explanation or ""),
                    text(row.verdict_source or "judge"), bool(row.sampled), judge, retrieved, row.evidence_rank)


def _page_data(report: RunReport) -> dict:
    """The answers grouped by question in suite order, each question's rows in the report's order."""
    by_question: dict[str, list[Row]] = {}
    for r in report.results:
        by_question.setdefault(r.id, []).append(r)
    text = _Strings()
    questions = []
    for q in report.spec.questions:
        if rows := by_question.get(q.id):
            verdicts = {r.correct for r in rows if r.correct is not None}
            questions.append({"id": q.id, "question": q.question, "answer": q.answer, "accept": q.accept,
                              "tags": q.tags, "has_evidence": bool(q.evidence), "disagree": len(verdicts) > 1,
                              "rows": [_page_row(r, q, text) for r in rows]})
    return {"fields": _PageRow._fields, "strings": list(text), "questions": questions}


def _json_script(data: dict) -> str:
    """``data`` in a script element the browser does not run; ``<`` escaped, so no text closes it."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="data">{body}</script>'


# content-visibility: questions off screen are not laid out, so a page of answers is drawn quickly
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;
text-align:left}.results{width:100%}.answer{max-width:28em;white-space:pre-wrap}
.why{color:#555;font-size:12px}.source{font-size:11px;padding:0 4px;border-radius:3px;background:#eee}
.source.human{background:#ffd27f}.chunk{white-space:pre-wrap;font-size:12px;max-width:50em}
mark.evidence{background:#9fe89f}.src{color:#777;font-size:11px}.filters{position:sticky;top:0;background:#fff;
padding:.5em 0;border-bottom:1px solid #ccc;z-index:1}tr.marked-right td.review{background:#c8f0c8}
tr.marked-wrong td.review{background:#f5c2c2}#reviews-out{width:100%;height:8em;font-family:monospace}
img{max-width:100%}.warning{background:#fff3cd;border:1px solid #e0b84a;padding:4px 6px}#answers{scroll-margin-top:4em}.pager{white-space:nowrap}
section.question{content-visibility:auto;contain-intrinsic-size:auto 20em}
"""


def render_html(report: RunReport, charts: Sequence[bytes], sections: Sequence[str] = ()) -> str:
    """The page; ``sections``: HTML of other reports on the same suite (a fine-tuning study's), after the summary."""
    name = report.spec.suite
    tags = sorted({t for q in report.spec.questions for t in q.tags})
    systems = list(dict.fromkeys(r.system for r in report.results))
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                     for png in charts)
    skipped = "".join(f"<li>{escape(n)}: {escape(why)}</li>" for n, why in report.run.skipped.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(name)}: every answer</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<style>{STYLE}</style></head><body>
<h1>{escape(name)}: every answer</h1>{_verdict(report)}{_header(report)}
{"".join(f'<p class="warning">warning: {escape(line)}</p>' for line in report.analysis.warnings)}
<h2>Summary</h2>{_summary(report)}{images}{_comparison(report)}{_changes(report)}{"".join(sections)}
{f"<h2>Skipped systems</h2><ul>{skipped}</ul>" if skipped else ""}
<h2>Answers</h2>
<div class="filters"><label><input type="checkbox" id="f-wrong"> only wrong</label>
<label><input type="checkbox" id="f-disagree"> only where systems disagree</label>
<label><input type="checkbox" id="f-uncertain"> only uncertain judge verdicts</label>
<label>tag <select id="f-tag">{_options(tags, "any tag")}</select></label>
<label>system <select id="f-system">{_options(systems, "every system")}</select></label>
<span id="shown"></span> <span class="pager"><button id="prev">‹ previous</button> <span id="page"></span>
<button id="next">next ›</button></span></div>
<div id="answers"></div>
<h2>Your review</h2>
<p>Mark answers right or wrong above (<span id="marked"></span>). Append these lines to the suite's
<code>reviews.yaml</code>; a human verdict overrules the judge on the next run. These marks are hand picks:
they stay out of the corrected accuracy, which needs a random sample (<code>harness review --sample N</code>).</p>
<textarea id="reviews-out" readonly></textarea><br>
<button id="copy">copy</button> <a id="download" download="reviews.yaml" href="#">download</a>
{_json_script(_page_data(report))}
<script>{SCRIPT}</script></body></html>
"""


def write_html(report: RunReport, path: Path, charts: Sequence[Path], sections: Sequence[str] = ()) -> None:
    pngs = [p.read_bytes() for p in charts if p.is_file()]
    write_atomic(path, render_html(report, pngs, sections))
