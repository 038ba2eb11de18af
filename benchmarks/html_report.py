"""How fast report.html opens in headless Chromium, and how big it is.

By default on a synthetic default-suite-sized run (5 systems x 58 questions, 3 retrieved chunks of
500 characters per RAG answer); ``--results-json reports/results.json`` measures a real run.
Prints the median time to the load event over fresh pages, against a near-empty page in the same
browser, and the median time one filter takes to apply.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import browser  # noqa: E402
from synthetic_run import SYSTEMS, run_report, synthetic_rows  # noqa: E402

from harness.render.scorecard import write_reports  # noqa: E402
from harness.results.analysis import rebuild  # noqa: E402
from harness.results.model import read_results_file  # noqa: E402
from harness.suite import load_suite  # noqa: E402

LOAD = "performance.getEntriesByType('navigation')[0].loadEventEnd"
FILTER = """() => { const t = performance.now(); const box = document.getElementById('f-wrong');
  box.checked = !box.checked; box.dispatchEvent(new Event('change')); void document.body.offsetHeight;
  return performance.now() - t; }"""


def median_load_ms(context, url: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        page = context.new_page()
        page.goto(url, wait_until="load")
        times.append(page.evaluate(LOAD))
        page.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results-json", default=None, help="a real run's results.json (default: synthetic)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if why := browser.missing():
        sys.exit(why)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if args.results_json:
            stored = read_results_file(Path(args.results_json))
            suite = load_suite(stored.run.suite_dir)
            data = rebuild(suite, stored)
        else:
            suite = load_suite(ROOT / "fixtures" / "touch_rugby")
            data = run_report(suite, synthetic_rows(suite, SYSTEMS, seed=0)[0])
        started = time.perf_counter()
        write_reports(suite, data, out / "scorecard.md")
        render_s = time.perf_counter() - started
        html = out / "report.html"
        (out / "empty.html").write_text("<!DOCTYPE html><title>empty</title><p>empty</p>")
        with browser.chromium() as context:
            empty = median_load_ms(context, (out / "empty.html").as_uri(), args.repeats)
            report = median_load_ms(context, html.as_uri(), args.repeats)
            page = context.new_page()
            page.goto(html.as_uri())
            filter_ms = statistics.median(page.evaluate(FILTER) for _ in range(args.repeats))
        size_mb = html.stat().st_size / 1e6
    print(f"report.html: {len(data.results)} answers, {size_mb:.2f} MB, "
          f"written with the scorecard in {render_s:.2f} s")
    print(f"headless Chromium, median of {args.repeats} fresh pages, navigation start to load event:")
    print(f"  near-empty page   {empty:7.1f} ms  1.0x")
    print(f"  report.html       {report:7.1f} ms  {report / empty:.1f}x")
    print(f"one filter (only wrong) applied, layout included: median {filter_ms:.1f} ms")


if __name__ == "__main__":
    main()
