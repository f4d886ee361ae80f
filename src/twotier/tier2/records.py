"""The per-step record (RULES.md 4.1 step 6) and the ledger check behind it.

Rows are kept as column blocks so that the backtest engine can append a whole stretch of
quiet steps at once; a single step appends a block of one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.errors import TwotierError
from twotier.market.calendar import TIMEZONE
from twotier.money import MONEY_SCALE


class LedgerError(TwotierError):
    """PV no longer equals initial capital + realised P&L + open P&L - fees."""


class EquityRecorder:
    """Rows in growable column arrays. ``append`` takes a block of consecutive rows, each
    column an array of the block's length or one value that holds on all its rows."""

    def __init__(self, baskets: int):
        self.baskets = baskets
        self._columns: dict[str, np.ndarray] = {}
        self.size = 0

    def append(self, rows: int, block: dict) -> None:
        if not self._columns:
            self._columns = {
                k: np.empty(max(1024, 2 * rows), dtype=np.asarray(v).dtype)
                for k, v in block.items()
            }
        capacity = len(self._columns["pv"])
        if self.size + rows > capacity:
            grown = max(2 * capacity, self.size + rows)
            for name, column in self._columns.items():
                bigger = np.empty(grown, dtype=column.dtype)
                bigger[: self.size] = column[: self.size]
                self._columns[name] = bigger
        end = self.size + rows
        if rows == 1:
            at = self.size
            for name, value in block.items():
                self._columns[name][at] = value[0] if isinstance(value, np.ndarray) else value
        else:
            for name, value in block.items():
                self._columns[name][self.size : end] = value
        self.size = end

    def replace_last(self, block: dict) -> None:
        """Re-record the final step (after closes at data end)."""
        self.size -= 1
        self.append(1, block)

    def last_row(self) -> dict:
        return {k: v[self.size - 1 : self.size] for k, v in self._columns.items()}

    def frame(self) -> pd.DataFrame:
        if not self._columns:
            return pd.DataFrame()
        frame = pd.DataFrame({k: v[: self.size] for k, v in self._columns.items()})
        frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(TIMEZONE)
        money = ["pv", "peak", "day_start", *[f"equity_{i}" for i in range(self.baskets)]]
        for name in money:
            frame[name] = frame[name] / MONEY_SCALE
        return frame


def check_ledger(pv, initial: int, realised: int, open_pnl, fees: int, time) -> None:
    """PV = initial capital + realised P&L + open P&L - fees, exactly (money units)."""
    if isinstance(pv, int) and pv == initial + realised + open_pnl - fees:
        return  # one step, balanced
    expected = initial + realised + np.asarray(open_pnl) - fees
    wrong = np.asarray(pv) != expected
    if np.any(wrong):
        i = int(np.argmax(wrong)) if np.ndim(wrong) else 0
        got = np.atleast_1d(pv)[i]
        want = np.atleast_1d(expected)[i]
        at = pd.Timestamp(int(np.atleast_1d(time)[i]), tz="UTC").tz_convert(TIMEZONE)
        raise LedgerError(
            f"ledger broken at {at}: PV {got / MONEY_SCALE:.4f} != initial + realised + open "
            f"- fees = {want / MONEY_SCALE:.4f}"
        )
