"""Settlement prices, daily price limits and locked bars (RULES.md 10.1, 10.2, 10.6).

- Settlement of an instrument's contract for a trading day: the data's ``settle`` (the
  day's last value) when it has one; else the volume-weighted mean of the bars' typical
  price (high + low + close) / 3, rounded to the tick (half up); a day without volume:
  its last close. It is known after the day's last bar.
- Limits of a trading day: the data's ``limit_up`` / ``limit_down`` when it has them;
  else the previous trading day's settlement of the same contract times (1 + rate),
  rounded down to the tick, and times (1 - rate), rounded up. A contract's first day in
  the data has no estimated limits.
- A bar is locked up when its high equals its low at or above limit up (less the
  tolerance times the previous settlement for estimated limits), locked down likewise.

Written on arrays (a backtest computes every day at once) and used one day at a time by
live trading, with the same functions. Prices are integer price units.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from fractions import Fraction

import numpy as np

from twotier.money import written, written_ratio
from twotier.numeric import where

LOCKED_UP, LOCKED_DOWN, NOT_LOCKED = 1, -1, 0
NO_PRICE = -1  # an integer array's "no value" (prices are > 0)


def day_settlements(
    starts: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    tick: int,
    settle: np.ndarray | None = None,
) -> np.ndarray:
    """The settlement (price units) of each day of bars, the days' bars starting at the
    row numbers ``starts`` (sorted, the first 0). ``settle``: the data's settle column
    (NaN where blank), whose last value of a day wins."""
    ends = np.append(starts[1:], len(close)) - 1
    volume = np.asarray(volume, dtype=np.float64)
    # blank: no volume (a column without one as it is; a finite sum: all are finite)
    if not np.isfinite(np.add.reduce(volume)):
        volume = np.nan_to_num(volume)
    weighted = _triple(high, low, close)  # 3 x the typical price; exact
    weighted *= volume  # in place: one array of the bars' length, not four
    weight = np.add.reduceat(volume, starts)
    value = np.add.reduceat(weighted, starts)
    traded = np.flatnonzero(weight > 0)
    in_ticks = value[traded] / (3.0 * weight[traded] * tick)
    ticks = np.floor(in_ticks + 0.5)  # nearest tick, half up
    # A mean on a half tick (768.75 on a tick of 0.5) can come out of the floats a hair
    # below it and round down: those within the floats' error are decided exactly.
    for k in np.flatnonzero(np.abs(in_ticks - np.floor(in_ticks) - 0.5) < 1e-6):
        day = traded[k]
        rows = slice(starts[day], ends[day] + 1)
        triple = _triple(high[rows], low[rows], close[rows])
        ticks[k] = _half_up_ticks(triple, volume[rows], tick)
    out = close[ends].astype(np.int64)
    out[traded] = ticks.astype(np.int64) * tick
    if settle is not None:
        given = _last_given(starts, np.asarray(settle, dtype=np.float64))
        out = np.where(given >= 0, given, out)
    return out


def _triple(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """high + low + close as floats (in that order, as ``+`` adds them), in a new array."""
    triple = np.add(high, low, dtype=np.float64)  # each cast to a float, then added
    triple += close
    return triple


def _half_up_ticks(triple: np.ndarray, volume: np.ndarray, tick: int) -> int:
    """The volume-weighted mean of ``triple / 3`` in ticks, rounded half up, in exact
    rational arithmetic (prices are whole price units; volumes as the decimals written:
    0.1 is a tenth, not the binary float nearest it)."""
    volumes = [written(v) for v in volume.tolist()]
    value = sum((Fraction(int(t)) * v for t, v in zip(triple.tolist(), volumes, strict=True)))
    mean = value / (3 * sum(volumes) * tick)
    return math.floor(mean + Fraction(1, 2))


def _last_given(starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each day's last non-blank value (price units), NO_PRICE where all are blank."""
    rows = np.where(np.isnan(values), -1, np.arange(len(values)))
    last = np.maximum.reduceat(rows, starts)
    out = np.full(len(starts), NO_PRICE, dtype=np.int64)
    found = last >= 0
    out[found] = np.rint(values[last[found]]).astype(np.int64)
    return out


