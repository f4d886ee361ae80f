"""The tape: every basket's packages on one time axis, ready for Tier-2.

Steps are the union of all baskets' bar times. Each basket keeps arrays over its own bars
(prices in price units, episodes counted over its own bars) and the step of each bar; the
chaos count of every step is computed once here, from packages alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from twotier.config.model import MarketParams, SizingParams
from twotier.engine.market import BasketMarket, basket_market
from twotier.errors import CalendarError, DataError
from twotier.market import rolls as roll_data
from twotier.market.calendar import (
    TradingCalendar,
    closed_reason,
    place_and_locate,
)
from twotier.market.instruments import InstrumentSpec
from twotier.market.rolls import Roll, RollSchedule
from twotier.money import PriceError, price_units_array
from twotier.tier1.state import episodes
from twotier.tier2.days import day_of
from twotier.tier2.sizing import conviction
from twotier.tier2.state import Package, StepInput
from twotier.tier2.stretch import Stretch
from twotier.tier2.view import NO_REGIME, average_conviction, chaos_count


class _Dates(dict):
    """Trading days as dates by their count of days since 1970 (``day_of``), each made
    once: a day's bars and steps share it, and a dict look-up costs a fraction of making
    the date. At most one entry a calendar day."""

    def __missing__(self, days: int) -> date:
        made = self[days] = day_of(days)
        return made


_DATES = _Dates()


@dataclass
class BasketTape:
    spec: InstrumentSpec
    time: pd.DatetimeIndex
    trading_day: np.ndarray  # datetime64[D]
    open: np.ndarray  # price units
    close: np.ndarray  # price units
    signal: np.ndarray
    confidence: np.ndarray
    strength: np.ndarray
    regime: np.ndarray
    episode: np.ndarray
    conviction: np.ndarray  # decided, with the basket's own weights
    step: np.ndarray  # the global step of each bar
    contract: list | None = None  # the contract of each bar, where known
    rolls: dict[int, Roll] = field(default_factory=dict)  # first bar of each roll's day
    market: BasketMarket | None = None  # limits, locks, volume (RULES.md 10), where on

    @cached_property
    def time_ns(self) -> np.ndarray:
        return self.time.as_unit("ns").asi8

    @cached_property
    def _made(self) -> dict[int, Package]:
        return {}

    def package(self, bar: int) -> Package:
        """Bar ``bar`` as a Package of plain Python values (as ``tolist`` gives them),
        made from the arrays when first asked for: a run asks for one bar in 6 (the
        sample) to 25 (real markets), at event steps and the ends of quiet stretches, so
        converting whole columns up front costs more. Kept once made (a
        Package is never changed): a step asks for a bar again, and the parameter sets of
        a sweep's batch that share the tape ask for the same bars."""
        made = self._made  # (a cached property's every read is a full attribute look-up)
        package = made.get(bar)
        if package is not None:
            return package
        # Made here rather than by a method of its own: a call's frame costs about a
        # twentieth of a package.
        time_ns, day, open_, close, signal, confidence, strength, regime, episode, conviction = (
            self._columns
        )
        volume, locked, up, down = None, 0, None, None
        market = self._market_columns
        if market is not None:
            volumes, locks, ups, downs = market
            if volumes is not None:
                volume = volumes[bar]
                volume = None if volume != volume else volume  # NaN: no value
            locked, up, down = locks[bar], ups[bar], downs[bar]
            up, down = None if up <= 0 else up, None if down <= 0 else down
        package = made[bar] = Package(
            bar, time_ns[bar], _DATES[day[bar]], open_[bar],
            close[bar], signal[bar], confidence[bar], strength[bar], regime[bar], episode[bar],
            None if self.contract is None else self.contract[bar], self.rolls.get(bar),
            conviction[bar], volume, locked, up, down,
        )  # fmt: skip
        return package

    @cached_property
    def _columns(self) -> tuple[memoryview, ...]:
        """The numeric columns a package is made of, as memoryviews: indexing one gives
        the element as a Python int or float, as ``item`` does, at about a third of its
        cost (a package takes a dozen). The trading day as days since 1970."""
        columns = (
            self.time_ns, self.trading_day.view(np.int64), self.open, self.close, self.signal,
            self.confidence, self.strength, self.regime, self.episode, self.conviction,
        )  # fmt: skip
        return tuple(memoryview(c) for c in columns)

    @cached_property
    def _market_columns(self) -> tuple | None:
        """The market's volumes (None where fills do not look at volume), locks and price
        limits, as ``_columns``; None without a market."""
        m = self.market
        if m is None:
            return None
        volume = None if m.volume is None else memoryview(m.volume)
        return volume, memoryview(m.locked), memoryview(m.limit_up), memoryview(m.limit_down)


