"""report.html: self-contained, small, and its filters, highlight, review marks and paging work in a
real browser, on a small run and on a long one."""
import json
import re
from pathlib import Path

import browser
import pytest
from synthetic_run import SYSTEMS, made_up_suite, regrade, run_report, synthetic_rows

from harness.judges.reviews import (
    REVIEWS_FILE,
    Draw,
    append_review,
    load_reviews,
    population_digests,
    review_line,
    uncertain,
)
from harness.render.html import write_html
from harness.render.publish import publish
from harness.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
TRICKY = 'He said "seven" — metres\\ <b>back</b>'
pytestmark = pytest.mark.must_run_in_ci  # CI installs chromium and playwright: no skipping there


@pytest.fixture
def tagged_suite(tiny_suite):
    """The tiny suite with tags, so that the tag filter has something to filter."""
    path = tiny_suite / "questions.yaml"
    text = path.read_text().replace("  answer: Nine\n", "  answer: Nine\n  tags: [team]\n")
    path.write_text(text.replace("  answer: Orange\n", "  answer: Orange\n  tags: [team, kit]\n"))
    return load_suite(tiny_suite)


@pytest.fixture
def page_data(tagged_suite, tmp_path):
    rows, truth = synthetic_rows(tagged_suite, ["baseline", "rag-bow"], seed=3, uncertain=0.3)
    rows[0].answer = TRICKY  # escaping, in the page and in the review line
    rows[3].correct = None  # unscored: neither wrong nor right, and an uncertain verdict
    for hit in (h for r in rows for h in r.retrieved):  # offsets of the evidence counted past a non-BMP character
        hit.text = "🏉 " + hit.text
    drawn_from = population_digests(rows)["rag-bow"]  # a sample of rag-bow's answers as they are in this run
    for system, draw in [("baseline", None),  # a hand pick
                         ("rag-bow", Draw(seed=0, size=1, system="rag-bow", population=drawn_from))]:
        t2 = next(r for r in rows if (r.system, r.id) == (system, "t2"))
        append_review(tmp_path / REVIEWS_FILE, review_line("t2", t2.answer, truth[system, "t2"], "", draw))
    reviews = load_reviews(tmp_path / REVIEWS_FILE, tagged_suite.questions)
    data = run_report(tagged_suite, regrade(rows, reviews), reviews)
    publish(data, tmp_path / "out" / "scorecard.md")
    return data, tmp_path / "out" / "report.html"


