"""Benchmark: the ten-year report, how large it is and how fast it opens in a browser.

    .venv/bin/python bench/bench_report.py [--years 10] [--repeat 3] [--out DIR]

Makes ten years of sample bars (as bench_backtest.py does), runs the backtest, writes the
run folder and times writing its report (metrics.json, daily returns, report.html). Then
prints the report's size and what it is made of, and opens it in headless Chromium
``--repeat`` times, each time in a new browser with an empty profile (after one
about:blank, so that starting the browser is not counted): *opened* is when the charts
in the first window (1400 x 1000) are drawn and the page can be used, *drawn* when every
chart is (the others are drawn in the background, or at once when scrolled to), both in
milliseconds since the navigation began; and when its first chart is drawn (plotly.js
compiled and run). Targets: opened under 3 s, under 15 MB.

Needs chromium and chromedriver (tests/helpers/browser.py installs them when root).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import browser
from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.sample import SAMPLE_INSTRUMENTS, SAMPLE_SEED, generate_sample
from twotier.report.page import plotly_js
from twotier.report.run_report import write_analysis
from twotier.run.writer import write_run

TARGET_OPENED_MS, TARGET_MB = 3000, 15.0


def make_report(years: int, out: Path) -> Path:
    end_year = 2025
    start = f"{end_year - years + 1}-01-01"
    bars = {
        k: generate_sample(k, start, f"{end_year}-12-31", SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }
    result = run_backtest(bars, load_config())
    folder = write_run(result, out / "run")
    started = time.perf_counter()
    write_analysis(result, folder)
    print(
        f"{years} years: {result.summary['steps']:,} steps, {result.summary['trades']:,} trades; "
        f"writing metrics, daily returns and report: {time.perf_counter() - started:.2f} s"
    )
    return folder / "report.html"


def print_size(report: Path) -> float:
    html = report.read_text(encoding="utf-8")
    total = len(html.encode())
    columns = sum(
        len(part.split("</script>")[0])
        for part in html.split('<script type="application/octet-stream"')[1:]
    )
    library = len(plotly_js().encode())
    table = html.split('<table id="table-trades"')[1].split("</table>")[0]
    mb = total / 1e6
    print(
        f"report.html: {mb:.2f} MB (target < {TARGET_MB:g}): plotly.js {library / 1e6:.2f}, "
        f"signal views' bars {columns / 1e6:.2f}, trades table {len(table) / 1e6:.2f}, "
        f"the rest {(total - library - columns - len(table)) / 1e6:.2f}"
    )
    return mb


def time_opening(report: Path, repeat: int) -> None:
    paths, problem = browser.find_or_install()
    if paths is None:
        print(f"not opened in a browser: {problem}")
        return
    found: dict[str, list[int]] = {mark: [] for mark in browser.MARKS}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as profile:
            driver = browser.start(paths, Path(profile))
            try:
                driver.get("about:blank")
                times = browser.open_report(driver, report)
                errors = browser.severe_errors(driver)
            finally:
                driver.quit()
        if errors:
            print(f"console errors: {errors}")
        for mark in browser.MARKS:
            found[mark].append(times[mark])
        print(
            f"  opened {times['opened']:,} ms, first chart {times['charted']:,} ms, "
            f"every chart {times['drawn']:,} ms"
        )
    if repeat:
        best = {m: f"{min(v):,} ms" for m, v in found.items()}
        median = {m: f"{statistics.median(v):,.0f} ms" for m, v in found.items()}
        target = f"target < {TARGET_OPENED_MS:,} ms"
        print(f"opened ({target}): best {best['opened']}, median {median['opened']}")
        print(f"first chart drawn: best {best['charted']}, median {median['charted']}")
        print(f"every chart drawn: best {best['drawn']}, median {median['drawn']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", metavar="DIR", help="keep the run folder here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.out) if args.out else Path(scratch)
        report = make_report(args.years, out)
        print_size(report)
        time_opening(report, args.repeat)


if __name__ == "__main__":
    main()
