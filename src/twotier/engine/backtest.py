"""Running a backtest: packages (or bars, through Tier-1) -> Tier-2 -> results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import date, datetime

import numpy as np
import pandas as pd

from twotier.broker import Broker, simulated_broker
from twotier.collector import collector_paused
from twotier.config.baskets import in_basket_order
from twotier.config.model import Config
from twotier.engine.continuous import (
    delivery_warnings,
    instrument_packages,
    schedule_for,
    suspected_roll_warnings,
)
from twotier.engine.events import run_events
from twotier.engine.tape import BarDays, BasketTape, Tape, basket_tape, build_tape
from twotier.errors import ConfigError, DataError
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.instruments import InstrumentRegistry, default_registry
from twotier.market.plausible import off_tick_warning, price_range_warning
from twotier.market.rolls import RollSchedule
from twotier.run.result import (
    FILL_COLUMNS,
    TRADE_COLUMNS,
    BacktestResult,
    DecisionColumns,
    frame,
    summarize,
    table,
)
from twotier.tier1.generator import generator_for
from twotier.tier2.book import pnl_in_cents
from twotier.tier2.composite import Composite
from twotier.tier2.deadlines import Deadlines
from twotier.tier2.state import PortfolioState

Progress = Callable[[str, int, int], None]  # (phase "tier1" | "tier2", done, total)
SignalsHook = Callable[[dict[str, pd.DataFrame], Config], None]  # Tier-1's packages, config


def generate_signals(
    bars: Mapping[str, pd.DataFrame],
    config: Config,
    rolls: Mapping[str, RollSchedule | None] | None = None,
    progress: Progress | None = None,
) -> dict[str, pd.DataFrame]:
    """Tier-1 for each basket's instrument (whole-series form), on series back-adjusted
    across rolls where roll information is given (RULES.md 9)."""
    packages = {}
    for n, instrument in enumerate(config.instruments, start=1):
        if instrument not in bars:
            raise ConfigError(f"no bars given for basket instrument {instrument}")
        schedule = (rolls or {}).get(instrument)
        packages[instrument] = instrument_signals(instrument, bars[instrument], config, schedule)
        if progress is not None:
            progress("tier1", n, len(config.instruments))
    return packages


def instrument_signals(
    instrument: str, frame: pd.DataFrame, config: Config, schedule: RollSchedule | None = None
) -> pd.DataFrame:
    """One instrument's packages: its generator over the series back-adjusted across any
    rolls, carrying the raw prices and contract traded at each bar."""
    schedule = schedule_for(frame, schedule)
    generator = generator_for(config, instrument)
    # config.market.any: what Tier-2's market rules read of each bar (RULES.md 10)
    return instrument_packages(
        generator, frame, schedule, config.rolls.adjust, market=config.market.any
    )


def split_packages(table: pd.DataFrame, config: Config, source: str) -> dict[str, pd.DataFrame]:
    """One validated package table (any number of instruments) -> one table per basket."""
    result = {}
    for instrument in config.instruments:
        mine = table[table["instrument"] == instrument].reset_index(drop=True)
        if mine.empty:
            raise DataError(source, f"no packages for basket instrument {instrument}")
        result[instrument] = mine
    return result


@collector_paused()  # the whole run: making the tapes and the tables too (see events.py)
def run_tier2(
    packages: Mapping[str, pd.DataFrame],
    config: Config,
    *,
    instruments: InstrumentRegistry | None = None,
    calendar: TradingCalendar | None = None,
    start=None,
    end=None,
    source: str = "<packages>",
    every_step: bool = False,
    rolls: Mapping[str, RollSchedule | None] | None = None,
    progress: Progress | None = None,
    broker: Broker | None = None,
    shared: SharedTapes | None = None,
    decision_log: bool = True,
    bar_days: Mapping[str, BarDays] | None = None,
) -> BacktestResult:
    """Tier-2 over packages (one table per basket instrument). Rolls come from ``rolls``
    or from the packages' contract column. ``broker``: the configuration's simulated
    broker unless given (one with another slippage model, say). ``shared``: tapes kept
    from earlier runs over the same packages, rolls, instruments and calendar (a sweep's
    batch of parameter sets). ``decision_log=False`` (a sweep's runs): the decision log is
    neither written nor kept; ``decisions`` is then empty and the summary has no
    ``market`` counts (RULES.md 10.5 counts them from the log); everything else is as it
    would be. ``bar_days``: the trading days the loader gave the bars Tier-1 made the
    packages of (``BarDays.of_bars``, on this run's calendar and instruments): packages
    at those bars' times take them rather than being placed on the calendar again."""
    registry = instruments or default_registry()
    calendar = calendar or default_calendar()
    specs = [registry[k] for k in config.instruments]
    shared = shared or SharedTapes()
    tapes = [
        shared.basket(config, i, lambda i=i, s=s: basket_tape(
            packages[s.key],
            s,
            config.basket_sizing(i),
            calendar,
            source,
            need_open=config.execution.fill == "next_open",
            schedule=(rolls or {}).get(s.key),
            market=config.market,
            bar_days=(bar_days or {}).get(s.key),
        ))
        for i, s in enumerate(specs)
    ]  # fmt: skip
    settlements = [t.market.settlements if t.market else None for t in tapes]
    composite = Composite(
        config,
        specs,
        broker or simulated_broker(config, specs),
        settlements if all(settlements) else None,
        Deadlines(calendar, config.contracts),
    )
    tape = shared.tape(config, lambda: build_tape(tapes, composite.reserve_target))
    start, end = trading_period(start, end)
    first = tape.first_step_on_or_after(start) if start is not None else 0
    last = tape.last_step_on_or_before(end) if end is not None else len(tape) - 1
    if first > last:
        days = tape.trading_day
        raise ConfigError(
            f"no trading step from {start or 'the start'} to {end or 'the end'}: the data's "
            f"trading days run from {days[0]} to {days[-1]}"
        )
    composite.journal.log_decisions = decision_log
    state = composite.new_state()
    if first > 0:  # bars before the start only warm up (RULES.md 8.32)
        composite.start(state, tape.latest_packages(first - 1))
    if every_step:
        for k in range(first, last + 1):
            composite.step(state, tape.step_input(k))
    else:
        run_events(composite, state, tape, first, last, progress)
    composite.finish(state)
    result = collect(composite, state, config, packages)
    result.warnings.extend(idle_basket_warnings(tape, config, first, last))
    result.warnings.extend(note for t in tapes if t.market for note in t.market.notes)
    return result


def idle_basket_warnings(tape: Tape, config: Config, first: int, last: int) -> list[str]:
    """A warning for each basket without a bar from step ``first`` to ``last``: its bars
    all lie outside the period traded, so it trades nothing."""
    period = f"{tape.trading_day[first]} to {tape.trading_day[last]}"
    warnings = []
    for i, instrument in enumerate(config.instruments):
        if (tape.bar_at[i, first : last + 1] < 0).all():
            days = tape.baskets[i].trading_day
            bars = (
                f"its bars run from {days[0]} to {days[-1]}" if len(days) else "its bars come later"
            )
            warnings.append(
                f"{instrument}: no bar from {period} ({bars}): its basket trades nothing"
            )
    return warnings


class SharedTapes:
    """Tapes made for one run and reused by later runs over the same packages, rolls,
    instruments and calendar whose configuration shapes them alike: a sweep's sets that
    differ only in Tier-2 keys share the tape, its day index, the market arrays and the
    arrays the exit scans read, and the packages made of its bars. A tape is never changed
    by a run (Tier-2 reads it; a package is kept as made; the event planner keeps its own
    state), so sharing it leaves every result as it was."""

    def __init__(self):
        self._made: dict[tuple, object] = {}

    def basket(self, config: Config, i: int, make: Callable[[], BasketTape]) -> BasketTape:
        """Basket ``i``'s tape: its conviction uses the basket's sizing weights (and no
        other sizing key: sets that differ in thresholds, tiers or leverage share it), its
        market arrays the market rules, and its steps the set of baskets."""
        sizing = config.basket_sizing(i)
        key = (
            "basket", tuple(config.instruments), i, sizing.confidence_weight,
            sizing.strength_weight, config.execution.fill, repr(config.market),
        )  # fmt: skip
        return self._get(key, make)

    def tape(self, config: Config, make: Callable[[], Tape]) -> Tape:
        """The baskets on one time axis: its reserve targets follow the limits and the
        leverage mode."""
        baskets = tuple(repr(config.basket_sizing(i)) for i in range(len(config.instruments)))
        key = (
            "tape", tuple(config.instruments), baskets, config.execution.fill,
            repr(config.market), repr(config.limits), config.sizing.leverage_mode,
            config.portfolio.reserve_fraction(),
        )  # fmt: skip
        return self._get(key, make)

    def _get(self, key: tuple, make: Callable):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


def trading_period(start, end) -> tuple[date | None, date | None]:
    """``start`` and ``end`` (days as text, dates or timestamps) as dates, checked: real
    days, the start not after the end."""
    days = [_day(value, name) for value, name in ((start, "start"), (end, "end"))]
    if None not in days and days[0] > days[1]:
        raise ConfigError(f"start {days[0]} is after end {days[1]}")
    return days[0], days[1]


def _day(value, name: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    stamp = pd.NaT
    # A number is no day: pandas reads 20230301 as nanoseconds after 1970.
    if isinstance(value, str | datetime | np.datetime64):
        with suppress(ValueError, TypeError, OverflowError):
            stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ConfigError(f"{name} {value!r} is not a day (YYYY-MM-DD)")
    return stamp.date()


def collect(
    composite: Composite, state: PortfolioState, config: Config, packages
) -> BacktestResult:
    journal = composite.journal
    rows = journal.trades + composite.open_trades(state)
    gross, net = pnl_in_cents(rows)
    trades = frame(rows, TRADE_COLUMNS, {"gross_pnl": gross, "net_pnl": net})
    waits = ("bars_waited",) if config.market.any else ()  # RULES.md 10.5
    fills = frame(journal.fills, (*FILL_COLUMNS, *waits))
    equity = composite.recorder.frame()
    lines = journal.decisions
    said = DecisionColumns(
        [d.time_ns for d in lines], [d.kind for d in lines], [d.reason for d in lines]
    )
    decisions = table(
        {
            "time": said.time,
            "kind": said.kind,
            "basket": [d.basket for d in lines],
            "reason": said.reason,
            "text": [d.text for d in lines],
        }
    )
    # no log, no market counts (read from the journal's lists rather than the table)
    logged = said if journal.log_decisions else None
    summary = summarize(
        config, config.instruments, trades, fills, equity, logged, composite.waiting_at_end
    )
    return BacktestResult(config, dict(packages), trades, fills, equity, decisions, summary)


def run_backtest(
    bars: Mapping[str, pd.DataFrame],
    config: Config,
    *,
    instruments: InstrumentRegistry | None = None,
    calendar: TradingCalendar | None = None,
    start=None,
    end=None,
    every_step: bool = False,
    rolls: Mapping[str, RollSchedule | None] | None = None,
    progress: Progress | None = None,
    on_signals: SignalsHook | None = None,
) -> BacktestResult:
    """Bars (15-minute, one DataFrame per instrument) through Tier-1 and Tier-2, with
    roll information per instrument where the series is spliced from several contracts.
    The bars are loaded ones (``load_bar_files``): their ``trading_day`` column, which
    the loader found on ``calendar`` with each bar in a session, is taken as it is (for
    the period, the rolls and Tier-2's steps). ``on_signals``: called with Tier-1's
    packages (the result's) and the configuration before Tier-2 runs (the CLI starts
    encoding the run folder's signal files then)."""
    bars = in_basket_order(bars, config)
    start, end = trading_period(start, end)
    if end is not None:
        cut = {k: v[v["trading_day"].dt.date <= end] for k, v in bars.items()}
        if all(cut[k].empty for k in config.instruments if k in cut):
            first = min(v["trading_day"].iloc[0].date() for v in bars.values() if len(v))
            raise ConfigError(f"end {end} is before the data's first trading day {first}")
        # An instrument whose bars all come later keeps them: its basket trades nothing in
        # the period, and its packages (the run folder's signals file, which --signals
        # reads back) are not an empty table.
        bars = {k: v if len(v) else bars[k] for k, v in cut.items()}
    registry = instruments or default_registry()
    schedules = {
        k: schedule_for(
            bars[k],
            (rolls or {}).get(k),
            registry[k].product if k in registry else None,
            f"roll schedule of {k}",
        )
        for k in config.instruments
    }
    packages = generate_signals(bars, config, schedules, progress)
    if on_signals is not None:
        on_signals(packages, config)
    days = {k: BarDays.of_bars(bars[k]) for k in config.instruments}
    result = run_tier2(
        packages,
        config,
        instruments=instruments,
        calendar=calendar,
        start=start,
        end=end,
        every_step=every_step,
        rolls=schedules,
        progress=progress,
        bar_days={k: d for k, d in days.items() if d is not None},
    )
    for key, given in bars.items():
        if key in registry:
            result.warnings.extend(price_range_warning(given, registry[key], key))
            result.warnings.extend(off_tick_warning(given, registry[key], key))
    result.warnings.extend(suspected_roll_warnings(bars, schedules, config))
    result.warnings.extend(delivery_warnings(bars, schedules, config, calendar))
    return result
