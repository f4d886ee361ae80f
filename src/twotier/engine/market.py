"""The market of a basket's bars in a backtest (RULES.md 10): each trading day's settlement,
each bar's limits and lock, its volume; computed once per run from the package columns,
with the functions of ``twotier.market.settlement`` that live trading calls one day at a
time.

A part whose columns are missing is off for that basket, and said once (10.6 item 4):
locks need high and low, and limit columns or a settlement (a ``settle`` column, or
volume); volume fills need volume; the settlement for margin needs ``settle``, or high,
low and volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twotier.config.model import MarketParams
from twotier.errors import DataError
from twotier.market.instruments import InstrumentSpec
from twotier.market.settlement import (
    NO_PRICE,
    SettlementHistory,
    bar_limits,
    day_settlements,
    same_contract_settlement,
)
from twotier.money import price_units


@dataclass
class BasketMarket:
    volume: np.ndarray | None  # None: fills do not look at volume
    locked: np.ndarray  # int8 per bar: +1 locked up, -1 locked down
    limit_up: np.ndarray  # limits from the data (NO_PRICE where none)
    limit_down: np.ndarray
    settlements: SettlementHistory
    notes: list[str]


def basket_market(
    packages: pd.DataFrame,
    spec: InstrumentSpec,
    day: np.ndarray,
    contract: list | None,
    close: np.ndarray,
    market: MarketParams,
    source: str,
) -> BasketMarket:
    """Settlements, limits, locks and volumes of one basket's bars (``close`` in price
    units, ``day`` the bars' trading days). A blank cell is no value for its bar."""
    n = len(close)
    notes: list[str] = []
    # High and low as whole floats: the settlement adds them as floats, and the locks
    # compare them (exact below 2**53); no integer copies of the bars' length.
    high, low = _price_floats(packages, "high"), _price_floats(packages, "low")
    settle, data_up, data_down = (
        _prices(packages, k) for k in ("settle", "limit_up", "limit_down")
    )
    volume = _column(packages, "volume")
    starts = day_starts(day) if n else np.array([0])
    day_contracts = _day_contracts(contract, day, starts, spec, source)
    has_range = high is not None and low is not None
    # A bar without its own high or low takes its close (for the settlement's typical
    # price; it is never one-price at a limit).
    hi, lo = _or_close(high, close), _or_close(low, close)
    day_settle = None
    if n and (has_range and volume is not None):
        settled = None if settle is None else np.where(settle > 0, settle, np.nan)
        day_settle = day_settlements(starts, hi, lo, close, volume, price_units(spec.tick), settled)
    elif n and settle is not None:
        day_settle = _last_per_day(starts, settle)
    settlements = SettlementHistory()
    if day_settle is not None:
        settlements = SettlementHistory.of_days(day_contracts, day[starts], day_settle)
    elif n and market.forced_liquidation:
        notes.append(
            f"{spec.key}: no settle column, nor high, low and volume: margin is taken on the "
            "latest close"
        )
    up, down = _or_none(data_up, n), _or_none(data_down, n)
    locked = np.zeros(n, dtype=np.int8)
    if market.price_limits and n:
        if not has_range or (day_settle is None and data_up is None and data_down is None):
            notes.append(
                f"{spec.key}: packages lack high and low, or limits and a settlement: price "
                "limits are off"
            )
        else:
            prev = _previous_settlements(day_contracts, day_settle)
            locked = _locks(high, low, starts, day, prev, spec, market.limit_tolerance, up, down)
    if market.volume_fills and volume is None and n:
        notes.append(f"{spec.key}: packages have no volume: volume fills are off")
    fills_volume = volume if market.volume_fills else None  # NaN: no value, no refusal nor cap
    if not market.price_limits:
        up = down = _no_prices(n)
    return BasketMarket(fills_volume, locked, up, down, settlements, notes)


def _column(packages: pd.DataFrame, name: str) -> np.ndarray | None:
    """A numeric column (NaN where blank), or None where it is missing or blank
    everywhere (RULES.md 10.6 item 4)."""
    return _column_and_blank(packages, name)[0]


def _column_and_blank(packages: pd.DataFrame, name: str) -> tuple[np.ndarray | None, bool]:
    """``_column``, and whether it has a blank."""
    if name not in packages.columns:
        return None, False
    column = packages[name]
    if column.dtype == np.float64:  # as Tier-1 gives them: nothing to convert
        values = column.to_numpy()
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    if len(values) and not _has_blank(values):  # the usual column, without a mask
        return values, False
    return (None if np.isnan(values).all() else values), True


