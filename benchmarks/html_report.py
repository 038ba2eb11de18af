"""How big report.html is, how fast it opens and how fast a filter applies, in headless Chromium.

Two pages in one run: a default-suite-sized one (the default run's 9 systems x 58 questions,
synthetic answers; ``--results-json reports/results.json`` puts a real run in its place) as the
reference, and one for a made-up suite of 10 systems x ``--questions`` (2,000) questions with a
made-up corpus, built in code. Each round opens every page fresh, in rotating order so that a slow
spell of the machine lands on each, and times:

- load: navigation start until the first page of answers is laid out (read in the page once the
  load event has fired, so it includes a little of Playwright's round trip);
- filter: ticking or unticking "only wrong" until the filtered answers are laid out (3 per round).

Prints the medians over ``--rounds`` rounds, and a near-empty page's load as the floor.
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
from synthetic_run import made_up_suite, run_report, synthetic_rows  # noqa: E402

from harness.render.publish import publish  # noqa: E402
from harness.results.migrate import read_results_file  # noqa: E402
from harness.suite import load_suite  # noqa: E402

DEFAULT_RUN = ["baseline", "rag-minilm", "rag-llama", "rag-bm25", "rag-hybrid", "rag-hybrid3", "lora", "lora-rag",
               "raft"]  # the systems a default run answers with (README, "What you will see")
READY = "() => { void document.body.offsetHeight; return performance.now(); }"
FILTER = """() => { const t = performance.now(); const box = document.getElementById('f-wrong');
  box.checked = !box.checked; box.dispatchEvent(new Event('change')); void document.body.offsetHeight;
  return performance.now() - t; }"""
FILTERS_PER_ROUND = 3


def write_page(report, folder: Path) -> tuple[Path, int, float]:
    """report.html (with the scorecard and charts, as a run writes it), its answers and seconds to write."""
    started = time.perf_counter()
    publish(report, folder / "scorecard.md")
    return folder / "report.html", len(report.results), time.perf_counter() - started


def reference(args, folder: Path):
    if args.results_json:
        return "this run", write_page(read_results_file(Path(args.results_json)), folder)
    suite = load_suite(ROOT / "fixtures" / "touch_rugby")
    report = run_report(suite, synthetic_rows(suite, DEFAULT_RUN, seed=0)[0])
    return f"default-sized ({len(DEFAULT_RUN)} x {len(suite.questions)})", write_page(report, folder)


def large(questions: int, folder: Path):
    suite = made_up_suite(folder / "suite", questions)
    systems = list(suite.default_systems)
    report = run_report(suite, synthetic_rows(suite, systems, seed=0)[0])
    return f"made-up ({len(systems)} x {questions})", write_page(report, folder)


def measure(context, url: str, filters: int) -> tuple[float, list[float]]:
    """Milliseconds to a laid-out first screen on a fresh page, and for each of ``filters`` filter changes."""
    page = context.new_page()
    page.goto(url, wait_until="load")
    load = page.evaluate(READY)
    changes = [page.evaluate(FILTER) for _ in range(filters)]
    page.close()
    return load, changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-json", default=None, help="a real run's results.json as the reference")
    parser.add_argument("--questions", type=int, default=2000, help="questions of the made-up suite")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if why := browser.missing():
        sys.exit(why)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "ref").mkdir()
        (out / "empty.html").write_text("<!DOCTYPE html><title>empty</title><p>empty</p>")
        pages = dict([reference(args, out / "ref"), large(args.questions, out)])
        urls = {"near-empty page": (out / "empty.html").as_uri(),
                **{name: path.as_uri() for name, (path, _, _) in pages.items()}}
        loads: dict[str, list[float]] = {name: [] for name in urls}
        filters: dict[str, list[float]] = {name: [] for name in urls}
        with browser.chromium() as context:
            names = list(urls)
            for name in names:  # warm-up: the browser's first pages are slower
                measure(context, urls[name], 0)
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    load, changes = measure(context, urls[name], 0 if name == "near-empty page" else FILTERS_PER_ROUND)
                    loads[name].append(load)
                    filters[name] += changes
        sizes = {name: p.stat().st_size / 1e6 for name, (p, _, _) in pages.items()}
    print(f"report.html in headless Chromium, medians of {args.rounds} rounds (fresh page each; "
          f"{FILTERS_PER_ROUND} filter changes per round):")
    print(f"  {'page':<26} {'answers':>7} {'size':>9} {'written':>8} {'load':>9} {'filter':>9}")
    print(f"  {'near-empty page':<26} {'':>7} {'':>9} {'':>8} {statistics.median(loads['near-empty page']):6.0f} ms")
    for name, (_, answers, seconds) in pages.items():
        print(f"  {name:<26} {answers:>7} {sizes[name]:6.2f} MB {seconds:6.1f} s "
              f"{statistics.median(loads[name]):6.0f} ms {statistics.median(filters[name]):6.0f} ms")


if __name__ == "__main__":
    main()
