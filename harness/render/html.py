"""report.html: every answer, its verdict and its retrieved chunks, in one self-contained page.

Rendered from the RunReport beside the scorecard. Nothing is fetched: the style, the script and
the charts (PNG data URIs) are inline, so the file opens offline and can be mailed. Rows are
rendered here; the page's script only filters them and collects a reviewer's marks as
reviews.yaml lines (the same lines ``harness review`` writes: harness/reviews.py review_line).
"""
from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path
from typing import Sequence

from harness.core.cache import write_atomic
from harness.judges.reviews import uncertain
from harness.render.terminal import real_answers_line
from harness.results.model import Row, RunReport
from harness.suite import Suite

HTML = "report.html"


def _highlight(text: str, spans: Sequence[str]) -> str:
    """``text`` escaped, with each evidence span (case and whitespace ignored) in <mark>."""
    found = sorted((m.start(), m.end()) for span in spans
                   for m in re.finditer(r"\s+".join(map(re.escape, span.split())), text, re.IGNORECASE))
    out, at = [], 0
    for start, end in found:
        if start < at:  # overlapping occurrences: keep the first
            continue
        out += [escape(text[at:start]), f'<mark class="evidence">{escape(text[start:end])}</mark>']
        at = end
    return "".join(out) + escape(text[at:])


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _summary(report: RunReport) -> str:
    metrics, corrected = report.analysis.metrics, report.analysis.corrected
    head = ("<tr><th>system</th><th>accuracy [95% CI]</th><th>unscored</th><th>human verdicts</th>"
            "<th>corrected accuracy [95% interval]</th><th>recall@k</th><th>MRR</th></tr>")
    body = []
    for name, m in metrics.items():
        ci = f" [{100 * m.accuracy_ci[0]:.0f}–{100 * m.accuracy_ci[1]:.0f}%]" if m.accuracy_ci else ""
        c = corrected.get(name)
        fixed = "–" if c is None else _pct(c.value) + ("" if c.low is None else
                                                         f" [{100 * c.low:.0f}–{100 * c.high:.0f}%]")
        recall = "–" if m.recall is None else f"{_pct(m.recall)} (k={m.k})"
        mrr = "–" if m.mrr is None else f"{m.mrr:.3f}"
        body.append(f"<tr><td>{escape(name)}</td><td>{m.correct}/{m.n} ({_pct(m.accuracy)}){ci}</td>"
                    f"<td>{m.unscored}</td><td>{c.reviewed if c else 0}</td><td>{fixed}</td><td>{recall}</td>"
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


def _verdict(row: Row) -> str:
    mark = {True: "✓ right", False: "✗ wrong", None: "? unscored"}[row.correct]
    source = row.verdict_source or "judge"
    out = (f'<span class="mark">{mark}</span> <span class="source {source}">{source}</span>'
           f'<div class="why">{escape(row.explanation or "")}</div>')
    if source == "human" and row.judge:
        said = {True: "right", False: "wrong", None: "unscored"}[row.judge.correct]
        out += f'<div class="why">judge said {said}: {escape(row.judge.explanation or "")}</div>'
    return out


def _chunks(row: Row, spans: Sequence[str]) -> str:
    hits = row.retrieved
    if not hits:
        return "–"
    rank = row.evidence_rank
    found = "" if not spans else (f"; evidence at rank {rank}" if rank else "; evidence not retrieved")
    items = "".join(f'<li><span class="src">{escape(h.source)} · score {h.score:.3f}</span>'
                    f'<div class="chunk">{_highlight(h.text, spans)}</div></li>' for h in hits)
    return f'<details><summary>{len(hits)} chunks{found}</summary><ol>{items}</ol></details>'


def _question_block(question, rows: list[Row]) -> str:
    verdicts = {r.correct for r in rows if r.correct is not None}
    disagree = int(len(verdicts) > 1)
    tags = " ".join(question.tags)
    accept = f' <span class="accept">also: {escape("; ".join(question.accept))}</span>' if question.accept else ""
    trs = []
    for r in rows:
        flags = (f'data-q="{escape(r.id)}" data-system="{escape(r.system)}" data-tags="{escape(tags)}" '
                 f'data-correct="{ {True: 1, False: 0, None: "u"}[r.correct] }" data-disagree="{disagree}" '
                 f'data-uncertain="{int(uncertain(r))}" data-answer="{escape(r.answer or "")}"')
        review = ("" if r.answer is None else
                  '<button class="mark-right" title="the answer is right">right</button>'
                  '<button class="mark-wrong" title="the answer is wrong">wrong</button>')
        trs.append(f'<tr class="result" {flags}><td>{escape(r.system)}</td>'
                   f'<td class="answer">{escape(r.answer or "(no answer)")}</td><td>{_verdict(r)}</td>'
                   f'<td>{_chunks(r, question.evidence)}</td><td class="review">{review}</td></tr>')
    return (f'<section class="question" data-q="{escape(question.id)}"><h3>{escape(question.id)}: '
            f'{escape(question.question)}</h3><p>gold: <b>{escape(question.answer)}</b>{accept}'
            f'{"" if not tags else " · tags: " + escape(tags)}</p><table class="results"><tr><th>system</th>'
            f'<th>answer</th><th>verdict</th><th>retrieved chunks</th><th>review</th></tr>{"".join(trs)}</table>'
            f'</section>')


def _options(values: Sequence[str], everything: str) -> str:
    return f'<option value="">{everything}</option>' + "".join(
        f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;
text-align:left}.results{width:100%}.answer{max-width:28em;white-space:pre-wrap}
.why{color:#555;font-size:12px}.source{font-size:11px;padding:0 4px;border-radius:3px;background:#eee}
.source.human{background:#ffd27f}.chunk{white-space:pre-wrap;font-size:12px;max-width:50em}
mark.evidence{background:#9fe89f}.src{color:#777;font-size:11px}.filters{position:sticky;top:0;background:#fff;
padding:.5em 0;border-bottom:1px solid #ccc}tr.marked-right td.review{background:#c8f0c8}
tr.marked-wrong td.review{background:#f5c2c2}#reviews-out{width:100%;height:8em;font-family:monospace}
img{max-width:100%}
"""

SCRIPT = """
const PLAIN = /^[A-Za-z0-9_.-]+$/;
const marks = new Map();
const rows = Array.from(document.querySelectorAll('tr.result'));
const value = id => document.getElementById(id);
function reviewLine(m) {
  const q = PLAIN.test(m.q) ? m.q : JSON.stringify(m.q);
  return `- {q: ${q}, answer: ${JSON.stringify(m.answer)}, label: ${m.label}}`;
}
function applyFilters() {
  const want = {wrong: value('f-wrong').checked, disagree: value('f-disagree').checked,
                uncertain: value('f-uncertain').checked, tag: value('f-tag').value, system: value('f-system').value};
  let shown = 0;
  for (const tr of rows) {
    const d = tr.dataset;
    const show = (!want.wrong || d.correct === '0') && (!want.disagree || d.disagree === '1') &&
      (!want.uncertain || d.uncertain === '1') && (!want.tag || d.tags.split(' ').includes(want.tag)) &&
      (!want.system || d.system === want.system);
    tr.hidden = !show;
    shown += show;
  }
  for (const section of document.querySelectorAll('section.question'))
    section.hidden = !section.querySelector('tr.result:not([hidden])');
  value('shown').textContent = `${shown} of ${rows.length} answers shown`;
}
function showMarks() {
  const text = Array.from(marks.values()).map(reviewLine).join('\\n');
  value('reviews-out').value = text ? text + '\\n' : '';
  value('download').href = 'data:text/yaml;charset=utf-8,' + encodeURIComponent(value('reviews-out').value);
  value('marked').textContent = `${marks.size} marked`;
}
const norm = text => text.split(/\\s+/).filter(Boolean).join(' ');
const keyOf = d => d.q + '\\u0000' + norm(d.answer);
function mark(tr, label) {
  const key = keyOf(tr.dataset);
  const same = marks.get(key);
  if (same && same.label === label) marks.delete(key);
  else marks.set(key, {q: tr.dataset.q, answer: tr.dataset.answer, label});
  const m = marks.get(key);
  for (const other of rows) {  // one review covers the same answer from every system
    if (keyOf(other.dataset) !== key) continue;
    other.classList.toggle('marked-right', !!m && m.label === true);
    other.classList.toggle('marked-wrong', !!m && m.label === false);
  }
  showMarks();
}
for (const id of ['f-wrong', 'f-disagree', 'f-uncertain', 'f-tag', 'f-system'])
  value(id).addEventListener('change', applyFilters);
document.addEventListener('click', event => {
  const button = event.target.closest('button.mark-right, button.mark-wrong');
  if (button) mark(button.closest('tr.result'), button.classList.contains('mark-right'));
});
value('copy').addEventListener('click', () => { value('reviews-out').select(); document.execCommand('copy'); });
applyFilters();
showMarks();
"""


def render_html(suite: Suite, report: RunReport, charts: Sequence[bytes]) -> str:
    rows = report.results
    by_question: dict[str, list[Row]] = {}
    for r in rows:
        by_question.setdefault(r.id, []).append(r)
    blocks = "".join(_question_block(q, by_question[q.id]) for q in suite.questions if q.id in by_question)
    tags = sorted({t for q in suite.questions for t in q.tags})
    systems = list(dict.fromkeys(r.system for r in rows))
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                     for png in charts)
    skipped = "".join(f"<li>{escape(n)}: {escape(why)}</li>" for n, why in report.run.skipped.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(suite.name)}: every answer</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<style>{STYLE}</style></head><body>
<h1>{escape(suite.name)}: every answer</h1>{_header(report)}
<h2>Summary</h2>{_summary(report)}{images}
{f"<h2>Skipped systems</h2><ul>{skipped}</ul>" if skipped else ""}
<h2>Answers</h2>
<div class="filters"><label><input type="checkbox" id="f-wrong"> only wrong</label>
<label><input type="checkbox" id="f-disagree"> only where systems disagree</label>
<label><input type="checkbox" id="f-uncertain"> only uncertain judge verdicts</label>
<label>tag <select id="f-tag">{_options(tags, "any tag")}</select></label>
<label>system <select id="f-system">{_options(systems, "every system")}</select></label>
<span id="shown"></span></div>
{blocks}
<h2>Your review</h2>
<p>Mark answers right or wrong above (<span id="marked"></span>). Append these lines to the suite's
<code>reviews.yaml</code>; a human verdict overrules the judge on the next run.</p>
<textarea id="reviews-out" readonly></textarea><br>
<button id="copy">copy</button> <a id="download" download="reviews.yaml" href="#">download</a>
<script>{SCRIPT}</script></body></html>
"""


def write_html(suite: Suite, report: RunReport, path: Path, charts: Sequence[Path]) -> None:
    pngs = [p.read_bytes() for p in charts if p.is_file()]
    write_atomic(path, render_html(suite, report, pngs))
