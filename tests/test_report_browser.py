"""The reports in a real headless browser (Debian's chromium driven by chromedriver through
selenium, tests/helpers/browser.py): the demo's report and a report on the real files
load with no console error and no network request, every chart draws, a click on a trade
zooms its signal view to it, the trades table sorts, filters and shows every column at
1400 px; the compare page and the optimize report draw too.

A screenshot of each section of each report is written for a person to look at, into
``$TWOTIER_SCREENSHOTS`` or else a folder under pytest's temporary directory (the test
prints where). Chromium is installed with apt-get when it is missing and we are root;
the tests skip, saying why, only when that is impossible."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers import browser as chromium
from test_report_run import shared_run
from twotier.cli.main import app
from twotier.report.compare import write_compare

DEMO_END = "2024-06-30"  # a year and a half of the sample: the demo command, shorter


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    paths, problem = chromium.find_or_install()
    if paths is None:
        pytest.skip(problem)
    driver = chromium.start(paths, tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    where = os.environ.get("TWOTIER_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("report-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the reports' sections: {folder}")
    return folder


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    """``twotier demo`` (on a shorter period)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = CliRunner().invoke(app, ["demo", "--end", DEMO_END, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out / "report.html"


@pytest.fixture(scope="module")
def real_report(real_bars, tmp_path_factory) -> Path:
    """The real iron ore file (rolled at its three rolls) and soybean meal file, one basket
    each, through the CLI's own path: backtest, run folder, report."""
    from test_rolls_engine_realdata import ROLLS
    from twotier.config import load_config
    from twotier.engine.backtest import run_backtest
    from twotier.market.resample import resample
    from twotier.report.run_report import write_analysis
    from twotier.run.writer import write_run

    bars = {}
    for name, key in (("DCE.i.HOT.m5.csv", "DCE/i"), ("DCE.m.HOT.m5.csv", "DCE/m")):
        loaded = real_bars(name)
        bars[key] = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    baskets = (
        '[{instrument="DCE/i", capital_fraction=0.45}, {instrument="DCE/m", capital_fraction=0.45}]'
    )
    config = load_config(overrides=[f"portfolio.baskets={baskets}"])
    result = run_backtest(bars, config, rolls={"DCE/i": ROLLS})
    folder = write_run(result, tmp_path_factory.mktemp("real") / "run")
    write_analysis(result, folder)
    return folder / "report.html"


@dataclass
class OpenReport:
    path: Path
    name: str
    times: dict  # opened and drawn (ms), console errors


@pytest.fixture(scope="module", params=["demo", "real"])
def report(request, driver) -> OpenReport:
    """Each report opened once; its tests then run on the page as it is."""
    path = request.getfixturevalue(f"{request.param}_report")
    driver.set_window_size(*chromium.WINDOW)
    chromium.severe_errors(driver)  # clear the log of earlier pages
    times = chromium.open_report(driver, path)
    return OpenReport(path, request.param, times | {"errors": chromium.severe_errors(driver)})


def _assert_every_chart_drawn(driver, charts: int) -> None:
    states = chromium.chart_states(driver)
    assert len(states) == charts
    for chart_id, has_svg, drawn, height in states:
        assert has_svg and drawn > 0 and height > 100, (chart_id, has_svg, drawn, height)


def test_report_draws_every_chart_with_no_error_and_nothing_fetched(driver, report):
    assert report.times["drawn"] is not None, "the page never finished drawing"
    assert report.times["errors"] == []
    html = report.path.read_text(encoding="utf-8")
    charts = html.count('class="chart"')
    views = html.count('type="application/octet-stream"')
    assert views >= 2 and charts == 12 + views  # portfolio, tear sheet, exits; the views
    _assert_every_chart_drawn(driver, charts)
    assert chromium.resources_loaded(driver) == 0  # nothing fetched: works offline


def _view_state(driver, view: str) -> tuple[int, float, float]:
    bucket, low, high = driver.execute_script(
        "const d = document.getElementById(arguments[0]).dataset;return [d.bucket, d.from, d.to];",
        view,
    )
    return int(bucket), float(low), float(high)


def test_a_click_on_a_trade_zooms_its_signal_view_to_15_minute_bars(driver, report):
    rows = driver.find_elements("css selector", "#table-trades tbody tr[data-view]")
    row = rows[len(rows) // 2]
    view, first, last = (row.get_attribute(f"data-{k}") for k in ("view", "from", "to"))
    assert _view_state(driver, view)[0] > 1  # the whole run: candles of several bars
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()
    deadline = time.monotonic() + 10
    while _view_state(driver, view)[0] != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    bucket, low, high = _view_state(driver, view)
    assert bucket == 1  # one candle per 15-minute bar
    assert low < int(first) <= int(last) < high
    assert high - low < 400  # a trade, not the run
    assert "picked" in row.get_attribute("class")


def _column(driver, index: int) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#table-trades tbody tr')]"
        ".filter(r => r.style.display !== 'none')"
        ".map(r => r.cells[arguments[0]].textContent)",
        index,
    )


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_trades_table_sorts_by_a_column_both_ways(driver, report):
    headers = driver.find_elements("css selector", "#table-trades thead th")
    names = [h.text for h in headers]
    pnl = names.index("net P&L")
    headers[pnl].click()
    values = [_money(v) for v in _column(driver, pnl)]
    assert values == sorted(values) and values[0] < values[-1]
    headers[pnl].click()
    assert [_money(v) for v in _column(driver, pnl)] == sorted(values, reverse=True)
    headers[names.index("entry")].click()
    entries = _column(driver, names.index("entry"))
    assert entries == sorted(entries)


def test_the_trades_table_filters_by_basket_side_and_reason(driver, report):
    from selenium.webdriver.support.ui import Select

    trades = pd.read_csv(report.path.parent / "trades.csv")
    shown = "return [...document.querySelectorAll('#table-trades tbody tr')].filter(r => r.style.display !== 'none').length"  # noqa: E501
    assert driver.execute_script(shown) == len(trades)
    choose = {
        name: Select(driver.find_element("css selector", f'select[data-filter="{name}"]'))
        for name in ("basket", "side", "reason")
    }
    basket, side = trades.groupby(["basket", "side"]).size().idxmax()
    choose["basket"].select_by_value(str(basket))
    choose["side"].select_by_value(side)
    expected = trades[(trades["basket"] == basket) & (trades["side"] == side)]
    assert driver.execute_script(shown) == len(expected) > 0
    reason = expected["reason"].value_counts().index[0]
    choose["reason"].select_by_value(reason)
    assert driver.execute_script(shown) == int((expected["reason"] == reason).sum())
    for select in choose.values():
        select.select_by_value("")
    assert driver.execute_script(shown) == len(trades)
    search = driver.find_element("id", "trade-filter")
    search.send_keys("DCE/m")
    assert driver.execute_script(shown) == int((trades["instrument"] == "DCE/m").sum()) > 0
    driver.execute_script(
        "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'))", search
    )
    assert driver.execute_script(shown) == len(trades)


def test_every_trades_column_shows_without_scrolling_sideways_at_1400_px(driver, report):
    driver.execute_script("document.getElementById('trades').scrollIntoView()")
    width, visible = driver.execute_script(
        "const s = document.querySelector('#trades .scroll'); return [s.scrollWidth, s.clientWidth]"
    )
    assert width <= visible
    headers = [h.text for h in driver.find_elements("css selector", "#table-trades thead th")]
    for column in ("return", "net P&L", "reason", "MAE", "MFE"):
        assert column in headers


def test_a_screenshot_of_each_section_is_written(driver, report, screenshots):
    sections = driver.execute_script(
        "return [...document.querySelectorAll('section')].map(s => s.id)"
    )
    assert {"summary", "portfolio", "signals", "tearsheet", "trades"} <= set(sections)
    for section in sections:
        element = driver.find_element("id", section)
        height = driver.execute_script("return arguments[0].scrollHeight", element)
        driver.set_window_size(chromium.WINDOW[0], max(chromium.WINDOW[1], height + 200))
        driver.execute_script("arguments[0].scrollIntoView()", element)
        shot = screenshots / f"{report.name}-{section}.png"
        element.screenshot(str(shot))
        assert shot.stat().st_size > 10_000, shot
    driver.set_window_size(*chromium.WINDOW)


def test_compare_page_draws_its_chart_without_errors(driver, tmp_path, screenshots):
    run = shared_run().result
    metrics = {"first": run.metrics, "second": run.metrics}
    page = write_compare({"first": run, "second": run}, metrics, tmp_path / "compare.html")
    chromium.severe_errors(driver)
    times = chromium.open_report(driver, page)
    assert chromium.severe_errors(driver) == [] and times["drawn"] is not None
    _assert_every_chart_drawn(driver, 1)
    assert chromium.resources_loaded(driver) == 0
    driver.save_screenshot(str(screenshots / "compare.png"))


def test_dates_in_the_signal_view_are_exchange_time_in_every_time_zone(driver, report):
    """The view's tick labels come from wall-clock minutes read as UTC: the first bar of
    the run is labelled with its exchange date whatever the browser's zone."""
    first = driver.execute_script(
        "const v = SIGNAL_VIEW_OBJECTS['signal-0']; return dayText(v.columns.time[0]);"
    )
    equity = pd.read_csv(report.path.parent / "equity.csv", nrows=1)
    assert first == str(dt.date.fromisoformat(equity["time"][0][:10]))


def test_the_sweep_report_draws_every_chart_without_errors(driver, tmp_path, screenshots):
    from test_optimize_report import walked_sweep
    from twotier.optimize.outputs import write_outputs

    page = write_outputs(walked_sweep(), tmp_path / "sweep")["report"]
    chromium.severe_errors(driver)
    times = chromium.open_report(driver, page)
    assert chromium.severe_errors(driver) == [] and times["drawn"] is not None
    _assert_every_chart_drawn(driver, 4)
    assert chromium.resources_loaded(driver) == 0
    driver.set_window_size(chromium.WINDOW[0], 3000)
    driver.save_screenshot(str(screenshots / "sweep.png"))
    driver.set_window_size(*chromium.WINDOW)