def _has_blank(values: np.ndarray) -> bool:
    """Whether a float array has a NaN: its minimum is NaN then (a reduction, no mask)."""
    return bool(np.isnan(values.min()))


def _prices(packages: pd.DataFrame, name: str) -> np.ndarray | None:
    """A price column in price units, NO_PRICE where blank (None: missing)."""
    units = _price_floats(packages, name)
    return None if units is None else units.astype(np.int64)


def _price_floats(packages: pd.DataFrame, name: str) -> np.ndarray | None:
    """``_prices`` as floats (whole numbers, the same values)."""
    values, blank = _column_and_blank(packages, name)
    if values is None:
        return None
    units = values * 10_000
    np.rint(units, out=units)
    if blank:
        units[np.isnan(units)] = NO_PRICE
    return units


def _day_contracts(contract, day, starts, spec: InstrumentSpec, source: str) -> np.ndarray:
    """Each trading day's contract (None where unknown; the days start at the bars
    ``starts``), checked constant within a trading day (RULES.md 10.6 item 17)."""
    if contract is None:  # one unknown contract throughout: nothing to check
        return np.full(len(starts), None, dtype=object)
    contracts = np.array(contract, dtype=object)
    n = len(contracts)
    if n > 1:
        changes = (contracts[1:] != contracts[:-1]) & (day[1:] == day[:-1])
        if changes.any():
            at = int(np.flatnonzero(changes)[0])
            raise DataError(
                source,
                f"{spec.key}: the contract changes inside trading day {day[at + 1]} "
                f"({contracts[at]} -> {contracts[at + 1]}); rolls happen between trading days",
            )
    return contracts[starts] if n else contracts


def day_starts(day: np.ndarray) -> np.ndarray:
    """The first bar of each trading day (``day``: the bars' days, datetime64[D], not
    empty), compared as integers: numpy compares datetimes several times slower."""
    days = day.view(np.int64)
    changes = np.flatnonzero(days[1:] != days[:-1])  # the bar before each new day
    changes += 1
    return np.concatenate([[0], changes])


def _or_close(prices: np.ndarray | None, close: np.ndarray) -> np.ndarray:
    """Each bar's price, or its close where it has none (a column without a blank is
    taken as it is)."""
    if prices is None:
        return close
    given = prices > 0
    return prices if given.all() else np.where(given, prices, close)


def _or_none(values, n: int) -> np.ndarray:
    """The data's limits, or NO_PRICE throughout: one value seen at every bar (read-only,
    no memory a bar)."""
    return _no_prices(n) if values is None else values


def _no_prices(n: int) -> np.ndarray:
    return np.broadcast_to(np.int64(NO_PRICE), (n,))


def _last_per_day(starts, values) -> np.ndarray:
    rows = np.where(values > 0, np.arange(len(values)), -1)
    last = np.maximum.reduceat(rows, starts)
    out = np.full(len(starts), NO_PRICE, dtype=np.int64)
    out[last >= 0] = values[last[last >= 0]]
    return out


def _previous_settlements(day_contracts, day_settle) -> np.ndarray:
    """Each trading day's previous trading day's settlement where that day traded the
    same contract (NO_PRICE otherwise, and without settlements)."""
    prev = np.full(len(day_contracts), NO_PRICE, dtype=np.int64)
    if day_settle is not None:
        prev[1:] = same_contract_settlement(day_contracts[:-1], day_settle[:-1], day_contracts[1:])
    return prev


def _locks(high, low, starts, day, prev, spec: InstrumentSpec, tolerance, up, down) -> np.ndarray:
    """Each bar's lock (``bar_limits``; ``prev`` each trading day's previous settlement).
    Only a one-price bar (high equal to low, neither blank) can be locked, so the limits
    are worked out for those few bars alone, not for every bar (``high`` and ``low`` in
    price units, integers or whole floats)."""
    locked = np.zeros(len(high), dtype=np.int8)
    bars = np.flatnonzero((high == low) & (high > 0))
    bar_prev = prev[np.searchsorted(starts, bars, side="right") - 1]
    rate = spec.terms.rates("limit_rate", day[bars])
    tick = price_units(spec.tick)
    bar_high, bar_low = high[bars].astype(np.int64), low[bars].astype(np.int64)
    _, _, locked[bars] = bar_limits(
        bar_high, bar_low, bar_prev, rate, tick, tolerance, up[bars], down[bars]
    )
    return locked
