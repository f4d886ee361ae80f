"""The signal view of one instrument (docs/report.md, "Signals"): what Tier-1 saw and
what Tier-2 did with it, bar by bar.

The page draws it with ``js/signal_view.js`` from the payload made here: the
instrument's 15-minute bars of the run as packed columns (``report.packing``), and its
events as small tables: Tier-1's triggers with what Tier-2 did with them, each trade's
entry and exits, the stop and target levels while a position was open, and the rolls.
Bars are numbered from 0 (the instrument's first bar of the run); the browser aggregates
them into at most a few hundred candles for whatever range is in view, so the whole run
and a single day draw equally fast.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twotier.analysis.groups import (
    NAT,
    any_of_each,
    by_position_then_time,
    first_of_each,
    last_of_each,
)
from twotier.analysis.rolled import roll_points, scale_factors
from twotier.analysis.triggers import BLOCKED, SKIPPED, TRADED
from twotier.report.packing import pack_columns
from twotier.report.series import Floats

PRICE_COLUMNS = ("open", "high", "low", "close")
LINE_COLUMNS = (
    "ema_12",
    "ema_26",
    "ema_50",
    "bb_upper",
    "bb_lower",
    "rsi",
    "macd",
    "macd_signal",
    "macd_hist",
    "confidence",
    "signal_strength",
)
CODE_COLUMNS = ("signal", "regime")
# the number columns of trades.csv a view shows (``trade_columns``)
NUMBER_COLUMNS = (
    "entry_price",
    "exit_price",
    "leverage",
    "effective_leverage",
    "net_pnl",
    "return_pct",
    "stop",
    "target",
)
STATUS_CODES = {TRADED: 0, BLOCKED: 1, SKIPPED: 2}


def _minutes(times: pd.Series) -> np.ndarray:
    """Exchange wall-clock minutes since 1970-01-01 (the browser shows them as UTC, so
    the page reads the same in every time zone)."""
    stamps = pd.DatetimeIndex(times)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return stamps.as_unit("ns").asi8 // 60_000_000_000


def _bar_of(bars_ns: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """The bar starting at each time (else the one before it), of times as nanoseconds;
    -1 before the first (NaT's are before every bar)."""
    return np.searchsorted(bars_ns, ns, side="right") - 1


def _ns(times) -> np.ndarray:
    """Times (UTC) as nanoseconds: a column of times straight from its array (an index
    made of it costs ten times as much, and these are a few hundred trades)."""
    values = getattr(times, "array", None)
    if not isinstance(values, pd.arrays.DatetimeArray):
        values = pd.DatetimeIndex(pd.Series(times)).array
    return values.as_unit("ns").asi8


def _round(values, digits: int = 4) -> list:
    """The values rounded (``_floats``), NaN as None."""
    listed = _floats(np.round(np.asarray(values, dtype=float), digits))
    if isinstance(listed, Floats):
        return listed
    return [None if math.isnan(v) else v for v in listed]


def _floats(array: np.ndarray) -> list:
    """``array.tolist()``; a ``series.Floats`` where every value is finite, which the page
    writes by Arrow's float formatter (``page.script_json``), a third of repr's cost."""
    return Floats(array) if np.isfinite(array).all() else array.tolist()


def _texts(values: pd.Series) -> list[str]:
    if not values.hasnans:  # most columns: nothing to look for one by one
        return [str(v) for v in values.tolist()]
    return ["" if pd.isna(v) else str(v) for v in values.tolist()]


def _triggers(table: pd.DataFrame) -> tuple[dict, list[str]]:
    # the columns as lists: a pandas column of text yields its values at a cost each
    status_of, reason_of = table["status"].tolist(), table["reason"].tolist()
    reasons = sorted({r for r in reason_of if r})
    code = {r: k for k, r in enumerate(reasons)}
    out = {
        "bar": table["bar"].astype(int).tolist(),
        "dir": table["direction"].astype(int).tolist(),
        "status": [STATUS_CODES[s] for s in status_of],
        "reason": [code.get(r, -1) for r in reason_of],
    }
    return out, reasons


def trade_columns(trades: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns of trades.csv that a signal view reads, as arrays (times as
    nanoseconds, text as it is shown), made once: an instrument's rows are then picked
    from the arrays (``_rows_of``), not taken from the table column by column."""
    return {
        "trade_id": trades["trade_id"].to_numpy(),
        "entry_ns": _ns(trades["entry_time"]),
        "exit_ns": _ns(trades["exit_time"]),
        "open": (trades["reason"] == "open").to_numpy(dtype=bool),
        "reason": np.array(trades["reason"].astype(str).tolist(), dtype=object),
        "side": np.array(trades["side"].astype(str).tolist(), dtype=object),
        "tier": np.array(_texts(trades["tier"]), dtype=object),
        "contracts": trades["contracts"].astype(int).to_numpy(),
        **{name: trades[name].to_numpy(dtype=float) for name in NUMBER_COLUMNS},
    }


def _rows_of(columns: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The ``trade_columns`` of some rows (a mask or row numbers)."""
    return {name: values[rows] for name, values in columns.items()}


def _first_and_last(ids: np.ndarray, exit_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each position's first and last row by exit time (a missing one last), in order of
    trade id: the rows ``sort_values(["trade_id", "exit_time"])`` then
    ``drop_duplicates`` keeps."""
    order = by_position_then_time(ids, exit_ns)
    ordered = ids[order]
    change = ordered[1:] != ordered[:-1]
    first = order[np.concatenate(([True], change))[: len(order)]]
    last = order[np.concatenate((change, [True]))[: len(order)]]
    return first, last


def _entries(first: dict[str, np.ndarray], bars_ns: np.ndarray) -> dict:
    """``first``: the ``trade_columns`` of each position's first row."""
    return {
        "bar": _bar_of(bars_ns, first["entry_ns"]).tolist(),
        "price": _round(first["entry_price"]),
        "trade": first["trade_id"].astype(int).tolist(),
        "side": first["side"].tolist(),
        "tier": first["tier"].tolist(),
        "contracts": first["contracts"].tolist(),
        "lev": _round(first["leverage"], 3),
        "eff": _round(first["effective_leverage"], 3),
    }


def _exits(trades: dict[str, np.ndarray], bars_ns: np.ndarray) -> dict:
    """``trades``: the ``trade_columns`` of the instrument's rows."""
    done = _rows_of(trades, ~trades["open"])
    return {
        "bar": _bar_of(bars_ns, done["exit_ns"]).tolist(),
        "price": _round(done["exit_price"]),
        "trade": done["trade_id"].astype(int).tolist(),
        "reason": done["reason"].tolist(),
        "pnl": _round(done["net_pnl"], 2),
        "ret": _round(done["return_pct"], 6),
        "contracts": done["contracts"].tolist(),
    }


def _levels(first: dict, last: dict, bars: pd.DataFrame, bars_ns) -> dict:
    """Stop and target prices of each position from its entry's fill bar to its exit's
    fill bar (the last bar if still open), in the raw prices of the contract traded: a
    roll splits the segment, the levels carried by the roll's ratio. ``first`` and
    ``last``: the ``trade_columns`` of each position's first and last row."""
    factors = scale_factors(bars)
    changes = np.array([bar for bar, _ in roll_points(bars)], dtype=np.int64)
    entries = _bar_of(bars_ns, first["entry_ns"])
    still = last["open"] | (last["exit_ns"] == NAT)
    ends = np.where(still, len(bars_ns) - 1, _bar_of(bars_ns, last["exit_ns"]))
    side = np.where(first["side"] == "LONG", 1.0, -1.0)
    stop, target, price = first["stop"], first["target"], first["entry_price"]
    trade = first["trade_id"].astype(np.int64)
    shown = np.flatnonzero((entries >= 0) & ~np.isnan(stop) & ~np.isnan(target))
    row, start, end = _segments(entries[shown], ends[shown], changes)
    k = shown[row]
    basis = price[k] * factors[entries[k]]  # on the latest contract's scale
    raw = basis / factors[start]
    return {
        "trade": trade[k].tolist(),
        "from": start.tolist(),
        "to": end.tolist(),
        "stop": _floats(np.round(raw * (1 - side[k] * stop[k]), 4)),
        "target": _floats(np.round(raw * (1 + side[k] * target[k]), 4)),
    }


def _segments(starts: np.ndarray, ends: np.ndarray, cuts: np.ndarray) -> tuple:
    """Each span [start, end] cut at the ``cuts`` (rising) inside (start, end]: the
    span's row, first and last bar of every piece, in order."""
    first_cut = np.searchsorted(cuts, starts, side="right")
    pieces = 1 + np.maximum(np.searchsorted(cuts, ends, side="right") - first_cut, 0)
    row = np.repeat(np.arange(len(starts)), pieces)
    nth = np.arange(len(row)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    cut_at = np.append(cuts, -1)  # the indices past either end land here, never picked
    start = np.where(nth == 0, starts[row], cut_at[first_cut[row] + nth - 1])
    end = np.where(nth == pieces[row] - 1, ends[row], cut_at[first_cut[row] + nth])
    return row, start, end


def _bar_ns(bars: pd.DataFrame) -> np.ndarray:
    return _ns(bars["time"])


def hours_held(trades: pd.DataFrame, bars: pd.DataFrame) -> pd.Series:
    """Each trade row's hours in the market: its instrument's bars from the entry's fill
    bar to the row's exit fill bar (to the last bar while open), 15 minutes each."""
    held = _hours_held(trade_columns(trades), _bar_ns(bars))
    return pd.Series(held, index=trades.index)


def _hours_held(trades: dict[str, np.ndarray], bars_ns: np.ndarray) -> np.ndarray:
    entry = _bar_of(bars_ns, trades["entry_ns"])
    exit_ = _bar_of(bars_ns, trades["exit_ns"])
    still = trades["open"] | (exit_ < 0)
    exit_ = np.where(still, len(bars_ns) - 1, exit_)
    return (exit_ - entry) * 0.25


def trade_bars(trades: pd.DataFrame, bars: pd.DataFrame) -> dict[int, tuple[int, int]]:
    """Each position's first and last bar in ``bars``: its entry's fill bar and its last
    exit's fill bar (the last bar while it is open); what a click in the trades table
    zooms to. Grouped on arrays (``analysis.groups``): a few hundred rows."""
    return _trade_bars(trade_columns(trades), _bar_ns(bars))


def _trade_bars(trades: dict[str, np.ndarray], bars_ns: np.ndarray) -> dict[int, tuple[int, int]]:
    ids, group = np.unique(trades["trade_id"], return_inverse=True)
    entry_ns, exit_ns = trades["entry_ns"], trades["exit_ns"]
    order = by_position_then_time(group, exit_ns)
    group, entry_ns, exit_ns = group[order], entry_ns[order], exit_ns[order]
    first = first_of_each(group, entry_ns != NAT, len(ids))
    last = last_of_each(group, exit_ns != NAT, len(ids))
    entry = _bar_of(bars_ns, np.where(first >= 0, entry_ns[first], NAT))
    exit_ = _bar_of(bars_ns, np.where(last >= 0, exit_ns[last], NAT))
    still = any_of_each(group, trades["open"][order], len(ids))
    exit_ = np.where(still | (exit_ < 0), len(bars_ns) - 1, exit_)
    return {
        int(t): (int(a), int(b))
        for t, a, b in zip(ids.tolist(), entry.tolist(), exit_.tolist(), strict=True)
    }


def view_payload(
    run, instrument: str, bars: pd.DataFrame, triggers: pd.DataFrame, *, later: bool = False
) -> dict:
    """Everything the browser needs to draw one instrument's signal view (``later``: its
    packed columns still being compressed, see ``packing.pack_columns``)."""
    trades = trade_columns(run.trades[run.trades["instrument"] == instrument])
    return _payload(instrument, bars, triggers, trades, _bar_ns(bars), later)


def instrument_view(
    instrument: str,
    trades: pd.DataFrame | dict[str, np.ndarray],
    bars: pd.DataFrame,
    triggers: pd.DataFrame,
    *,
    later: bool = False,
    minutes: np.ndarray | None = None,
) -> tuple[dict, dict[int, tuple[int, int]], np.ndarray]:
    """``view_payload``, ``trade_bars`` and ``hours_held`` (as an array) of an instrument
    from its rows of trades.csv (or their ``trade_columns``), its bars and triggers: the
    bars' times found once. ``minutes``: the bars' wall-clock minutes, where already
    found (else converted here)."""
    if isinstance(trades, pd.DataFrame):
        trades = trade_columns(trades)
    bars_ns = _bar_ns(bars)
    payload = _payload(instrument, bars, triggers, trades, bars_ns, later, minutes)
    return payload, _trade_bars(trades, bars_ns), _hours_held(trades, bars_ns)


def _payload(
    instrument: str,
    bars: pd.DataFrame,
    triggers: pd.DataFrame,
    trades: dict[str, np.ndarray],
    bars_ns: np.ndarray,
    later: bool,
    minutes: np.ndarray | None = None,
) -> dict:
    columns = {"time": _minutes(bars["time"]) if minutes is None else minutes}
    columns |= {c: bars[c] for c in (*PRICE_COLUMNS, *LINE_COLUMNS) if c in bars.columns}
    codes = {c: bars[c] for c in CODE_COLUMNS}
    packed = pack_columns(columns, codes, exact=("time", *PRICE_COLUMNS), later=later)
    first, last = _first_and_last(trades["trade_id"], trades["exit_ns"])
    first, last = _rows_of(trades, first), _rows_of(trades, last)
    trigger_events, reasons = _triggers(triggers)
    rolls = roll_points(bars)
    return {
        "instrument": instrument,
        "bars": len(bars),
        **packed,
        "triggers": trigger_events,
        "reasons": reasons,
        "entries": _entries(first, bars_ns),
        "exits": _exits(trades, bars_ns),
        "levels": _levels(first, last, bars, bars_ns),
        "rolls": {
            "bar": [bar for bar, _ in rolls],
            "old": [r.old_contract for _, r in rolls],
            "new": [r.new_contract for _, r in rolls],
        },
    }