def estimated_limits(prev_settle, rate, tick: int):
    """Limit up and down from the previous settlement (price units, NO_PRICE for none)
    and the limit rate (NaN for none): up rounded down to the tick, down rounded up.
    Exact: the rate is taken as the decimal it was written as."""
    if isinstance(prev_settle, np.ndarray):
        up = np.full(len(prev_settle), NO_PRICE, dtype=np.int64)
        down = up.copy()
        known = (prev_settle > 0) & ~np.isnan(rate)
        for r in np.unique(rate[known]):
            rows = known & (rate == r)
            num, den = written_ratio(r)
            p = prev_settle[rows]
            up[rows] = (p * (den + num)) // (den * tick) * tick
            down[rows] = -((-p * (den - num)) // (den * tick)) * tick
        return up, down
    if prev_settle is None or prev_settle <= 0 or rate is None or rate != rate:
        return NO_PRICE, NO_PRICE
    num, den = written_ratio(rate)
    up = (prev_settle * (den + num)) // (den * tick) * tick
    down = -((-prev_settle * (den - num)) // (den * tick)) * tick
    return up, down


def locked(high, low, up, down, up_tolerance, down_tolerance):
    """LOCKED_UP, LOCKED_DOWN or NOT_LOCKED (one bar or arrays). ``up``/``down``: limits
    (NO_PRICE for none); the tolerances: price units below limit up (above limit down)
    still counted as at the limit (0 for limits from the data)."""
    one_price = high == low
    at_up = one_price & (up > 0) & (high >= up - up_tolerance)
    at_down = one_price & (down > 0) & (low <= down + down_tolerance)
    if isinstance(one_price, np.ndarray):
        out = np.zeros(len(one_price), dtype=np.int8)
        out[at_down] = LOCKED_DOWN
        out[at_up] = LOCKED_UP
        return out
    return LOCKED_UP if at_up else LOCKED_DOWN if at_down else NOT_LOCKED


def bar_limits(high, low, prev_settle, rate, tick: int, tolerance: float, data_up, data_down):
    """The limits in force on bars and whether each is locked (RULES.md 10.2, 10.6 items
    5, 8): a bar's limits from the data where it has them (NO_PRICE: none), else estimated
    from the previous settlement and the day's limit rate, with the tolerance (a share of
    the previous settlement) for estimated limits only. Returns (up, down, locked)."""
    est_up, est_down = estimated_limits(prev_settle, rate, tick)
    slack = tolerance * where(prev_settle > 0, prev_settle, 0)
    up = where(data_up > 0, data_up, est_up)
    down = where(data_down > 0, data_down, est_down)
    lock = locked(high, low, up, down, where(data_up > 0, 0, slack), where(data_down > 0, 0, slack))
    return up, down, lock


class SettlementHistory:
    """Settlements by contract and trading day, as they become known, for the margin of
    positions held from an earlier day (RULES.md 10.4: the previous trading day's
    settlement; without one, the contract's latest earlier settlement)."""

    def __init__(self):
        self._days: dict[str | None, list] = {}
        self._prices: dict[str | None, list[int]] = {}
        self._arrays: dict[str | None, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def of_days(cls, contracts: np.ndarray, days: np.ndarray, prices: np.ndarray):
        """The history of settlements known at once: ``days`` (datetime64[D], increasing),
        each day's contract and its price (those not above 0 are none). As ``add`` for each
        day would make it, in numpy: made one date at a time, it was about a tenth of a
        ten-year backtest's Tier-2."""
        history, known = cls(), prices > 0
        contracts, days = contracts[known], days[known]
        prices = prices[known].astype(np.int64)  # as int() would: all are above 0
        listed = contracts.tolist()
        distinct = dict.fromkeys(listed)
        for contract in distinct:
            if len(distinct) == 1:  # one contract throughout (or none known): every day
                mine = slice(None)
            else:
                mine = np.fromiter((c == contract for c in listed), bool, len(listed))
            history._days[contract] = days[mine].tolist()
            history._prices[contract] = prices[mine].tolist()
            history._arrays[contract] = (days[mine], np.concatenate([[NO_PRICE], prices[mine]]))
        return history

    def add(self, contract: str | None, day, price: int) -> None:
        self._arrays.pop(contract, None)
        days = self._days.setdefault(contract, [])
        prices = self._prices.setdefault(contract, [])
        if days and day <= days[-1]:
            if day == days[-1]:
                prices[-1] = price
                return
            raise ValueError(f"settlement of {contract} on {day} after {days[-1]}")
        days.append(day)
        prices.append(price)

    def before(self, contract: str | None, day) -> int | None:
        """The contract's latest settlement strictly before ``day``."""
        days = self._days.get(contract)
        if not days:
            return None
        at = bisect_left(days, day)
        return self._prices[contract][at - 1] if at else None

    def before_each(self, contract: str | None, days: np.ndarray) -> np.ndarray:
        """``before`` for each of ``days`` (datetime64[D]); NO_PRICE where none."""
        arrays = self._arrays.get(contract)
        if arrays is None:
            known = self._days.get(contract)
            if not known:
                return np.full(len(days), NO_PRICE, dtype=np.int64)
            arrays = (
                np.array(known, dtype="datetime64[D]"),
                np.array([NO_PRICE, *self._prices[contract]], dtype=np.int64),
            )
            self._arrays[contract] = arrays
        return arrays[1][arrays[0].searchsorted(days, side="left")]


def same_contract_settlement(prev_contract, prev_settle, contract):
    """The previous trading day's settlement where that day traded the same contract,
    else NO_PRICE (a contract's first day has no estimated limits)."""
    if isinstance(prev_settle, np.ndarray):
        return np.where(prev_contract == contract, prev_settle, NO_PRICE)
    return prev_settle if prev_contract == contract else NO_PRICE
