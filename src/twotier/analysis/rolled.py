"""A spliced main-contract series as a position held and rolled sees it (RULES.md 9).

Package ``open``/``close`` are the raw prices of the contract traded at each bar, so a
roll shows as a jump that nobody earned. Across a roll, a position is carried by the
roll's ratio (new price / old price); here the ratio is that of the packages' contract
column: the new contract's first open over the old contract's last close (as a run on a
package table rolls, RULES.md 10.6.17). A run given a roll schedule file rolled at the
schedule's prices, which its run folder does not record; the difference is whatever the
market did between those two bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.market.rolls import (
    Roll,
    RollSchedule,
    back_adjust,
    located_rolls,
    schedule_from_contracts,
)


def roll_schedule(bars: pd.DataFrame) -> RollSchedule | None:
    """The rolls of one instrument's bars (packages with ``trading_day``): where their
    contract column changes. None without a contract column or without a change."""
    if bars.empty or "contract" not in bars.columns or bars["contract"].isna().any():
        return None
    schedule = schedule_from_contracts(bars.reset_index(drop=True), "<packages>")
    return schedule if len(schedule) else None


def roll_points(bars: pd.DataFrame) -> list[tuple[int, Roll]]:
    """(bar index, roll) of each roll: the first bar of the new contract."""
    schedule = roll_schedule(bars)
    return located_rolls(bars.reset_index(drop=True), schedule) if schedule else []


def scale_factors(bars: pd.DataFrame) -> np.ndarray:
    """Per bar, what its raw prices are multiplied by to be on the latest contract's
    scale (1 everywhere without rolls): raw price * factor is the rolled price."""
    schedule = roll_schedule(bars)
    if schedule is None:
        return np.ones(len(bars))
    frame = bars[["trading_day", "close"]].reset_index(drop=True)
    adjusted = back_adjust(frame, schedule, "ratio")["close"].to_numpy(dtype=float)
    return adjusted / frame["close"].to_numpy(dtype=float)


def rolled_closes(bars: pd.DataFrame) -> pd.Series:
    """Closes of a position held and rolled, on the latest contract's scale: their
    returns are the raw returns within each contract and none across a roll."""
    closes = bars["close"].to_numpy(dtype=float) * scale_factors(bars)
    return pd.Series(closes, index=bars.index, name="close")