@dataclass
class Tape:
    times: pd.DatetimeIndex
    trading_day: np.ndarray  # datetime64[D] of each step
    baskets: list[BasketTape]
    bar_at: np.ndarray  # (baskets, steps): bar index at the step, -1 if none
    latest: np.ndarray  # (baskets, steps): latest bar index at or before the step, -1 if none
    chaos: np.ndarray  # chaos count of each step
    average_conviction: np.ndarray  # of baskets with a non-zero signal at each step; NaN if none
    reserve_target: np.ndarray  # Tier-2's cash-reserve target of each step

    def __len__(self) -> int:
        return len(self.times)

    @cached_property
    def day_begins(self) -> np.ndarray:
        """Whether each step's trading day differs from the step before's."""
        return np.concatenate([[True], self.trading_day[1:] != self.trading_day[:-1]])

    @cached_property
    def time_ns(self) -> np.ndarray:
        return self.times.as_unit("ns").asi8

    @cached_property
    def close_at(self) -> list[np.ndarray]:
        """Each basket's latest close at each step, 0 before its first bar (one array a
        basket: a stretch takes a slice of each)."""
        closes = []
        for latest, b in zip(self.latest, self.baskets, strict=True):
            # ``latest`` never falls: the steps before the first bar are its first ones.
            before = int(np.searchsorted(latest, 0))
            if before == len(latest):
                closes.append(np.zeros(len(latest), dtype=np.int64))
                continue
            close = b.close.take(latest).astype(np.int64, copy=False)
            close[:before] = 0
            closes.append(close)
        return closes

    def stretch(self, a: int, b: int, marked_after: list[int] | None = None) -> Stretch:
        """Steps ``a`` to ``b - 1`` as Tier-2 advances them in one go; ``marked_after``:
        see ``Stretch``."""
        return Stretch(
            self.time_ns[a:b],
            self.trading_day[a:b],
            self.day_begins[a:b],
            [close[a:b] for close in self.close_at],
            self.latest[:, a:b],
            self.reserve_target[a:b],
            [] if marked_after is None else marked_after,
        )

    def bar_closes(self, basket: int, first: int, last: int) -> np.ndarray:
        return self.baskets[basket].close[first : last + 1]

    def package(self, basket: int, bar: int) -> Package:
        return self.baskets[basket].package(bar)

    def known_trail(self, basket: int, p, bar: int) -> None:
        """A tape has no trailing-stop marks: a stretch computes them."""
        return None

    def latest_packages(self, k: int) -> list[Package | None]:
        """Each basket's latest package at step ``k`` (None before its first bar)."""
        bars = self.latest[:, k].tolist()
        return [None if bar < 0 else self.package(i, bar) for i, bar in enumerate(bars)]

    @cached_property
    def basket_bars(self) -> list[memoryview]:
        """Each basket's bar at every step (-1: none there), as memoryviews: indexing one
        gives a Python int."""
        return [memoryview(row) for row in self.bar_at]

    @cached_property
    def _step_columns(self) -> tuple:
        """What a step's input takes of the step arrays, as memoryviews (indexing one
        gives a Python int or float): each basket's bar, the time, the trading day (days
        since 1970), the portfolio view."""
        columns = (
            self.time_ns, self.trading_day.view(np.int64), self.chaos,
            self.average_conviction, self.reserve_target,
        )  # fmt: skip
        return self.basket_bars, *(memoryview(np.ascontiguousarray(c)) for c in columns)

    def step_input(self, k: int, baskets: list[int] | None = None) -> StepInput:
        """Step ``k`` with the package of every basket that has a bar at it, or of
        ``baskets`` alone (each must have one)."""
        bars, time_ns, days, chaos, average, target = self._step_columns
        packages = {}
        if baskets is not None:
            for i in baskets:
                packages[i] = self.baskets[i].package(bars[i][k])
        else:
            for i, b in enumerate(self.baskets):
                bar = bars[i][k]
                if bar >= 0:
                    packages[i] = b.package(bar)
        # The step's day as a date, made once a day when first asked for (the whole column
        # costs 8 ms).
        return StepInput(time_ns[k], _DATES[days[k]], packages, (chaos[k], average[k], target[k]))

    def first_step_on_or_after(self, day) -> int:
        return int(np.searchsorted(self.trading_day, np.datetime64(day, "D"), side="left"))

    def last_step_on_or_before(self, day) -> int:
        return int(np.searchsorted(self.trading_day, np.datetime64(day, "D"), side="right")) - 1


