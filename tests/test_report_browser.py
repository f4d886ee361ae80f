"""The reports in a real headless browser (Debian's chromium driven by chromedriver through
selenium): they load with no console error and no network request, every chart draws,
and a screenshot of each page is saved under the test's tmp folder.

Chromium is installed with apt-get when it is missing and we are root; the tests skip,
saying why, only when that is impossible."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from test_report_run import shared_run
from twotier.report.compare import write_compare

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,7000",  # tall enough for the whole report: one layout, one shot
)


def _installed() -> tuple[str, str] | None:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def _install() -> str | None:
    """Install chromium and chromedriver; the problem, or None on success."""
    if os.geteuid() != 0:
        return "chromium/chromedriver are not installed and we are not root to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:  # the package lists may be missing or old
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return f"apt-get install chromium chromium-driver failed: {done.stderr[-500:]}"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    paths = _installed()
    if paths is None:
        problem = _install()
        paths = _installed()
        if paths is None:
            pytest.skip(problem or "chromium/chromedriver not found after installing them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    yield driver
    driver.quit()


# Each chart div: its id, whether plotly drew its svg, how many of its traces have a drawn
# path or image (plotly.js puts traces in .overplot, heatmaps in an image), its height.
CHART_STATES = """
return Array.from(document.querySelectorAll('div.chart')).map(div => {
  const svg = div.querySelector('svg.main-svg');
  const marks = svg ? svg.querySelectorAll('.trace path, .trace image, .hm image') : [];
  const drawn = Array.from(marks).filter(e =>
    (e.getAttribute('d') || e.getAttribute('href') || e.getAttribute('xlink:href') || '')
      .length > 10).length;
  return [div.id, !!svg, drawn, svg ? svg.getBoundingClientRect().height : 0];
});
"""


def _open(driver, path: Path, charts: int, timeout: float = 30.0) -> list:
    driver.get(path.resolve().as_uri())
    deadline = time.monotonic() + timeout
    while True:
        states = driver.execute_script(CHART_STATES)
        drawn = [s for s in states if s[1] and s[2] > 0]
        if (len(states) == charts and len(drawn) == charts) or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


def _assert_clean_page(driver, states: list, charts: int) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    assert len(states) == charts
    for chart_id, has_svg, drawn, height in states:
        assert has_svg and drawn > 0 and height > 100, (chart_id, has_svg, drawn, height)
    loaded = driver.execute_script("return performance.getEntriesByType('resource').length")
    assert loaded == 0  # nothing fetched: the page works offline


@pytest.fixture(scope="module")
def report_page(browser):
    """The shared run's report open in the browser: (chart count, chart states)."""
    report = shared_run().folder / "report.html"
    charts = report.read_text(encoding="utf-8").count('class="chart"')
    return charts, _open(browser, report, charts)


def test_run_report_draws_every_chart_without_errors(browser, report_page):
    charts, states = report_page
    assert charts >= 9
    _assert_clean_page(browser, states, charts)


def test_run_report_screenshot_is_taken(browser, report_page, tmp_path):
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")


def test_trade_filter_hides_rows_without_the_text(browser, report_page):
    shown = (
        "return [...document.querySelectorAll('#table-trades tbody tr')]"
        ".filter(r => r.style.display !== 'none').length"
    )
    total = browser.execute_script(shown)
    browser.find_element("id", "trade-filter").send_keys("SHFE/cu")
    trades = shared_run().result.trades
    copper = int((trades["instrument"] == "SHFE/cu").sum())
    assert 0 < browser.execute_script(shown) == copper < total


def test_compare_page_draws_its_chart_without_errors(browser, tmp_path):
    run = shared_run().result
    metrics = {"first": run.metrics, "second": run.metrics}
    page = write_compare({"first": run, "second": run}, metrics, tmp_path / "compare.html")
    _assert_clean_page(browser, _open(browser, page, 1), 1)
    browser.save_screenshot(str(tmp_path / "compare.png"))
