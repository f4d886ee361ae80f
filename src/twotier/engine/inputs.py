"""Loading a run's inputs: bar files for each instrument, resampled to 15 minutes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from twotier.config.model import Config
from twotier.market.bars import LoadedBars, read_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import InstrumentRegistry, default_registry
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import RollSchedule, read_schedule
from twotier.market.validation import Hints


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
    contract_column: str | None = None,
    hints: Hints | None = None,
) -> dict[str, BarInput]:
    """Read, validate and resample each instrument's file (1-, 5- or 15-minute bars).
    ``hints``: how a refusal names the options (paper trading has its own)."""
    result = {}
    for instrument, path in files.items():
        loaded = read_bars(
            path,
            env.instruments[instrument],
            label=label or config.data.label,
            on_bad_bar=on_bad_bar or config.data.on_bad_bar,
            calendar=env.calendar,
            contract_column=contract_column or config.data.contract_column,
            auction=config.data.auction,
            night_date=config.data.night_date,
            hints=hints,
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
