// report.html's script (inlined by harness/render/html.py). The answers are the JSON in #data; the
// filters run over it, and only one page of answers is in the document at a time, so a run of
// thousands of questions opens and filters as fast as a small one. Review marks become
// reviews.yaml lines, the same that harness/judges/reviews.py review_line writes.
'use strict';
const PAGE = 200;  // answers per page; whole questions, so a page may run over
const PLAIN = /^[A-Za-z0-9_.-]+$/;
const VERDICT = {true: '✓ right', false: '✗ wrong', null: '? unscored'};
const SAID = {true: 'right', false: 'wrong', null: 'unscored'};
const value = id => document.getElementById(id);
const data = JSON.parse(value('data').textContent);
const S = data.strings;  // every distinct string once; rows hold indices into it
const unpack = row => Object.fromEntries(data.fields.map((name, i) => [name, row[i]]));
const questions = data.questions.map(q => ({...q, rows: q.rows.map(unpack)}));
const total = questions.reduce((n, q) => n + q.rows.length, 0);
const marks = new Map();
let pages = [[]];  // each page: [question, its rows that pass the filters] pairs
let current = 0;

function el(tag, attrs, ...children) {  // strings become text nodes: nothing needs escaping
  const node = document.createElement(tag);
  for (const [name, v] of Object.entries(attrs)) node.setAttribute(name, v);
  node.append(...children);
  return node;
}

function highlight(text, spans) {  // spans: [start, end] pairs in order, found by the harness
  const out = [];
  let at = 0;
  for (const [start, end] of spans) {
    out.push(text.slice(at, start), el('mark', {class: 'evidence'}, text.slice(start, end)));
    at = end;
  }
  out.push(text.slice(at));
  return out;
}

function chunks(q, r) {
  if (!r.retrieved.length) return '–';
  const found = !q.has_evidence ? '' :
    r.evidence_rank ? `; evidence at rank ${r.evidence_rank}` : '; evidence not retrieved';
  return el('details', {}, el('summary', {}, `${r.retrieved.length} chunks${found}`),
    el('ol', {}, ...r.retrieved.map(([source, text, score, spans]) => el('li', {},
      el('span', {class: 'src'}, `${S[source]} · score ${score.toFixed(3)}`),
      el('div', {class: 'chunk'}, ...highlight(S[text], spans))))));
}

function verdict(r) {
  const source = S[r.source];
  const out = [el('span', {class: 'mark'}, VERDICT[r.correct]), ' ', el('span', {class: `source ${source}`}, source),
               el('div', {class: 'why'}, S[r.explanation])];
  if (source === 'human')
    out.splice(3, 0, ' ', el('span', {class: 'why'}, r.sampled ? 'random sample' : 'hand pick'));
  if (source === 'human' && r.judge)
    out.push(el('div', {class: 'why'}, `judge said ${SAID[r.judge[0]]}: ${S[r.judge[1]]}`));
  return out;
}

function resultRow(q, r) {
  const answer = r.answer === null ? null : S[r.answer];
  const tr = el('tr', {class: 'result', 'data-q': q.id, 'data-system': S[r.system]},
    el('td', {}, S[r.system]), el('td', {class: 'answer'}, answer ?? '(no answer)'), el('td', {}, ...verdict(r)),
    el('td', {}, chunks(q, r)), el('td', {class: 'review'}));
  if (answer !== null) {
    tr.dataset.answer = answer;
    tr.lastChild.append(el('button', {class: 'mark-right', title: 'the answer is right'}, 'right'),
                        el('button', {class: 'mark-wrong', title: 'the answer is wrong'}, 'wrong'));
    paint(tr);
  }
  return tr;
}