@dataclass(frozen=True)
class BarDays:
    """The trading day the loader gave each of an instrument's bars, having checked that
    each lies in a session of that day: Tier-1's packages of those bars take these days
    rather than being placed on the calendar again (``basket_tape``). They are the days of
    the loader's calendar and instruments, which a run on loaded bars uses too."""

    times: pd.DatetimeIndex
    days: np.ndarray  # datetime64[D]

    @classmethod
    def of_bars(cls, bars: pd.DataFrame) -> BarDays | None:
        """The days of a frame of bars indexed by time with a ``trading_day`` column
        (None for any other frame, or one with a bar without its day)."""
        if not isinstance(bars.index, pd.DatetimeIndex) or "trading_day" not in bars.columns:
            return None
        days = bars["trading_day"].to_numpy()
        if days.dtype.kind != "M" or np.isnat(days).any():
            return None
        return cls(bars.index, days.astype("datetime64[D]"))

    def days_of(self, times: pd.DatetimeIndex) -> np.ndarray | None:
        """The days of ``times`` if they are exactly these bars' times, else None."""
        same = times.dtype == self.times.dtype and len(times) == len(self.times)
        if same and np.array_equal(times.asi8, self.times.asi8):
            return self.days
        return None


def basket_tape(
    packages: pd.DataFrame,
    spec: InstrumentSpec,
    sizing: SizingParams,
    calendar: TradingCalendar,
    source: str,
    need_open: bool,
    schedule: RollSchedule | None = None,
    market: MarketParams | None = None,
    bar_days: BarDays | None = None,
) -> BasketTape:
    """One basket's packages as Tier-2 reads them. ``bar_days``: the trading days of the
    bars Tier-1 made the packages of, taken where the packages' times are those bars';
    other packages (a user's) are placed on ``calendar``, and each must lie in a session."""
    times = pd.DatetimeIndex(packages["time"])
    day = None if bar_days is None else bar_days.days_of(times)
    if day is None:
        day = placed_days(times, spec, calendar, source)
    close = packages["close"].to_numpy(dtype=np.float64)
    if "open" in packages.columns:
        open_ = packages["open"].to_numpy(dtype=np.float64)
    elif need_open:
        raise DataError(source, "packages have no open price; fill = 'next_open' needs it")
    else:
        open_ = close
    try:
        open_units, close_units = price_units_array(open_), price_units_array(close)
    except PriceError as exc:
        raise DataError(source, f"{spec.key}: {exc}") from None
    signal = packages["signal"].to_numpy(dtype=np.int8)
    confidence = packages["confidence"].to_numpy(dtype=np.float64)
    strength = packages["signal_strength"].to_numpy(dtype=np.float64)
    conv = conviction(confidence, strength, sizing)
    contract = None
    if "contract" in packages.columns and packages["contract"].notna().all():
        contract = packages["contract"].astype(str).tolist()
        if schedule is None:  # Tier-2 alone: the rolls are where the contract changes
            frame = pd.DataFrame(
                {"open": open_, "close": close, "contract": contract, "trading_day": day},
                index=times,
            )
            schedule = roll_data.schedule_from_contracts(frame)
    elif schedule:  # Tier-2 alone on packages without contracts: the given rolls name them
        days = pd.DataFrame({"trading_day": day})
        contract = roll_data.contracts_for_bars(days, schedule).tolist()
    facts = None
    if market is not None and market.any:
        facts = basket_market(packages, spec, day, contract, close_units, market, source)
    return BasketTape(
        spec,
        times,
        day,
        open_units,
        close_units,
        signal,
        confidence,
        strength,
        packages["regime"].to_numpy(dtype=np.int8),
        episodes(signal),
        conv,
        np.zeros(len(times), dtype=np.int64),
        contract,
        roll_points(day, schedule),
        facts,
    )


def placed_days(
    times: pd.DatetimeIndex, spec: InstrumentSpec, calendar: TradingCalendar, source: str
) -> np.ndarray:
    """The trading day of packages at ``times``, each checked to lie in a session."""
    try:
        day, segment, hours = place_and_locate(times, spec, calendar, length=15)
    except CalendarError as exc:
        raise DataError(source, f"{spec.key}: {exc}") from None
    if (segment < 0).any():
        first = int(np.argmax(segment < 0))
        bad = times[first]
        where = f"package at {bad:%Y-%m-%d %H:%M} of {spec.key}"
        if hours[first] >= 0:  # in the instrument's hours, on a day or evening without them
            raise DataError(source, f"{where} is not in a trading session: "
                            f"{closed_reason(bad, calendar)}")  # fmt: skip
        raise DataError(source, f"{where} is outside its sessions ({spec.sessions.describe()})")
    return day


