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
    def __init__(self, baskets: int):
        self.baskets = baskets
        self._blocks: list[dict[str, np.ndarray]] = []

    def append(self, block: dict[str, np.ndarray]) -> None:
        self._blocks.append(block)

    def replace_last(self, block: dict[str, np.ndarray]) -> None:
        """Re-record the final step (after closes at data end)."""
        last = self._blocks[-1]
        n = len(last["pv"])
        if n == 1:
            self._blocks[-1] = block
        else:
            self._blocks[-1] = {k: v[:-1] for k, v in last.items()}
            self._blocks.append(block)

    def last_row(self) -> dict[str, np.ndarray]:
        return {k: v[-1:] for k, v in self._blocks[-1].items()}

    def frame(self) -> pd.DataFrame:
        if not self._blocks:
            return pd.DataFrame()
        columns = {k: np.concatenate([b[k] for b in self._blocks]) for k in self._blocks[0]}
        frame = pd.DataFrame(columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(TIMEZONE)
        money = ["pv", "peak", "day_start", *[f"equity_{i}" for i in range(self.baskets)]]
        for name in money:
            frame[name] = frame[name] / MONEY_SCALE
        return frame


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
