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
    """Rows of the equity table, appended a block at a time: a column of a block is an
    array of the block's length or one value for all its rows. One-row blocks (a step)
    are kept as Python values and placed in one go when the table is built."""

    def __init__(self, baskets: int):
        self.baskets = baskets
        self.size = 0
        self._rows: list[tuple[int, dict]] = []  # (row number, values) of one-row blocks
        self._blocks: list[tuple[int, int, dict]] = []  # (first row, rows, columns)

    def append(self, rows: int, block: dict) -> None:
        if not isinstance(block["time"], np.ndarray):  # one step, plain values
            self._rows.append((self.size, block))
        else:
            self._blocks.append((self.size, rows, block))
        self.size += rows

    def replace_last(self, block: dict) -> None:
        """Re-record the final step (after closes at data end)."""
        if self._rows and self._rows[-1][0] == self.size - 1:
            self._rows.pop()
        else:
            first, rows, columns = self._blocks.pop()
            self._blocks.append(
                (first, rows - 1, {k: _head(v, rows - 1) for k, v in columns.items()})
            )
        self._rows.append((self.size - 1, block))

    def last_row(self) -> dict:
        if self._rows and self._rows[-1][0] == self.size - 1:
            return {k: np.atleast_1d(v) for k, v in self._rows[-1][1].items()}
        _, rows, columns = self._blocks[-1]
        return {k: np.broadcast_to(v, (rows,))[-1:] for k, v in columns.items()}

    def frame(self) -> pd.DataFrame:
        if self.size == 0:
            return pd.DataFrame()
        names = (self._rows[0][1] if self._rows else self._blocks[0][2]).keys()
        at = np.array([n for n, _ in self._rows], dtype=np.int64)
        columns = {}
        for name in names:
            values = np.array([row[name] for _, row in self._rows])
            sample = values if len(values) else np.asarray(self._blocks[0][2][name])
            column = np.empty(self.size, dtype=sample.dtype)
            column[at] = values
            for first, rows, block in self._blocks:
                column[first : first + rows] = block[name]
            columns[name] = column
        frame = pd.DataFrame(columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(TIMEZONE)
        money = ["pv", "peak", "day_start", *[f"equity_{i}" for i in range(self.baskets)]]
        for name in money:
            frame[name] = frame[name] / MONEY_SCALE
        return frame


def _head(values, rows: int):
    return values[:rows] if isinstance(values, np.ndarray) else values


def check_ledger(books: int, initial: int, realised: int, fees: int, time) -> None:
    """PV = initial capital + realised P&L + open P&L - fees, exactly (money units).

    PV is the reserve plus each basket's cash plus its open P&L, so the identity holds
    when reserve + cash = initial + realised - fees: ``books`` is reserve + cash. Cash
    moves only with fills, so one check covers every step of a record block."""
    expected = initial + realised - fees
    if books != expected:
        first = int(np.atleast_1d(time)[0])
        at = pd.Timestamp(first, tz="UTC").tz_convert(TIMEZONE)
        raise LedgerError(
            f"ledger broken at {at}: reserve + cash {books / MONEY_SCALE:.4f} != initial + "
            f"realised - fees {expected / MONEY_SCALE:.4f}, so PV != initial + realised + "
            "open P&L - fees"
        )
