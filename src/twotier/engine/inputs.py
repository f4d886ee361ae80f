"""Loading a run's inputs: bar files for each instrument, resampled to 15 minutes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from twotier.config.model import Config
from twotier.errors import BarProblem, ConfigError
from twotier.market.bars import LoadedBars, merged_counts, read_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import InstrumentRegistry, default_registry
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import RollSchedule, read_schedule
from twotier.market.validation import Hints
from twotier.sorted_sets import distinct


@dataclass
class Environment:
    """Instruments and trading calendar of a run (shipped ones unless configured)."""

    instruments: InstrumentRegistry
    calendar: TradingCalendar

    @classmethod
    def from_config(cls, config: Config) -> Environment:
        from twotier.market.calendar import default_calendar

        data = config.data
        instruments = InstrumentRegistry.load(data.instruments_file)
        for i, key in enumerate(config.instruments):
            if key not in instruments:
                raise ConfigError(
                    f"portfolio.baskets.{i}: unknown instrument {key!r}; known instruments: "
                    f"{', '.join(sorted(instruments.keys()))} (describe another in "
                    "data.instruments_file: docs/data.md, 'Adding an instrument')"
                )
        calendar = (
            TradingCalendar.load(data.calendar_file) if data.calendar_file else default_calendar()
        )
        return cls(instruments, calendar)


@dataclass
class BarInput:
    loaded: LoadedBars
    bars: pd.DataFrame  # 15-minute bars


def load_bar_files(
    files: Mapping[str, str | Path],
    config: Config,
    env: Environment,
    label: str | None = None,
    on_bad_bar: str | None = None,
    contract_column: str | Mapping[str, str] | None = None,
    hints: Hints | None = None,
) -> dict[str, BarInput]:
    """Read, validate and resample each instrument's file (1-, 3-, 5- or 15-minute bars).
    ``contract_column``: one column name for every file, or one per instrument;
    ``hints``: how a refusal names the options (paper trading has its own)."""
    columns = contract_columns(contract_column, files)
    result = {}
    for instrument, path in files.items():
        loaded = read_bars(
            path,
            env.instruments[instrument],
            label=label or config.data.label,
            on_bad_bar=on_bad_bar or config.data.on_bad_bar,
            calendar=env.calendar,
            contract_column=columns.get(instrument) or config.data.contract_column,
            auction=config.data.auction,
            night_date=config.data.night_date,
            hints=hints,
            making=BAR_MINUTES,
        )
        bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes, BAR_MINUTES, str(path))
        result[instrument] = BarInput(loaded, bars)
    return result


def load_roll_files(
    files: Mapping[str, str | Path], instruments: InstrumentRegistry | None = None
) -> dict[str, RollSchedule]:
    """Each instrument's roll schedule file (docs/rolls.md); a schedule naming contracts
    of another product than its instrument's is refused."""
    return {
        instrument: read_schedule(path, product_of(instrument, instruments))
        for instrument, path in files.items()
    }


def product_of(instrument: str, instruments: InstrumentRegistry | None = None) -> str | None:
    """The product letters of an instrument (``DCE/i`` -> ``i``); None when unknown."""
    registry = instruments or default_registry()
    return registry[instrument].product if instrument in registry else None


def contract_columns(
    given: str | Mapping[str, str] | None, files: Mapping[str, object]
) -> dict[str, str]:
    """The contract column of each instrument's file: one name for all, or one each (an
    instrument without a file is an error, not ignored)."""
    if given is None:
        return {}
    if isinstance(given, str):
        return dict.fromkeys(files, given)
    unknown = [k for k in given if k not in files]
    if unknown:
        raise ConfigError(
            f"--contract-column {unknown[0]}={given[unknown[0]]}: no bars are given for "
            f"{unknown[0]} (instruments: {', '.join(files)})"
        )
    return dict(given)


