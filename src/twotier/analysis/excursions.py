"""How far each position went against and for it while it was open, and how long it was
held (docs/metrics.md, "Tear sheet"): maximum adverse and favourable excursion (MAE,
MFE) and the bars held.

Excursions are price moves from the entry fill, signed by the side, on bar closes (the
closes the exit tree reads, RULES.md 4.6) from the entry's fill bar to the bar the exit
was decided on, and at the exit's fill price. Across a roll prices are carried to the
latest contract's scale (``twotier.analysis.rolled``), so a roll's jump is no excursion.
MAE <= 0 <= MFE, and the position's return lies between them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from twotier.analysis.benchmarks import in_run
from twotier.analysis.groups import (
    NAT,
    any_of_each,
    by_position_then_time,
    first_of_each,
    last_of_each,
)
from twotier.analysis.rolled import scale_factors
from twotier.analysis.trades import OPEN

MINUTES_PER_BAR = 15
COLUMNS = (
    "trade_id",
    "basket",
    "instrument",
    "side",
    "open",
    "entry_bar",
    "exit_bar",
    "bars_held",
    "hours_held",
    "mae",
    "mfe",
    "return",
    "net_pnl",
)


def _times(values) -> np.ndarray:
    """Nanoseconds of zone-aware times (NaT as the smallest integer)."""
    return pd.DatetimeIndex(pd.Series(values)).as_unit("ns").asi8


def _position_rows(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per position: the first row's entry, the last row's exit and contract,
    the rows' net P&L added up; open if any row is still open. Rows are taken in the
    order of their exit (a missing one last), and first and last skip missing values,
    as a groupby's first() and last() do."""
    ids, group = np.unique(trades["trade_id"].to_numpy(), return_inverse=True)
    order = by_position_then_time(group, _times(trades["exit_time"]))
    ordered_group = group[order]

    def pick(column: str, find) -> pd.Series:  # one take of the column's array
        values = trades[column].array  # a Series' take costs ten times more
        rows = find(ordered_group, ~pd.isna(values)[order], len(ids))
        picked = pd.Series(values.take(order[np.maximum(rows, 0)]), copy=False)
        return picked.where(rows >= 0) if (rows < 0).any() else picked

    out = {"trade_id": ids}
    for column in ("basket", "instrument", "side", "entry_time", "entry_price"):
        out[column] = pick(column, first_of_each)
    for column, find in (("entry_contract", first_of_each), ("contract", last_of_each)):
        out[column] = pick(column, find).astype("string").fillna("") if column in trades else ""
    for column in ("exit_time", "exit_price", "exit_decided_at"):
        out[column] = pick(column, last_of_each) if column in trades else pd.NaT
    out["open"] = any_of_each(group, (trades["reason"] == OPEN).to_numpy(dtype=bool), len(ids))
    net = pd.Series(trades["net_pnl"].to_numpy()[order])
    out["net_pnl"] = net.groupby(ordered_group).sum().round(2).to_numpy()  # see money_total
    return pd.DataFrame(out)


