"""Tier-1 for one basket's instrument, one 15-minute bar at a time, and the Package
Tier-2 sees of each bar.

Episodes are numbered as the backtest's tape numbers them
(``twotier.tier1.state.episodes``): over the instrument's own bars, history included, a
new episode starting wherever the signal becomes non-zero or changes side.

Across rolls (RULES.md 9) the backtest computes each bar's package on the history as it
stood at that bar, back-adjusted by the rolls made so far
(``twotier.engine.continuous.causal_signals``). Live, that is: on the first bar of a
roll's trading day, start the generator again on the stored history back-adjusted by the
rolls known (this one included), then give it the new bar, whose raw prices are the new
contract's and need no adjustment. Packages carry the raw prices, the contract and, on
that bar, the roll, so that ``Composite.step`` rolls held positions as in a backtest.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from twotier.errors import DataError
from twotier.live.bars import Bar
from twotier.live.market import NO_MARKET, MarketTracker
from twotier.live.rolls import RollTracker
from twotier.market.calendar import TIMEZONE
from twotier.market.rolls import AdjustMethod, Roll, RollSchedule, back_adjust
from twotier.money import PriceError, price_units
from twotier.tier1.generator import SignalGenerator
from twotier.tier1.package import CHECK_COLUMNS, MARKET_COLUMNS, PACKAGE_COLUMNS
from twotier.tier2.days import EPOCH_ORDINAL
from twotier.tier2.state import Package

INT8_COLUMNS = ("signal", "regime", "trigger")
FLOAT_COLUMNS = tuple(
    c for c in PACKAGE_COLUMNS if c not in {"time", "instrument", *INT8_COLUMNS, *CHECK_COLUMNS}
)
BarKind = Literal["history", "live", "late"]  # as the state database stores bars


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
    """A generator's live form, its episodes, the bars it was given, the rolls applied
    (with roll information: ``rolls``) and every package it made (for the run folder's
    ``signals/``)."""

    def __init__(
        self,
        generator: SignalGenerator,
        rolls: RollTracker | None = None,
        adjust: AdjustMethod = "ratio",
        market: MarketTracker | None = None,
    ):
        self.generator = generator
        self.market = market  # locks, volume and settlements (RULES.md 10), where on
        self.live = generator.live()
        self.episodes = EpisodeCounter()
        self.rolls = rolls
        self.adjust = adjust
        self.bars: list[Bar] = []
        self.contracts: list[str | None] = []
        self.applied: list[tuple[int, Roll]] = []  # (bar index, roll) of the rolls made
        self.unseen_roll: Roll | None = None  # made on a late bar: Tier-2 has not rolled
        self.rows: list[dict] = []
        self.last: Package | None = None

    @property
    def instrument(self) -> str:
        return self.generator.instrument

    @property
    def roll_here(self) -> Roll | None:
        """The roll made at the last bar given, if any."""
        made = self.applied[-1] if self.applied else None
        return made[1] if made is not None and made[0] == len(self.bars) - 1 else None

    def update(self, bar: Bar, kind: BarKind = "live") -> Package:
        contract, roll = self.rolls.next(bar) if self.rolls is not None else (None, None)
        self.bars.append(bar)
        self.contracts.append(contract)
        if roll is not None:
            self.applied.append((len(self.bars) - 1, roll))
            self._readjust()
        row = self.live.update(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume)
        self.rows.append(row)
        signal = int(row["signal"])
        try:
            open_, close = price_units(bar.open), price_units(bar.close)
            market = NO_MARKET if self.market is None else self.market.update(bar, contract)
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
            contract=contract,
            roll=self._roll_for_tier2(roll, kind, bar),
            volume=market.volume,
            locked=market.locked,
            limit_up=market.limit_up,
            limit_down=market.limit_down,
        )
        return self.last

    def _readjust(self) -> None:
        """A fresh generator fed the bars before the last one, back-adjusted by the rolls
        made so far: the state ``causal_signals`` computes the bars from this roll on
        with. The last bar (the roll's, on the new contract) is raw in the adjusted
        series, so ``update`` gives it as it came."""
        known = RollSchedule(tuple(roll for _, roll in self.applied))
        adjusted = back_adjust(bars_frame(self.bars), known, self.adjust)
        columns = (adjusted[c].to_numpy().tolist()[:-1] for c in PRICES)
        self.live = self.generator.live()
        for open_, high, low, close, volume in zip(*columns, strict=True):
            self.live.update(None, open_, high, low, close, volume)

    def _roll_for_tier2(self, roll: Roll | None, kind: BarKind, bar: Bar) -> Roll | None:
        """A roll made on a late bar (Tier-1 only) reaches Tier-2 with the next bar it
        sees, so that a held position is rolled all the same. History rolls stay in the
        history: the run starts flat."""
        if kind == "late" and roll is not None:
            if self.unseen_roll is not None:
                raise DataError(bar.source, f"{bar.instrument}: two rolls on late bars", bar.line)
            self.unseen_roll = roll
        elif kind == "live" and self.unseen_roll is not None:
            if roll is not None:
                raise DataError(
                    bar.source, f"{bar.instrument}: a roll and a late bar's roll", bar.line
                )
            roll, self.unseen_roll = self.unseen_roll, None
        return roll

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
        frame = frame.astype(types)
        if self.rolls is not None and self.rolls.names_contracts:  # as with_traded_prices
            frame["contract"] = np.array(self.contracts, dtype=str)
        if self.market is not None:  # as with_market_columns
            for column in MARKET_COLUMNS:  # high, low; settle and limits where the feed has them
                values = [getattr(b, column) for b in self.bars]
                if any(v is not None for v in values):
                    frame[column] = np.array(values, dtype=np.float64)  # None: NaN
        return frame


PRICES = ("open", "high", "low", "close", "volume")


def bars_frame(bars: list[Bar]) -> pd.DataFrame:
    """Bars as the loader's frame: index = bar start, prices, volume, trading day."""
    stamps = np.array([b.time_ns for b in bars], dtype="datetime64[ns]")
    times = pd.DatetimeIndex(stamps, name="time").tz_localize("UTC").tz_convert(TIMEZONE)
    columns: dict[str, object] = {c: [getattr(b, c) for b in bars] for c in PRICES}
    # From ordinals: numpy converts date objects one by one, twenty times slower.
    ordinals = np.array([b.trading_day.toordinal() for b in bars], dtype=np.int64)
    columns["trading_day"] = (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")
    return pd.DataFrame(columns, index=times)