def loading_notes(inputs: Mapping[str, BarInput]) -> list[str]:
    """What the loader changed: one line per bar dropped or repaired (``on_bad_bar`` drop
    or repair), one per file whose auction bars or closing ticks it folded in."""
    lines = []
    for instrument, given in inputs.items():
        loaded, source = given.loaded, given.loaded.source
        lines += [
            f"{instrument} {source}: dropped line {p.line}: {p.problem}" for p in loaded.dropped
        ]
        lines += [f"{instrument} {source}: line {p.line}: {p.problem}" for p in loaded.repaired]
        if loaded.merged:
            auctions, ticks = merged_counts(loaded.merged)
            lines.append(
                f"{instrument} {source}: {auctions} auction bar(s) and {ticks} closing tick(s) "
                f"folded into their sessions' bars (data.auction = merge), the first at line "
                f"{loaded.merged[0].line}"
            )
    return lines


class WhatWasRead(Protocol):
    """What the loader did with an instrument's bars: ``LoadedBars`` of a file, or a
    paper feed's ``twotier.live.bars.FeedRecord``."""

    source: str
    dropped: list[BarProblem]
    repaired: list[BarProblem]
    merged: list[BarProblem]


def bad_bar_record(loaded: Mapping[str, WhatWasRead]) -> dict:
    """The bars the loader dropped or repaired, as a run's summary keeps them."""
    record = {}
    for instrument, read in loaded.items():
        if read.dropped or read.repaired:
            record[instrument] = {
                "file": read.source,
                "dropped": [{"line": p.line, "problem": p.problem} for p in read.dropped],
                "repaired": [{"line": p.line, "problem": p.problem} for p in read.repaired],
            }
    return record


def merged_bar_record(loaded: Mapping[str, WhatWasRead]) -> dict:
    """The auction bars and closing ticks the loader folded in, as a run's summary keeps
    them (counts: a real file has two a day)."""
    record = {}
    for instrument, read in loaded.items():
        if read.merged:
            auctions, ticks = merged_counts(read.merged)
            record[instrument] = {
                "file": read.source,
                "auction_bars": auctions,
                "closing_ticks": ticks,
                "first_line": read.merged[0].line,
            }
    return record


def loading_records(loaded: Mapping[str, WhatWasRead]) -> dict:
    """``bad_bars`` and ``merged_bars`` of a run's summary, where there are any."""
    records = {"bad_bars": bad_bar_record(loaded), "merged_bars": merged_bar_record(loaded)}
    return {key: record for key, record in records.items() if record}


def shared_days_warnings(bars: Mapping[str, pd.DataFrame]) -> list[str]:
    """A warning for each two instruments whose bars share no trading day: their baskets
    never trade in the same period, which is seldom what a portfolio run means."""
    days = {k: _trading_days(v) for k, v in bars.items() if len(v)}
    keys = list(days)
    warnings = []
    for n, a in enumerate(keys):
        for b in keys[n + 1 :]:
            if not np.intersect1d(days[a], days[b], assume_unique=True).size:
                warnings.append(
                    f"the bars of {a} ({_span(days[a])}) and {b} ({_span(days[b])}) share no "
                    "trading day: their baskets never trade in the same period"
                )
    return warnings


def _trading_days(bars: pd.DataFrame) -> np.ndarray:
    """The sorted distinct trading days (datetime64[D]) of a frame of bars: numpy's days,
    not a set of ``date`` objects, which costs ten times as much on ten years of bars.
    Bars come a day at a time, so a day repeated on the next bar is dropped first: unique
    then converts and sorts a few thousand days rather than every bar (in any order, the
    same days)."""
    days = bars["trading_day"].to_numpy()
    changes = np.ones(len(days), dtype=bool)
    changes[1:] = days[1:] != days[:-1]
    return distinct(days[changes].astype("datetime64[D]"))


def _span(days: np.ndarray) -> str:
    return f"{days[0]} to {days[-1]}"
