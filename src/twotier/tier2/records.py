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
    """Blocks of consecutive rows; a column of a block is an array of its length, or one
    value that holds on all its rows."""

    def __init__(self, baskets: int):
        self.baskets = baskets
        self._blocks: list[tuple[int, dict]] = []

    def append(self, rows: int, block: dict) -> None:
        self._blocks.append((rows, block))

    def replace_last(self, block: dict) -> None:
        """Re-record the final step (after closes at data end)."""
        rows, last = self._blocks.pop()
        if rows > 1:
            self._blocks.append((rows - 1, {k: _head(v, rows - 1) for k, v in last.items()}))
        self._blocks.append((1, block))

    def last_row(self) -> dict:
        rows, last = self._blocks[-1]
        return {k: np.broadcast_to(v, (rows,))[-1:] for k, v in last.items()}

    def frame(self) -> pd.DataFrame:
        if not self._blocks:
            return pd.DataFrame()
        total = sum(n for n, _ in self._blocks)
        columns = {}
        for name, first in self._blocks[0][1].items():
            column = np.empty(total, dtype=np.asarray(first).dtype)
            at = 0
            for n, block in self._blocks:
                column[at : at + n] = block[name]
                at += n
            columns[name] = column
        frame = pd.DataFrame(columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(TIMEZONE)
        money = ["pv", "peak", "day_start", *[f"equity_{i}" for i in range(self.baskets)]]
        for name in money:
            frame[name] = frame[name] / MONEY_SCALE
        return frame


def _head(values, rows: int):
    return values[:rows] if np.ndim(values) else values


def check_ledger(pv, initial: int, realised: int, open_pnl, fees: int, time) -> None:
    """PV = initial capital + realised P&L + open P&L - fees, exactly (money units)."""
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
