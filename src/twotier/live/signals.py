"""Tier-1 for one basket's instrument, one 15-minute bar at a time, and the Package
Tier-2 sees of each bar.

Episodes are numbered as the backtest's tape numbers them
(``twotier.tier1.state.episodes``): over the instrument's own bars, history included, a
new episode starting wherever the signal becomes non-zero or changes side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.errors import DataError
from twotier.live.bars import Bar
from twotier.market.calendar import TIMEZONE
from twotier.money import PriceError, price_units
from twotier.tier1.generator import SignalGenerator
from twotier.tier1.package import CHECK_COLUMNS, PACKAGE_COLUMNS
from twotier.tier2.state import Package

INT8_COLUMNS = ("signal", "regime", "trigger")
FLOAT_COLUMNS = tuple(
    c for c in PACKAGE_COLUMNS if c not in {"time", "instrument", *INT8_COLUMNS, *CHECK_COLUMNS}
)


class EpisodeCounter:
    def __init__(self):
        self.previous = 0
        self.count = 0

    def next(self, signal: int) -> int:
        if signal != 0 and signal != self.previous:
            self.count += 1
        self.previous = signal
        return self.count if signal != 0 else 0


class LiveInstrument:
    """A generator's live form, its episodes, and every package it made (for the
    run folder's ``signals/``)."""

    def __init__(self, generator: SignalGenerator):
        self.generator = generator
        self.live = generator.live()
        self.episodes = EpisodeCounter()
        self.rows: list[dict] = []
        self.last: Package | None = None

    @property
    def instrument(self) -> str:
        return self.generator.instrument

    def update(self, bar: Bar) -> Package:
        row = self.live.update(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume)
        self.rows.append(row)
        signal = int(row["signal"])
        try:
            open_, close = price_units(bar.open), price_units(bar.close)
        except PriceError as exc:
            raise DataError(bar.source, f"{bar.instrument}: {exc}", bar.line) from None
        self.last = Package(
            bar=len(self.rows) - 1,
            time_ns=bar.time_ns,
            trading_day=bar.trading_day,
            open=open_,
            close=close,
            signal=signal,
            confidence=float(row["confidence"]),
            strength=float(row["signal_strength"]),
            regime=int(row["regime"]),
            episode=self.episodes.next(signal),
        )
        return self.last

    def frame(self) -> pd.DataFrame:
        """The packages as the whole-series form's table (same columns and types)."""
        frame = pd.DataFrame(self.rows, columns=list(PACKAGE_COLUMNS))
        times = pd.DatetimeIndex(frame["time"])
        if times.tz is None:  # no rows yet
            times = times.tz_localize(TIMEZONE)
        frame["time"] = times.as_unit("us")
        types: dict[str, object] = {c: np.float64 for c in FLOAT_COLUMNS}
        types.update({c: np.int8 for c in INT8_COLUMNS})
        types.update({c: bool for c in CHECK_COLUMNS})
        types["instrument"] = "str"
        return frame.astype(types)
