"""The XSHG trading days (the Shanghai Stock Exchange's, whose public holidays the Chinese
futures exchanges share), as the pinned exchange-calendars computes them, shipped in
``twotier/resources/xshg.toml``: importing exchange-calendars and building its calendar
costs a command about 0.2 s, for the same days every time. The file records the version
it was written from; tests/test_calendar_xshg.py checks it against that version.

    python -m twotier.market.xshg   # write the file again after upgrading exchange-calendars
"""

from __future__ import annotations

import tomllib
import warnings
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path

import numpy as np

from twotier.sorted_sets import difference

START = "1995-01-03"
FILE = "xshg.toml"


def weekdays(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """Monday to Friday from ``first`` to ``last``, both included."""
    span = np.arange(first, np.datetime64(last, "D") + 1, dtype="datetime64[D]")
    return span[np.is_busday(span)]


@cache
def _shipped() -> dict:
    return tomllib.loads(resources.files("twotier.resources").joinpath(FILE).read_text())


@cache
def shipped_sessions() -> np.ndarray:
    """The trading days of the shipped file: every weekday from its first to its last day
    but the closed ones."""
    table = _shipped()
    closed = np.asarray(" ".join(table["closed_weekdays"]).split(), dtype="datetime64[D]")
    return difference(weekdays(table["first"], table["last"]), closed)


def computed_sessions() -> np.ndarray:
    """The trading days that exchange-calendars computes (slow: its import and build)."""
    import exchange_calendars as xc

    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses a pandas API that pandas 3.1 deprecates; not ours.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = xc.get_calendar("XSHG", start=START)
    return np.asarray(calendar.sessions.values.astype("datetime64[D]"))


def shipped_version() -> str:
    return _shipped()["exchange_calendars"]


def render(sessions: np.ndarray) -> str:
    if not np.is_busday(sessions).all():  # the file lists closed weekdays only
        raise ValueError("XSHG sessions on a weekend: the file's form cannot hold them")
    first, last = sessions[0], sessions[-1]
    closed = difference(weekdays(first, last), sessions)
    lines = [
        "# The XSHG trading days of exchange-calendars, written by `python -m",
        "# twotier.market.xshg` (twotier/market/xshg.py): every weekday from `first` to `last`",
        "# is a trading day but the closed ones, listed a year to a line. Do not edit: add",
        "# closures and days in calendar.toml or a calendar file of your own (docs/data.md).",
        "",
        f'exchange_calendars = "{version("exchange-calendars")}"',
        f"first = {first}",
        f"last = {last}",
        "closed_weekdays = [",
        *(f'  "{" ".join(map(str, days))}",' for days in _by_year(closed)),
        "]",
    ]
    return "\n".join(lines) + "\n"


def _by_year(days: np.ndarray) -> list[np.ndarray]:
    """Sorted days split into their years. (Days as words of a string a year, not TOML
    dates: a command reads the file in 0.3 ms instead of 9.)"""
    years = days.astype("datetime64[Y]")
    return np.split(days, np.flatnonzero(years[1:] != years[:-1]) + 1) if len(days) else []


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "resources" / FILE
    path.write_text(render(computed_sessions()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