function questionBlock(q, rows) {
  const gold = ['gold: ', el('b', {}, q.answer)];
  if (q.accept.length) gold.push(' ', el('span', {class: 'accept'}, 'also: ' + q.accept.join('; ')));
  if (q.tags.length) gold.push(' · tags: ' + q.tags.join(' '));
  const head = el('tr', {}, ...['system', 'answer', 'verdict', 'retrieved chunks', 'review'].map(h => el('th', {}, h)));
  return el('section', {class: 'question', 'data-q': q.id}, el('h3', {}, `${q.id}: ${q.question}`),
    el('p', {}, ...gold), el('table', {class: 'results'}, head, ...rows.map(r => resultRow(q, r))));
}

function showPage(n) {
  current = Math.max(0, Math.min(n, pages.length - 1));
  value('answers').replaceChildren(...pages[current].map(([q, rows]) => questionBlock(q, rows)));
  value('page').textContent = `page ${current + 1} of ${pages.length}`;
  value('prev').disabled = current === 0;
  value('next').disabled = current === pages.length - 1;
}

function turnPage(step) {
  showPage(current + step);
  if (value('answers').getBoundingClientRect().top < 0) value('answers').scrollIntoView();
}

function passes(want, q, r) {
  return (!want.wrong || r.correct === false) && (!want.disagree || q.disagree) &&
    (!want.uncertain || r.uncertain) && (!want.tag || q.tags.includes(want.tag)) &&
    (!want.system || S[r.system] === want.system);
}

function applyFilters() {
  const want = {wrong: value('f-wrong').checked, disagree: value('f-disagree').checked,
                uncertain: value('f-uncertain').checked, tag: value('f-tag').value, system: value('f-system').value};
  pages = [[]];
  let shown = 0, onPage = 0;
  for (const q of questions) {
    const rows = q.rows.filter(r => passes(want, q, r));
    if (!rows.length) continue;
    if (onPage >= PAGE) {
      pages.push([]);
      onPage = 0;
    }
    pages.at(-1).push([q, rows]);
    onPage += rows.length;
    shown += rows.length;
  }
  value('shown').textContent = `${shown} of ${total} answers shown`;
  showPage(0);
}

function reviewLine(m) {
  const q = PLAIN.test(m.q) ? m.q : JSON.stringify(m.q);
  return `- {q: ${q}, answer: ${JSON.stringify(m.answer)}, label: ${m.label}}`;
}

function showMarks() {
  const text = Array.from(marks.values()).map(reviewLine).join('\n');
  value('reviews-out').value = text ? text + '\n' : '';
  value('download').href = 'data:text/yaml;charset=utf-8,' + encodeURIComponent(value('reviews-out').value);
  value('marked').textContent = `${marks.size} marked`;
}

const norm = text => text.split(/\s+/).filter(Boolean).join(' ');
const keyOf = d => d.q + '\u0000' + norm(d.answer);

function paint(tr) {
  const m = marks.get(keyOf(tr.dataset));
  tr.classList.toggle('marked-right', m?.label === true);
  tr.classList.toggle('marked-wrong', m?.label === false);
}

function mark(tr, label) {
  const key = keyOf(tr.dataset);
  if (marks.get(key)?.label === label) marks.delete(key);
  else marks.set(key, {q: tr.dataset.q, answer: tr.dataset.answer, label});
  // one review covers the same answer from every system; rows on other pages are painted when shown
  for (const other of value('answers').querySelectorAll('tr.result[data-answer]'))
    if (keyOf(other.dataset) === key) paint(other);
  showMarks();
}

for (const id of ['f-wrong', 'f-disagree', 'f-uncertain', 'f-tag', 'f-system'])
  value(id).addEventListener('change', applyFilters);
value('prev').addEventListener('click', () => turnPage(-1));
value('next').addEventListener('click', () => turnPage(1));
document.addEventListener('click', event => {
  const button = event.target.closest('button.mark-right, button.mark-wrong');
  if (button) mark(button.closest('tr.result'), button.classList.contains('mark-right'));
});
value('copy').addEventListener('click', () => { value('reviews-out').select(); document.execCommand('copy'); });
applyFilters();
showMarks();