def _position_arrays(positions: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns of the position rows that ``_instrument`` reads, as arrays made once
    for every instrument (times as nanoseconds, NaT as ``groups.NAT``): an instrument's
    rows are then picked from the arrays, not taken from the table column by column."""
    return {
        "trade_id": positions["trade_id"].astype(int).to_numpy(),
        "basket": positions["basket"].to_numpy(),
        "instrument": positions["instrument"].to_numpy(),
        "side": positions["side"].to_numpy(),
        "open": positions["open"].to_numpy(),
        "entry_ns": _times(positions["entry_time"]),
        "exit_ns": _times(positions["exit_time"]),
        "decided_ns": _times(positions["exit_decided_at"]),
        "entry_price": np.asarray(positions["entry_price"], dtype=float),
        "exit_price": np.asarray(positions["exit_price"].fillna(0), dtype=float),
        "entry_contract": np.array(positions["entry_contract"].tolist(), dtype=object),
        "contract": np.array(positions["contract"].tolist(), dtype=object),
        "net_pnl": positions["net_pnl"].astype(float).to_numpy(),
    }


def _instrument(positions: dict[str, np.ndarray], bars: pd.DataFrame) -> dict[str, np.ndarray]:
    """The excursions of one instrument's positions (their ``_position_arrays``) over its
    bars of the run, as the arrays of the table's ``COLUMNS``."""
    times = pd.DatetimeIndex(bars["time"]).as_unit("ns").asi8
    factors = scale_factors(bars)
    closes = bars["close"].to_numpy(dtype=float) * factors
    if "contract" in bars.columns:
        factor_of = dict(zip(bars["contract"].astype(str), factors, strict=True))
    else:
        factor_of = {}

    def bar_of(ns: np.ndarray) -> np.ndarray:  # the bar starting at a time, else the one before
        return np.searchsorted(times, ns, side="right") - 1

    def scaled(prices: np.ndarray, contracts: np.ndarray) -> np.ndarray:
        factor = [factor_of.get(c, 1.0) for c in contracts.tolist()]
        return prices * np.asarray(factor, dtype=float)

    last = len(times) - 1
    still = positions["open"] | (positions["exit_ns"] == NAT)
    entry = bar_of(positions["entry_ns"])
    exit_bar = np.where(still, last, bar_of(positions["exit_ns"]))
    decided_ns = positions["decided_ns"]
    decided = np.where(decided_ns == NAT, exit_bar, bar_of(decided_ns))
    decided = np.where(still, last, decided)
    basis = scaled(positions["entry_price"], positions["entry_contract"])
    exit_price = np.where(
        still, closes[last], scaled(positions["exit_price"], positions["contract"])
    )
    side = np.where(positions["side"] == "LONG", 1.0, -1.0)
    mae, mfe, ret = _moves(closes, entry, decided, exit_price, basis, side)
    held = exit_bar - entry
    return {
        "trade_id": positions["trade_id"],
        "basket": pd.Series(positions["basket"]).astype(int).to_numpy(),
        "instrument": positions["instrument"],
        "side": positions["side"],
        "open": still,
        "entry_bar": entry,
        "exit_bar": exit_bar,
        "bars_held": held,
        "hours_held": held * MINUTES_PER_BAR / 60,
        "mae": mae,
        "mfe": mfe,
        "return": ret,
        "net_pnl": positions["net_pnl"],
    }


def _table(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The parts' rows as one table in the order of their trade ids (stable), made once
    of the joined arrays. Each column's type is then the one pandas gives each part's
    and keeps when it joins them, except where a part's text column has no text at
    all: those parts are made tables and joined as pandas joins them."""
    if any(pd.isna(part[c]).all() for part in parts for c in ("instrument", "side")):
        frame = pd.concat([pd.DataFrame(part) for part in parts], ignore_index=True)
        return frame.sort_values("trade_id", kind="stable").reset_index(drop=True)
    joined = {c: np.concatenate([part[c] for part in parts]) for c in COLUMNS}
    order = np.argsort(joined["trade_id"], kind="stable")
    return pd.DataFrame({c: values[order] for c, values in joined.items()})


def _moves(closes, entry, decided, exit_price, basis, side) -> tuple[np.ndarray, ...]:
    """MAE, MFE and return of each position k: the moves side * (price / basis - 1) of
    its path, the closes ``closes[entry[k] : decided[k] + 1]`` (a Python slice) then its
    exit price. All paths are laid end to end and reduced in one pass each."""
    n = len(closes)
    start, stop = _slice_bounds(np.asarray(entry), np.asarray(decided) + 1, n)
    bars = np.maximum(stop - start, 0)
    length = bars + 1  # the exit price ends every path
    first = np.cumsum(length) - length
    step = np.arange(length.sum()) - np.repeat(first, length)
    where = np.repeat(start, length) + step
    last = first + bars
    where[last] = n + np.arange(len(length))  # the exit prices, after the closes
    prices = np.concatenate([closes, exit_price])[where]
    moves = np.repeat(side, length) * (prices / np.repeat(basis, length) - 1.0)
    low, high = np.minimum.reduceat(moves, first), np.maximum.reduceat(moves, first)
    # min(0, x) and max(0, x) as Python takes them: 0 unless x is below (above) it
    return np.where(low < 0.0, low, 0.0), np.where(high > 0.0, high, 0.0), moves[last]


def _slice_bounds(start: np.ndarray, stop: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Where ``values[start:stop]`` begins and ends for each pair, on n values (Python's
    slices: negative bounds count from the end, every bound is clipped to 0..n)."""

    def bound(i: np.ndarray) -> np.ndarray:
        return np.where(i < 0, np.maximum(i + n, 0), np.minimum(i, n)).astype(np.int64)

    return bound(start), bound(stop)


def excursions(
    trades: pd.DataFrame,
    packages: dict[str, pd.DataFrame],
    equity: pd.DataFrame,
    bars: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per position (open ones marked ``open``) whose instrument has packages:
    bars held (of its instrument, entry fill to exit fill), MAE, MFE and return (price
    moves from the entry fill), net P&L. ``bars``: the packages of the run
    (``in_run``) per instrument, where already made."""
    parts = []
    if not trades.empty:
        positions = _position_arrays(_position_rows(trades))
        instrument_of = positions["instrument"]
        # the instruments as a sorted groupby gives them: in order, none missing
        for instrument in sorted({k for k in instrument_of.tolist() if not pd.isna(k)}):
            found = packages.get(instrument)
            if bars is not None and instrument in bars:
                ran = bars[instrument]
            else:
                ran = None if found is None else in_run(found, equity)
            if ran is not None and not ran.empty:
                mine = instrument_of == instrument
                parts.append(_instrument({k: v[mine] for k, v in positions.items()}, ran))
    if not parts:
        empty = {c: pd.Series(dtype=float) for c in COLUMNS}
        return pd.DataFrame(empty | {"open": pd.Series(dtype=bool)})
    return _table(parts)


def holding_summary(table: pd.DataFrame) -> dict:
    """Median and mean hours held, median MAE and MFE, of the closed positions; of
    winners and losers apart too."""
    done = table[~table["open"]]

    def median(values: pd.Series) -> float | None:
        return float(values.median()) if len(values) else None

    won, lost = done[done["net_pnl"] > 0], done[done["net_pnl"] < 0]
    return {
        "positions": len(done),
        "median_hours_held": median(done["hours_held"]),
        "mean_hours_held": float(done["hours_held"].mean()) if len(done) else None,
        "median_hours_held_winners": median(won["hours_held"]),
        "median_hours_held_losers": median(lost["hours_held"]),
        "median_mae": median(done["mae"]),
        "median_mfe": median(done["mfe"]),
        "median_mae_winners": median(won["mae"]),
        "median_mfe_losers": median(lost["mfe"]),
    }