def roll_points(days: np.ndarray, schedule: RollSchedule | None) -> dict[int, Roll]:
    """The first bar of each roll's trading day (or the first bar after it); rolls before
    the first bar's day or after the data are not in the data and are left out."""
    points: dict[int, Roll] = {}
    if not schedule:
        return points
    for roll in schedule:
        day = np.datetime64(roll.trading_day, "D")
        bar = int(np.searchsorted(days, day))
        if 0 < bar < len(days):
            if bar in points:
                raise DataError(
                    "<rolls>",
                    f"rolls {points[bar].old_contract} -> {points[bar].new_contract} and "
                    f"{roll.old_contract} -> {roll.new_contract} fall on the same bar "
                    f"({days[bar]}): the data has no bar between them",
                )
            points[bar] = roll
    return points


def build_tape(baskets: list[BasketTape], reserve_target: Callable) -> Tape:
    """The baskets' packages on one time axis; ``reserve_target(chaos, average
    conviction)`` is Tier-2's rule for the cash-reserve target, applied to every step."""
    all_times, steps = sorted_union([b.time_ns for b in baskets])
    n = len(all_times)
    bar_at = np.full((len(baskets), n), -1, dtype=np.int64)
    latest = np.empty((len(baskets), n), dtype=np.int64)  # every row accumulated below
    # Every step is some basket's bar, so each step's day is written below.
    trading_day = np.empty(n, dtype="datetime64[D]")
    # Each basket's latest regime, signal and conviction at every step, for Tier-2's
    # portfolio view of every step at once (the packages alone decide it).
    regimes, signals, convictions = [], [], []
    for i, b in enumerate(baskets):
        b.step = steps[i]
        bar_at[i][b.step] = np.arange(len(b.step))  # the row's view: numpy's simpler path
        if n:
            np.maximum.accumulate(bar_at[i], out=latest[i])
        trading_day[b.step] = b.trading_day
        regimes.append(_at_latest(b.regime, latest[i], NO_REGIME))
        signals.append(_at_latest(b.signal, latest[i], 0))
        convictions.append(_at_latest(b.conviction, latest[i], 0.0))
    chaos = chaos_count(regimes)
    average = average_conviction(signals, convictions)
    tz = baskets[0].time.tz if baskets else None
    times = pd.DatetimeIndex(all_times.view("datetime64[ns]"), tz="UTC").tz_convert(tz)
    targets = reserve_target(chaos, average)
    return Tape(times, trading_day, baskets, bar_at, latest, chaos, average, targets)


def _at_latest(values: np.ndarray, latest: np.ndarray, none) -> np.ndarray:
    """``values`` (a basket's column) at each step's latest bar, in their dtype, and
    ``none`` (no bar yet) before the first bar. ``latest`` never falls, so the steps
    before the first bar (-1) are a prefix."""
    before = int(np.searchsorted(latest, 0))
    if before == len(latest):
        return np.full(len(latest), none, dtype=values.dtype)
    # "wrap" takes -1 as the last bar (overwritten below) and skips the bounds check,
    # which costs about a fifth of a take: every index is a bar or -1.
    out = values.take(latest, mode="wrap")
    out[:before] = none
    return out


def sorted_union(stamps: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct values of sorted int64 arrays, sorted (``np.unique`` of their
    concatenation), and where each array's values lie in them. A stable argsort merges
    the sorted runs (``np.unique``'s hashing costs tens of times more on a ten-year
    series), and its order places each value without a binary search per value. The
    places are worked out in the buffers of the joined and merged values, which are not
    needed by then: a fresh array of this length costs a page fault every 512 values."""
    if not stamps:
        return np.array([], dtype=np.int64), []
    joined = np.concatenate(stamps)
    order = np.argsort(joined, kind="stable")
    merged = joined.take(order, mode="wrap")  # every index in range: no check
    first = np.empty(len(merged), dtype=bool)
    first[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
    # compress: the values where ``first`` is set, as ``merged[first]`` in a third the time
    union = merged.compress(first)
    # Each merged value's place in the union: the new values after the first up to it.
    first[:1] = False
    place = merged
    place[:] = first
    np.add.accumulate(place, out=place)  # in place: a bool's cumsum costs twice as much
    position = joined
    position[order] = place
    ends = np.cumsum([len(s) for s in stamps])[:-1]
    return union, np.split(position, ends)
