"""Shared fixtures: the real market data folder (absent in users' clones) and small
helpers for writing bar files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from twotier.market.bars import LoadedBars, read_bars

# The real files of ../shared/data/real and the instrument each one holds.
REAL_FILES = {
    "DCE.i.HOT.m5.csv": "DCE/i",
    "DCE.m.HOT.m5.csv": "DCE/m",
    "SHFE.cu2202.m1.csv": "SHFE/cu",
    "SHFE.cu.HOT.m1.csv.gz": "SHFE/cu",
}


def real_data_path() -> Path:
    """``$TWOTIER_REAL_DATA`` or ``<repo>/../shared/data/real``."""
    override = os.environ.get("TWOTIER_REAL_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data_location() -> Path:
    """Where the real market data would be (the folder may not exist)."""
    return real_data_path()


@pytest.fixture(scope="session")
def real_data_dir(real_data_location: Path) -> Path:
    """The folder of real market data; the test is skipped where it is absent."""
    path = real_data_location
    if not path.is_dir():
        pytest.skip(
            f"real market data folder not found at {path} (it is not part of the project; "
            "set TWOTIER_REAL_DATA to a folder holding the files)"
        )
    return path


@pytest.fixture(scope="session")
def real_file(real_data_dir: Path) -> Callable[[str], Path]:
    """``real_file(name)``: the path of one real file, or a skip if it is missing."""

    def find(name: str) -> Path:
        path = real_data_dir / name
        if not path.is_file():
            pytest.skip(f"real market data file {path} not found")
        return path

    return find


@pytest.fixture(scope="session")
def real_bars(real_file: Callable[[str], Path]) -> Callable[[str], LoadedBars]:
    """``real_bars(name)``: a real file loaded once per session (labelled by end, the one
    malformed copper bar dropped). Shared between tests: do not modify the frames."""
    cache: dict[str, LoadedBars] = {}

    def load(name: str) -> LoadedBars:
        if name not in cache:
            cache[name] = read_bars(
                real_file(name), REAL_FILES[name], label="end", on_bad_bar="drop"
            )
        return cache[name]

    return load


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(lines, name="bars.csv")``: a CSV file of these lines (the first is the
    header, so the n-th item is on line n of the file)."""

    def write(lines: list[str], name: str = "bars.csv") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


SUBPROCESS_FIXTURES = {"small_runs", "real_runs"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the real data carries the ``realdata`` marker, so that
    ``-m "not realdata"`` leaves them out. Tests that wait for subprocesses (started at
    the end of collection, see below) run last, when those are most likely done."""
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)
    waiting = [i for i in items if SUBPROCESS_FIXTURES & set(getattr(i, "fixturenames", ()))]
    if waiting:
        rest = [i for i in items if i not in waiting]
        items[:] = rest + waiting


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the subprocesses of a test module that offers ``start_subprocesses(real_dir,
    real)`` (test_cli_data.py) as soon as collection is done, so that they run while the
    other tests do. Only when one of its selected tests uses them."""
    started = set()
    for item in session.items:
        module = getattr(item, "module", None)
        start = getattr(module, "start_subprocesses", None)
        if start is None or module in started:
            continue
        users = [
            i
            for i in session.items
            if getattr(i, "module", None) is module
            and SUBPROCESS_FIXTURES & set(getattr(i, "fixturenames", ()))
        ]
        if users:
            real = any("real_runs" in i.fixturenames for i in users)
            start(real_data_path(), real)
        started.add(module)
