"""Resampling 1- and 5-minute bars to 15-minute bars on session edges.

Each segment of a session (09:00-10:15, 10:30-11:30, 13:30-15:00, a night) has its own
15-minute grid anchored at its start, so a bar never spans a break: the day's bars end at
09:15 ... 10:15, 10:45 ... 11:30, 13:45 ... 15:00, and copper's night ends at 01:00.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.errors import DataError
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import STEP_MINUTES, session_minutes

BAR_MINUTES = STEP_MINUTES


def _last_given(values: np.ndarray, first_rows: np.ndarray) -> np.ndarray:
    """Each bucket's last non-blank value (NaN where all are blank)."""
    rows = np.where(np.isnan(values), -1, np.arange(len(values)))
    last = np.maximum.reduceat(rows, first_rows)
    out = np.full(len(first_rows), np.nan)
    out[last >= 0] = values[last[last >= 0]]
    return out


def resample(
    frame: pd.DataFrame,
    spec: InstrumentSpec,
    bar_minutes: int,
    to_minutes: int = BAR_MINUTES,
    source: str = "<bars>",
) -> pd.DataFrame:
    """Aggregate validated bars of ``bar_minutes`` into ``to_minutes`` bars.

    Open is the first open, high the highest high, low the lowest low, close the last
    close, volume the sum, open interest the last value, the contract (if any) the first.
    A bucket with some of its minutes missing is built from the bars it has.
    """
    if not 0 < bar_minutes <= to_minutes <= 60:
        raise DataError(
            source,
            f"cannot resample {bar_minutes}-minute bars to {to_minutes} minutes "
            f"(the target must be 1-60 minutes and not shorter than the bars)",
        )
    if to_minutes % bar_minutes:
        raise DataError(
            source,
            f"cannot resample {bar_minutes}-minute bars to {to_minutes} minutes "
            f"({to_minutes} is not a multiple of {bar_minutes})",
        )
    if "trading_day" not in frame.columns or not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(source, "resample takes bars as read_bars or bars_from_frame give them "
                                "(a time index and a trading_day column)")  # fmt: skip
    if not frame.index.is_monotonic_increasing:
        raise DataError(source, "the bars are not in time order (read_bars gives them so)")
    if bar_minutes == to_minutes or frame.empty:
        return frame.copy()
    times = frame.index
    minutes = session_minutes(times)
    days = frame["trading_day"].to_numpy().astype("datetime64[D]")
    segment = spec.sessions.locate(minutes, bar_minutes, days=days)
    if (segment < 0).any():
        first = times[np.argmax(segment < 0)]
        raise DataError(source, f"bar at {first} is outside the sessions of {spec.key}")
    bucket = spec.sessions.bucket_start(minutes, segment, to_minutes)
    offset = minutes - bucket
    if (offset + bar_minutes > to_minutes).any():
        first = times[np.argmax(offset + bar_minutes > to_minutes)]
        raise DataError(source, f"bar at {first} straddles a {to_minutes}-minute boundary")
    starts = times - pd.to_timedelta(offset, unit="min")
    keys = np.asarray(starts.tz_localize(None).values.astype(np.int64))
    first_rows = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    last_rows = np.concatenate([first_rows[1:] - 1, [len(keys) - 1]])
    out = {
        "open": frame["open"].to_numpy()[first_rows],
        "high": np.maximum.reduceat(frame["high"].to_numpy(), first_rows),
        "low": np.minimum.reduceat(frame["low"].to_numpy(), first_rows),
        "close": frame["close"].to_numpy()[last_rows],
        "volume": np.add.reduceat(frame["volume"].to_numpy(), first_rows),
    }
    if "open_interest" in frame.columns:
        out["open_interest"] = frame["open_interest"].to_numpy()[last_rows]
    for name in ("settle", "limit_up", "limit_down"):  # the bucket's last value given
        if name in frame.columns:
            out[name] = _last_given(frame[name].to_numpy(dtype=float), first_rows)
    result = pd.DataFrame(out, index=pd.DatetimeIndex(starts[first_rows], name="time"))
    result["trading_day"] = frame["trading_day"].to_numpy()[first_rows]
    if "contract" in frame.columns:  # constant within a bucket: rolls change it between days
        result["contract"] = frame["contract"].to_numpy()[first_rows]
    return result
