"""P&L by session (docs/metrics.md, "Tear sheet"): what the day session earned against
the night session.

Each step's P&L (the change of the value since the step before; the first step's since
the initial value) belongs to the session of its bar: a bar starting from 18:00 to 06:00
is a night bar (RULES.md 1, the night session's clock), any other a day bar. So the
move over the break before a session (15:00 to 21:00, or the night's end to 09:00)
counts with the session it opens into, as does every fee paid in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.analysis.columns import money_total
from twotier.analysis.groups import NAT
from twotier.market.sessions import DAY_CUTOFF_MINUTE, MINUTES_PER_DAY

NIGHT_START_MINUTE = 18 * 60


def night_steps(times: pd.Series) -> np.ndarray:
    """True where a step's bar starts in a night session (never where its time is
    missing)."""
    return night_at(wall_minutes(times))


def wall_minutes(times: pd.Series) -> np.ndarray:
    """The wall-clock times in whole minutes since 1970-01-01 (NaT as ``groups.NAT``),
    converted once: the hour and the minute of zone-aware times would each convert every
    time to the wall clock again."""
    stamps = pd.DatetimeIndex(times)
    wall = stamps.tz_localize(None) if stamps.tz is not None else stamps
    return wall.to_numpy().astype("datetime64[m]").view(np.int64)


def night_at(minutes: np.ndarray) -> np.ndarray:
    """``night_steps`` of the steps' ``wall_minutes``."""
    minute = minutes % MINUTES_PER_DAY
    night = (minute >= NIGHT_START_MINUTE) | (minute < DAY_CUTOFF_MINUTE)
    return night & (minutes != NAT)


def step_pnl(values: pd.Series, initial: float) -> np.ndarray:
    """Each step's change of value (the first against ``initial``)."""
    v = values.to_numpy(dtype=float)
    return np.diff(v, prepend=initial)


def session_pnl(
    equity: pd.DataFrame, column: str, initial: float, night: np.ndarray | None = None
) -> dict:
    """P&L of one value column (``pv`` or ``equity_i``) earned in day and in night
    steps, and how many steps of each the run had; day + night is the total P&L.
    ``night``: ``night_steps(equity["time"])``, where already found."""
    night = night_steps(equity["time"]) if night is None else night
    pnl = step_pnl(equity[column], initial)
    return {
        "day_pnl": money_total(pnl[~night]),
        "night_pnl": money_total(pnl[night]),
        "day_steps": int((~night).sum()),
        "night_steps": int(night.sum()),
    }
