"""Plausibility of prices (issue 12, docs/data.md "Validation"): a bar whose prices lie
further than the instrument's ``plausible_move`` from the previous good bar is a bad bar,
and a file whose prices lie outside the instrument's ``price_range`` is warned about
(the prices of another instrument?), and so is a file whose prices are not on the
instrument's tick (is ``tick`` right?)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from twotier.market.instruments import InstrumentSpec
from twotier.money import PRICE_SCALE

_PRICES = ("open", "high", "low", "close")


def _moves(prices: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The largest relative distance of each bar's prices (a column of the rows open,
    high, low and close: the maximum of four long rows, not of many rows of four) from a
    reference price."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(prices / reference - 1).max(axis=0)


def implausible_moves(
    values: dict[str, np.ndarray],
    good: np.ndarray,
    lines: np.ndarray,
    unit: str,
    spec: InstrumentSpec,
) -> tuple[np.ndarray, Callable[[int], str]]:
    """Good rows (in time order) whose prices lie further than ``plausible_move`` from the
    previous good bar's close; the first row, from the median of the next three closes.
    A flagged bar is not the reference of the next one, so a one-bar spike flags one bar
    and a file that jumps to another price level flags every bar after the jump."""
    bound = spec.plausible_move
    rows = np.flatnonzero(good)
    none = np.zeros(len(good), dtype=bool)
    if bound is None or len(rows) < 2:
        return none, str
    picked = slice(None) if len(rows) == len(good) else rows  # every row: no index to pick
    prices = np.stack([values[k][picked] for k in _PRICES])
    close = prices[3]
    first_ref = float(np.median(close[1:4]))
    bad_first = _moves(prices[:, :1], np.array([first_ref]))[0] > bound
    start = 1
    moves = _moves(prices[:, 1:], close[:-1])
    if bad_first:
        start, moves = 2, _moves(prices[:, 2:], close[1:-1])
    flagged: dict[int, tuple[float, int]] = {}  # row -> (reference close, its row)
    if bad_first:
        flagged[int(rows[0])] = (first_ref, -1)
    suspects = np.flatnonzero(moves > bound)
    if len(suspects):
        last = start - 1 + int(suspects[0])  # the last good bar before the first suspect
        for k in range(last + 1, len(rows)):
            if _moves(prices[:, k : k + 1], np.array([close[last]]))[0] > bound:
                flagged[int(rows[k])] = (float(close[last]), int(rows[last]))
            else:
                last = k
    if not flagged:
        return none, str
    mask = np.zeros(len(good), dtype=bool)
    mask[list(flagged)] = True

    def message(i: int) -> str:
        ref, ref_row = flagged[i]
        bar = np.array([[values[k][i]] for k in _PRICES])  # one column
        furthest = bar[np.argmax(np.abs(bar[:, 0] / ref - 1)), 0]
        where = "the next bars' closes" if ref_row < 0 else f"{unit} {int(lines[ref_row])}"
        return (
            f"price {furthest:g} is "
            f"{_moves(bar, np.array([ref]))[0]:.0%} from the close {ref:g} ({where}): "
            f"more than the plausible move of {spec.key} ({bound:.0%}, plausible_move)"
        )

    return mask, message


def price_range_warning(frame: pd.DataFrame, spec: InstrumentSpec, source: str) -> list[str]:
    """A warning when the file's median close lies outside the instrument's plausible
    range: the prices of another instrument?"""
    if spec.price_range is None or frame.empty:
        return []
    low, high = spec.price_range
    median = float(np.median(frame["close"].to_numpy()))
    if low <= median <= high:
        return []
    return [
        f"{source}: the median close {median:g} is far outside the plausible prices of "
        f"{spec.key} ({low:g} to {high:g}, price_range): the prices of another instrument?"
    ]


def off_tick_warning(
    frame: pd.DataFrame,
    spec: InstrumentSpec,
    source: str,
    at: Callable[[int], str] | None = None,
) -> list[str]:
    """A warning when bars' prices are not multiples of the instrument's tick: fills are
    the bars' prices moved by whole ticks, so a wrong ``tick`` would go unseen (a file of
    another instrument, or a tick mistyped in an instrument file). ``at(row)`` names a
    row (its line in the file); by default, its time."""
    # A row per column: "any" of four long rows, not of many rows of four.
    off = np.stack([_off_tick(frame[c].to_numpy(np.float64), spec) for c in _PRICES])
    rows = np.flatnonzero(off.any(axis=0))
    if not len(rows):
        return []
    first = int(rows[0])
    column = _PRICES[int(off[:, first].argmax())]
    where = at(first) if at else f"the bar of {frame.index[first]}"
    return [
        f"{source}: {len(rows)} bar(s) with prices off the tick of {spec.tick:g} of "
        f"{spec.key} (first: {where}: {column} {_shown(frame[column].iat[first])}): is the "
        "instrument's tick right?"
    ]


def _shown(price: float) -> str:
    """A price with the decimals it has (prices carry at most 4): 3910.0001, not the
    3910 of ``:g``, which shows an off-tick price as if it were on the tick."""
    return f"{price:.4f}".rstrip("0").rstrip(".")


def _off_tick(prices: np.ndarray, spec: InstrumentSpec) -> np.ndarray:
    """Whether each price is not a whole number of ticks. In price units both are whole
    numbers below 2**53, so a multiple of the tick divides exactly (and faster than
    ``np.fmod``, which takes ten times as long)."""
    ticks = np.rint(prices * PRICE_SCALE) / spec.tick_units
    return ticks != np.rint(ticks)


__all__ = ["implausible_moves", "off_tick_warning", "price_range_warning"]
