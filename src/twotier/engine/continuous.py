"""Continuous contracts in a run (RULES.md 9): which rolls apply to each instrument, the
back-adjusted series Tier-1 sees, the raw prices and contracts the packages carry, and a
warning when a series without roll information jumps like a roll."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from twotier.config.model import Config
from twotier.market import rolls as roll_data
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.delivery import deadline_warnings
from twotier.market.rolls import RollSchedule
from twotier.tier1.generator import SignalGenerator
from twotier.tier1.package import MARKET_COLUMNS  # what a package carries of its bar


def schedule_for(
    frame: pd.DataFrame,
    given: RollSchedule | None,
    product: str | None = None,
    source: str = "roll schedule",
) -> RollSchedule | None:
    """The rolls of one instrument: a given schedule (refused when it names contracts of
    another product than ``product``), else those of a contract column."""
    if given is not None:
        roll_data.validate_schedule(given, source, product)
        return given
    if "contract" in frame.columns:
        return roll_data.schedule_from_contracts(frame)
    return None


def instrument_packages(
    generator: SignalGenerator,
    frame: pd.DataFrame,
    schedule: RollSchedule | None,
    method: str,
    market: bool,
) -> pd.DataFrame:
    """``causal_signals``, then ``with_traded_prices`` and, where the market rules are on
    (``market``), ``with_market_columns``. A series without rolls or contracts (a run's
    usual one) has its frame made once, of the generator's columns and the bar columns:
    ``assign`` copies the frame, then checks, copies and inserts each column given."""
    contracts = roll_data.traded_contracts(frame, schedule)
    if schedule or contracts is not None:
        packages = with_traded_prices(
            causal_signals(generator, frame, schedule, method), frame, schedule
        )
        return with_market_columns(packages, frame) if market else packages
    columns = generator.columns(frame)
    if market:  # copies, as assign makes them
        columns.update({c: frame[c].to_numpy(copy=True) for c in market_columns(frame)})
    return pd.DataFrame(columns, copy=False)


def market_columns(frame: pd.DataFrame) -> list[str]:
    """The bar columns Tier-2's market rules read that the bars have."""
    return [c for c in MARKET_COLUMNS if c in frame.columns]


def causal_signals(
    generator: SignalGenerator, frame: pd.DataFrame, schedule: RollSchedule | None, method: str
) -> pd.DataFrame:
    """Packages computed, at every bar, on the history as it stood at that bar,
    back-adjusted to the contract traded then (RULES.md 9): indicators never see a
    splice, and no bar's values depend on a roll still to come. This is exactly what the
    one-bar-at-a-time form computes live, where each roll re-adjusts the history."""
    located = roll_data.located_rolls(frame, schedule) if schedule else []
    if not located:
        return generator.run(frame)
    starts = [0, *(bar for bar, _ in located)]
    ends = [*starts[1:], len(frame)]
    pieces = []
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        known = RollSchedule(tuple(roll for _, roll in located[:k]))
        history = roll_data.back_adjust(frame.iloc[:b], known, method) if k else frame.iloc[:b]
        pieces.append(generator.run(history).iloc[a:b])
    return pd.concat(pieces, ignore_index=True)


def with_traded_prices(
    packages: pd.DataFrame, frame: pd.DataFrame, schedule: RollSchedule | None
) -> pd.DataFrame:
    """Package open/close are the raw prices of the contract Tier-2 trades at each bar;
    the contract column names it, where the rolls or the bars name one."""
    contracts = roll_data.traded_contracts(frame, schedule)
    if contracts is None:
        return packages
    if schedule:  # the generator saw back-adjusted prices
        packages = packages.assign(open=frame["open"].to_numpy(), close=frame["close"].to_numpy())
    return packages.assign(contract=contracts)


def with_market_columns(packages: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The packages with the bars' raw high and low, and settle and limit columns where
    the bars have them (the market rules of RULES.md 10 read them)."""
    extra = {c: frame[c].to_numpy() for c in market_columns(frame)}
    return packages.assign(**extra)


def suspected_roll_warnings(
    bars: Mapping[str, pd.DataFrame], schedules: Mapping[str, RollSchedule | None], config: Config
) -> list[str]:
    """One warning per instrument whose series has jumps that look like rolls while no
    roll information was given (they count as real P&L in such a run)."""
    if not config.rolls.warn_suspected:
        return []
    warnings = []
    for instrument, frame in bars.items():
        if schedules.get(instrument) is not None:
            continue
        found = roll_data.suspected_rolls(frame, config.rolls.detect_atr_multiple)
        if found:
            days = ", ".join(str(s.trading_day) for s in found)
            warnings.append(
                f"{instrument}: {len(found)} suspected roll(s) without roll information "
                f"(jumps over {config.rolls.detect_atr_multiple:g} ATRs at a session open on "
                f"{days}); they count as real P&L. Give --rolls or a contract column "
                "(docs/rolls.md)."
            )
    return warnings


def delivery_warnings(
    bars: Mapping[str, pd.DataFrame],
    schedules: Mapping[str, RollSchedule | None],
    config: Config,
    calendar: TradingCalendar | None = None,
) -> list[str]:
    """One warning per contract that an instrument's roll information keeps on or after
    its delivery deadline (RULES.md 11), when the deadline is on."""
    if not config.contracts.delivery_deadline:
        return []
    calendar = calendar or default_calendar()
    warnings = []
    for instrument, frame in bars.items():
        schedule = schedules.get(instrument)
        contracts = roll_data.traded_contracts(frame, schedule)
        if contracts is None or frame.empty:
            continue
        given = schedule is not None and not schedule.from_column
        source = "roll schedule" if given else "contract column"
        warnings += deadline_warnings(
            instrument,
            contracts,
            frame["trading_day"].to_numpy(),
            calendar,
            config.contracts.exit_days_before_delivery,
            source,
        )
    return warnings
