"""A headless Chromium for the report's tests and benchmarks: Debian's chromium driven by
chromedriver through selenium, installed with apt-get when it is missing and we are root.

``open_report`` loads a page and waits until it says every chart is drawn (the report's
script sets ``<body data-opened>`` when its first window is drawn, ``data-charted`` when
its first chart is and ``data-drawn`` when all are, in milliseconds since navigation
began)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW = (1400, 1000)


def installed() -> tuple[str, str] | None:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def install() -> str | None:
    """Install chromium and chromedriver; the problem, or None on success."""
    if os.geteuid() != 0:
        return "chromium/chromedriver are not installed and we are not root to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:  # the package lists may be missing or old
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return f"apt-get install chromium chromium-driver failed: {done.stderr[-500:]}"
    return None


def find_or_install() -> tuple[tuple[str, str] | None, str | None]:
    """(browser, driver) paths, or None and why not."""
    paths = installed()
    if paths is None:
        problem = install()
        paths = installed()
        if paths is None:
            return None, problem or "chromium/chromedriver not found after installing them"
    return paths, None


def start(paths: tuple[str, str], profile: Path, window: tuple[int, int] = WINDOW):
    """A new headless browser with its own profile folder, logging the console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (*CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)


MARKS = ("opened", "charted", "drawn")


def open_report(driver, path: Path, timeout: float = 90.0) -> dict:
    """Load a page and wait until every chart is drawn: ``{"opened": ms, "charted": ms,
    "drawn": ms, "wall": s}`` (None where the page never said so before the timeout)."""
    started = time.monotonic()
    driver.get(path.resolve().as_uri())
    while time.monotonic() - started < timeout:
        if driver.execute_script("return document.body && document.body.dataset.drawn"):
            break
        time.sleep(0.05)
    found = driver.execute_script(
        "const d = document.body.dataset; return [d.opened, d.charted, d.drawn]"
    )
    times = {k: None if v is None else int(v) for k, v in zip(MARKS, found, strict=True)}
    return times | {"wall": time.monotonic() - started}


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


def chart_states(driver) -> list:
    return driver.execute_script(CHART_STATES)


def severe_errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def resources_loaded(driver) -> int:
    """Files the page fetched (0 for a page that works offline)."""
    return driver.execute_script("return performance.getEntriesByType('resource').length")