def _embedded(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', html).group(1))


def test_report_is_self_contained_and_escaped_and_stores_each_string_once(page_data):
    data, path = page_data
    html = path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:|//)|<link|@import|url\(""", html)
    assert html.count('<img alt="chart" src="data:image/png;base64,') == 2  # accuracy, and accuracy against cost
    assert "<b>back</b>" not in html and html.count("</script>") == 2  # no answer can close the data's script
    assert "no random-sample reviews: run <code>harness review --sample N</code>" in html  # baseline: a hand pick
    assert "from 1 random-sample reviews" in html and "These marks are hand picks" in html  # rag-bow: drawn
    embedded = _embedded(html)
    assert sum(len(q["rows"]) for q in embedded["questions"]) == len(data.results)
    assert TRICKY in embedded["strings"]
    sampled = {(embedded["strings"][r[0]], q["id"]) for q in embedded["questions"] for r in q["rows"]
               if r[embedded["fields"].index("sampled")]}
    assert sampled == {(r.system, r.id) for r in data.results if r.sampled} == {("rag-bow", "t2")}
    chunks = [h.text for r in data.results for h in r.retrieved]
    assert len(chunks) > len(set(chunks)) and all(embedded["strings"].count(c) == 1 for c in chunks)


def test_default_suite_sized_report_stays_under_2_mb(tmp_path):
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    rows, _ = synthetic_rows(suite, SYSTEMS, seed=0)
    publish(run_report(suite, rows), tmp_path / "scorecard.md")
    assert (tmp_path / "report.html").stat().st_size < 2_000_000


def _on_page(page) -> list[tuple[str, str]]:
    return [tuple(x) for x in page.eval_on_selector_all(
        "tr.result", "rows => rows.map(r => [r.dataset.system, r.dataset.q])")]


def _visible(page) -> set[tuple[str, str]]:
    """The (system, question) of every answer the filters let through, page by page."""
    seen = _on_page(page)
    while page.is_enabled("#next"):
        page.click("#next")
        seen += _on_page(page)
    assert len(seen) == len(set(seen)), "an answer on two pages"
    return set(seen)


def test_the_page_in_headless_chromium(page_data, tagged_suite):
    if why := browser.missing():
        pytest.skip(why)
    data, path = page_data
    rows = data.results
    every = {(r.system, r.id) for r in rows}
    tags = {q.id: q.tags for q in tagged_suite.questions}
    split = {q for q in tags if len({r.correct for r in rows if r.id == q and r.correct is not None}) > 1}
    expected = {
        "#f-wrong": {(r.system, r.id) for r in rows if r.correct is False},
        "#f-disagree": {(r.system, r.id) for r in rows if r.id in split},
        "#f-uncertain": {(r.system, r.id) for r in rows if uncertain(r)},
    }
    errors = []
    with browser.chromium() as context:
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(path.as_uri())
        assert _visible(page) == every
        for box, want in expected.items():
            assert want and want != every, f"the synthetic data cannot test {box}"
            page.check(box)
            assert _visible(page) == want, box
            page.uncheck(box)
        page.select_option("#f-tag", "kit")
        assert _visible(page) == {(s, q) for s, q in every if "kit" in tags[q]}
        page.select_option("#f-tag", "")
        page.select_option("#f-system", "rag-bow")
        assert _visible(page) == {(s, q) for s, q in every if s == "rag-bow"}
        page.select_option("#f-system", "")
        assert _visible(page) == every

        marks = page.eval_on_selector_all("mark.evidence", "ms => ms.map(m => m.textContent)")
        evidence = {e for q in tagged_suite.questions for e in q.evidence}
        assert "A quollball team fields exactly nine players." in marks and set(marks) <= evidence
        t1 = 'tr.result[data-system="baseline"][data-q="t1"]'
        assert page.text_content(f"{t1} td.answer") == TRICKY
        human = page.text_content('tr.result[data-system="baseline"][data-q="t2"]')
        assert "human" in human and "hand pick" in human and "judge said" in human
        assert "random sample" in page.text_content('tr.result[data-system="rag-bow"][data-q="t2"]')

        page.click(f"{t1} button.mark-right")
        page.click('tr.result[data-system="rag-bow"][data-q="t3"] button.mark-wrong')
        answer_t3 = next(r.answer for r in rows if (r.system, r.id) == ("rag-bow", "t3"))
        assert page.input_value("#reviews-out") == (
            review_line("t1", TRICKY, True) + "\n" + review_line("t3", answer_t3, False) + "\n")
        page.click('tr.result[data-system="rag-bow"][data-q="t3"] button.mark-wrong')  # a second click unmarks
        assert page.input_value("#reviews-out") == review_line("t1", TRICKY, True) + "\n"
        page.check("#f-wrong")  # the answers are drawn again: the mark stays
        page.uncheck("#f-wrong")
        assert "marked-right" in page.get_attribute(t1, "class")
    assert errors == []


def test_a_long_run_filters_over_every_answer_but_shows_one_page_at_a_time(tmp_path):
    if why := browser.missing():
        pytest.skip(why)
    suite = made_up_suite(tmp_path / "suite", 300)
    rows = synthetic_rows(suite, list(suite.default_systems), seed=0)[0]
    path = tmp_path / "report.html"
    write_html(run_report(suite, rows), path, [])
    assert path.stat().st_size < 1_000_000  # 3,000 answers with 3.6 MB of chunks: each distinct chunk once
    wrong = {(r.system, r.id) for r in rows if r.correct is False}
    with browser.chromium() as context:
        page = context.new_page()
        page.goto(path.as_uri())
        assert page.text_content("#shown") == f"{len(rows)} of {len(rows)} answers shown"
        assert 100 < len(_on_page(page)) <= 210 and page.text_content("#page") == "page 1 of 15"
        page.check("#f-wrong")
        assert page.text_content("#shown") == f"{len(wrong)} of {len(rows)} answers shown"
        assert len(_on_page(page)) <= 210
        assert _visible(page) == wrong
        page.select_option("#f-system", "lora")
        assert _visible(page) == {(s, q) for s, q in wrong if s == "lora"}


def test_without_a_browser_the_test_skips_naming_what_to_install(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert browser.missing() == "no headless browser: install Debian's `chromium` package (apt-get install -y chromium)"
