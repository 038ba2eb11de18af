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
from harness.render.terminal import real_answers_line
from harness.results.model import Row, RunReport
from harness.results.ppi import NO_SAMPLE
from harness.suite import Suite

HTML = "report.html"
SCRIPT = (Path(__file__).with_name("report.js")).read_text(encoding="utf-8")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _code(text: str) -> str:
    """``text`` escaped, its `backquoted` parts as code."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escape(text))


def _summary(report: RunReport) -> str:
    metrics, corrected, reviewed = report.analysis.metrics, report.analysis.corrected, report.analysis.reviewed
    head = ("<tr><th>system</th><th>accuracy [95% CI]</th><th>unscored</th><th>human verdicts</th>"
            "<th>corrected accuracy [95% interval]</th><th>recall@k</th><th>MRR</th></tr>")
    body = []
    for name, m in metrics.items():
        ci = f" [{100 * m.accuracy_ci[0]:.0f}–{100 * m.accuracy_ci[1]:.0f}%]" if m.accuracy_ci else ""
        c = corrected.get(name)
        fixed = f'–<div class="why">{_code(NO_SAMPLE)}</div>' if c is None else (
            _pct(c.value) + ("" if c.low is None else f" [{100 * c.low:.0f}–{100 * c.high:.0f}%]")
            + f'<div class="why">from {c.reviewed} random-sample reviews</div>')
        recall = "–" if m.recall is None else f"{_pct(m.recall)} (k={m.k})"
        mrr = "–" if m.mrr is None else f"{m.mrr:.3f}"
        body.append(f"<tr><td>{escape(name)}</td><td>{m.correct}/{m.n} ({_pct(m.accuracy)}){ci}</td>"
                    f"<td>{m.unscored}</td><td>{reviewed[name].n}</td><td>{fixed}</td><td>{recall}</td>"
                    f"<td>{mrr}</td></tr>")
    return f'<table class="summary">{head}{"".join(body)}</table>'


def _header(report: RunReport) -> str:
    run, cal = report.run, report.run.calibration
    items = [f"generator <code>{escape(run.generator)}</code>", f"judge <code>{escape(run.judge)}</code>",
             "judge agreement on the calibration set: " +
             (f"{cal['agree']}/{cal['n']} ({_pct(cal['agreement'])})" if cal else "not measured")]
    if run.real_answers:
        items.append(escape(f"on the systems' own answers, labelled by hand: {real_answers_line(run.real_answers)}"))
    reviewed = report.analysis.reviewed[""]
    if reviewed.n:
        items.append(f"on this run's reviewed answers: {reviewed.agree}/{reviewed.n} ({_pct(reviewed.agreement)})")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


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


def _page_data(suite: Suite, report: RunReport) -> dict:
    """The answers grouped by question in suite order, each question's rows in the report's order."""
    by_question: dict[str, list[Row]] = {}
    for r in report.results:
        by_question.setdefault(r.id, []).append(r)
    text = _Strings()
    questions = []
    for q in suite.questions:
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


def render_html(suite: Suite, report: RunReport, charts: Sequence[bytes]) -> str:
    tags = sorted({t for q in suite.questions for t in q.tags})
    systems = list(dict.fromkeys(r.system for r in report.results))
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                     for png in charts)
    skipped = "".join(f"<li>{escape(n)}: {escape(why)}</li>" for n, why in report.run.skipped.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(suite.name)}: every answer</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<style>{STYLE}</style></head><body>
<h1>{escape(suite.name)}: every answer</h1>{_header(report)}
{"".join(f'<p class="warning">warning: {escape(line)}</p>' for line in report.warnings)}
<h2>Summary</h2>{_summary(report)}{images}
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
{_json_script(_page_data(suite, report))}
<script>{SCRIPT}</script></body></html>
"""


def write_html(suite: Suite, report: RunReport, path: Path, charts: Sequence[Path]) -> None:
    pngs = [p.read_bytes() for p in charts if p.is_file()]
    write_atomic(path, render_html(suite, report, pngs))
