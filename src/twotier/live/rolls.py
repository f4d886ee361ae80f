"""Roll information in a paper run (RULES.md 9), bar by bar.

An instrument's rolls come from a schedule given in advance (``--rolls``) or from the
contract column of its bars (``--contract-column``); a schedule wins, as in a backtest
(``twotier.engine.continuous.schedule_for``). Each 15-minute bar given to Tier-1 gets its
contract and, on the first bar of a roll's trading day, the roll, by the rules a backtest
applies to the whole series (docs/rolls.md):

- a schedule: ``contracts_for_bars`` and ``located_rolls`` (a roll takes effect at the
  first bar on or after its trading day; one on or before the first bar's day is outside
  the data);
- a contract column: ``schedule_from_contracts`` (a roll wherever the contract changes,
  at the old contract's last close and the new one's first open), known when the first
  bar of the new contract arrives.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from twotier.engine.inputs import product_of
from twotier.errors import ConfigError, DataError
from twotier.live.bars import Bar
from twotier.market.instruments import InstrumentRegistry
from twotier.market.rolls import Roll, RollSchedule, read_schedule


class RollTracker(Protocol):
    names_contracts: bool  # whether packages carry a contract (a signals column)

    def next(self, bar: Bar) -> tuple[str | None, Roll | None]:
        """The bar's contract, and the roll that takes effect at it (if any)."""
        ...


class ScheduleRolls:
    """Rolls of a schedule given in advance."""

    def __init__(self, schedule: RollSchedule):
        self.rolls = schedule.rolls
        self.days = [roll.trading_day for roll in self.rolls]
        first = [self.rolls[0].old_contract] if self.rolls else []
        self.names = first + [roll.new_contract for roll in self.rolls]
        self.names_contracts = bool(self.rolls)  # an empty schedule names no contract
        self.reached = 0  # rolls whose trading day is on or before the last bar's
        self.started = False

    def next(self, bar: Bar) -> tuple[str | None, Roll | None]:
        reached = bisect.bisect_right(self.days, bar.trading_day)
        new = self.rolls[self.reached : reached]
        self.reached = reached
        first, self.started = not self.started, True
        contract = self.names[reached] if self.names else None
        if first or not new:  # before the first bar, rolls are outside the data
            return contract, None
        if len(new) > 1:  # as the backtest refuses it (engine.tape.roll_points)
            a, b = new[0], new[1]
            raise DataError(
                "<rolls>",
                f"rolls {a.old_contract} -> {a.new_contract} and {b.old_contract} -> "
                f"{b.new_contract} fall on the same bar ({bar.trading_day}): the data has no "
                "bar between them",
            )
        return contract, new[0]


class ContractColumnRolls:
    """Rolls read off the contract of each bar."""

    names_contracts = True

    def __init__(self) -> None:
        self.previous: Bar | None = None
        self.replaced: dict[str, tuple[str, date]] = {}  # contract -> (by, from day)

    def next(self, bar: Bar) -> tuple[str | None, Roll | None]:
        if not bar.contract:
            raise DataError(bar.source, f"{bar.instrument}: the bar has no contract", bar.line)
        previous, self.previous = self.previous, bar
        if previous is None or bar.contract == previous.contract:
            return bar.contract, None
        old, new = str(previous.contract), bar.contract
        self._check(old, new, previous, bar)
        self.replaced[old] = (new, bar.trading_day)
        return new, Roll(bar.trading_day, old, new, previous.close, bar.open)

    def _check(self, old: str, new: str, previous: Bar, bar: Bar) -> None:
        """The contract column must describe a splice (``market.contracts.sequence_problem``),
        across the feed's batches too."""
        if new in self.replaced:
            by, day = self.replaced[new]
            problem = (
                f"contract {new} comes back after being replaced (by {by} from trading day {day})"
            )
        elif bar.trading_day == previous.trading_day:
            problem = (
                f"contract changes from {old} to {new} inside trading day {bar.trading_day}: "
                "a roll must take effect at the first bar of a trading day"
            )
        else:
            return
        raise DataError(bar.source, problem, bar.line)


@dataclass
class RollInfo:
    """A paper run's roll information, kept in the state database (meta ``rolls``)."""

    schedules: dict[str, RollSchedule] = field(default_factory=dict)
    contract_column: str | None = None  # of the feed and history files, for every instrument

    def tracker(self, instrument: str) -> RollTracker | None:
        """None: no roll information (nothing adjusted; suspected rolls are warned about)."""
        if instrument in self.schedules:
            return ScheduleRolls(self.schedules[instrument])
        if self.contract_column is not None:
            return ContractColumnRolls()
        return None

    def resumed_with(
        self,
        schedules: Mapping[str, RollSchedule],
        contract_column: str | None,
        last_days: Mapping[str, date],
    ) -> RollInfo:
        """This (stored) information with what a restart gives again. The contract column
        cannot change; a schedule may only gain rolls after the last bar processed (the
        next roll of a live run): the past stays as it was computed."""
        if contract_column is not None and contract_column != self.contract_column:
            raise ConfigError(
                f"the state folder was started with contract column {self.contract_column!r}, "
                f"not {contract_column!r}; resume without --contract-column, or use a new "
                "--state folder"
            )
        merged = dict(self.schedules)
        for key, schedule in schedules.items():
            merged[key] = extended(key, self.schedules.get(key), schedule, last_days.get(key))
        return RollInfo(merged, self.contract_column)


def extended(
    key: str, known: RollSchedule | None, given: RollSchedule, last_day: date | None
) -> RollSchedule:
    """A schedule given on restart: the stored one, or the stored one with rolls added
    after ``last_day``."""
    if given == known:
        return given
    before = known.rolls if known is not None else ()
    if not before or given.rolls[: len(before)] != before:
        raise ConfigError(
            f"--rolls for {key} differs from the schedule the state folder was started with; "
            "on restart a schedule may only add rolls at its end (or use a new --state folder)"
        )
    added = given.rolls[len(before)]
    if last_day is not None and added.trading_day <= last_day:
        raise ConfigError(
            f"--rolls for {key}: the roll of {added.trading_day} is not after the last bar "
            f"already processed (trading day {last_day}); a roll can only be added ahead"
        )
    return given


def read_roll_files(
    files: Mapping[str | None, Path],
    instruments: list[str],
    registry: InstrumentRegistry | None = None,
) -> dict[str, RollSchedule]:
    """{instrument: schedule} of ``--rolls`` files; the key None (``--rolls FILE``) is the
    only basket's instrument."""
    schedules: dict[str, RollSchedule] = {}
    for key, path in files.items():
        if key is None:
            if len(instruments) != 1:
                raise ConfigError(
                    f"--rolls {path}: say which instrument it is for (--rolls INSTRUMENT=FILE)"
                )
            key = instruments[0]
        if key not in instruments:
            raise ConfigError(f"--rolls for {key}: no basket trades it")
        if key in schedules:
            raise ConfigError(f"--rolls given twice for {key}")
        schedules[key] = read_schedule(path, product_of(key, registry))
    return schedules
