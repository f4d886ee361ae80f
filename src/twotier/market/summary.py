"""What ``twotier data check`` reports about a file of bars."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twotier.errors import BarProblem
from twotier.market.bars import LoadedBars
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.delivery import deadline_warnings
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import (
    SUSPECTED_ROLL_ATRS,
    Roll,
    RollSchedule,
    SuspectedRoll,
    contracts_for_bars,
    located_rolls,
    schedule_from_contracts,
    suspected_rolls,
    traded_contracts,
)
from twotier.market.sessions import NIGHT_START_MINUTE, session_minutes


@dataclass
class SessionCount:
    segment: str
    night: bool
    bars: int
    days: int


@dataclass
class DataSummary:
    source: str
    instrument: str
    bar_minutes: int
    rows: int
    first_bar: pd.Timestamp
    last_bar: pd.Timestamp
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    trading_days: int
    calendar_trading_days: int
    missing_days: list[pd.Timestamp]
    incomplete_days: int
    intraday_gaps: int
    sessions: list[SessionCount]
    dropped: list[BarProblem] = field(default_factory=list)
    repaired: list[BarProblem] = field(default_factory=list)
    merged: list[BarProblem] = field(default_factory=list)  # auction bars, closing ticks
    warnings: list[str] = field(default_factory=list)
    # Roll information (a schedule file or a contract column), or None without any ...
    roll_source: str | None = None
    rolls: list[Roll] = field(default_factory=list)
    roll_times: list[pd.Timestamp | None] = field(default_factory=list)  # None: not in the data
    # ... in which case the jumps that look like rolls, on bars of ``suspect_minutes``.
    suspected_rolls: list[SuspectedRoll] = field(default_factory=list)
    suspect_atrs: float = SUSPECTED_ROLL_ATRS
    suspect_minutes: int = BAR_MINUTES

    def rolls_dict(self) -> dict | None:
        if self.roll_source is None:
            return None
        return {
            "source": self.roll_source,
            "rolls": [
                {
                    "trading_day": str(r.trading_day),
                    "old_contract": r.old_contract,
                    "new_contract": r.new_contract,
                    "old_price": r.old_price,
                    "new_price": r.new_price,
                    "ratio": r.ratio,
                    "bar": None if bar is None else str(bar),
                }
                for r, bar in zip(self.rolls, self.roll_times, strict=True)
            ],
        }

    def suspected_dict(self) -> dict | None:
        if self.roll_source is not None:
            return None  # roll information given: nothing to suspect
        return {
            "atr_multiple": self.suspect_atrs,
            "bar_minutes": self.suspect_minutes,
            "found": [
                {
                    "time": str(s.time),
                    "trading_day": str(s.trading_day),
                    "previous_time": str(s.previous_time),
                    "previous_close": s.previous_close,
                    "open": s.open,
                    "atrs": round(s.atrs, 2),
                }
                for s in self.suspected_rolls
            ],
        }

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "instrument": self.instrument,
            "bar_minutes": self.bar_minutes,
            "rows": self.rows,
            "first_bar": str(self.first_bar),
            "last_bar": str(self.last_bar),
            "first_trading_day": str(self.first_day.date()),
            "last_trading_day": str(self.last_day.date()),
            "trading_days": self.trading_days,
            "calendar_trading_days": self.calendar_trading_days,
            "missing_days": [str(d.date()) for d in self.missing_days],
            "incomplete_days": self.incomplete_days,
            "intraday_gaps": self.intraday_gaps,
            "sessions": [s.__dict__ for s in self.sessions],
            "dropped": [{"line": p.line, "problem": p.problem} for p in self.dropped],
            "repaired": [{"line": p.line, "problem": p.problem} for p in self.repaired],
            "merged": [{"line": p.line, "note": p.problem} for p in self.merged],
            "warnings": list(self.warnings),
            "rolls": self.rolls_dict(),
            "suspected_rolls": self.suspected_dict(),
        }


def night_gaps(spec, days, segment, unique_days, calendar: TradingCalendar) -> list[str]:
    """A warning when night sessions are missing on trading days that should have one:
    those whose previous trading day's evening has a night by the calendar (not the eve
    of a holiday, not an evening listed under ``no_night``)."""
    if not spec.sessions.has_night or len(unique_days) < 2:
        return []
    previous = calendar.previous_trading_day(unique_days[1:])
    expected = unique_days[1:][calendar.has_night(previous)]
    with_night = np.unique(days[spec.sessions.is_night(segment)])
    missing = np.setdiff1d(expected, with_night)
    if len(missing) == 0:
        return []
    shown = ", ".join(str(d) for d in missing[:5]) + (" ..." if len(missing) > 5 else "")
    return [
        f"no night session on {len(missing)} of {len(expected)} trading days whose previous "
        f"evening has one by the calendar: {shown}"
    ]


SHIFT_MIN_DAYS = 10  # trading days with a night and the day sessions around it, to judge


def shifted_nights(frame: pd.DataFrame, spec) -> list[str]:
    """A warning when night bars look dated with their trading day while read as dated with
    the calendar (``night_date``). Read as calendar dates, a night of trading day X ran
    after the day session of the day before (P) and before X's; a night dated with its
    trading day in fact ran one trading day earlier: after the day session of the day
    before P, and before P's. The prices tell which: each night's first open is compared
    with both closes, its last close with both opens."""
    if not spec.sessions.has_night or frame.empty:
        return []
    days = frame["trading_day"].to_numpy().astype("datetime64[D]")
    night = session_minutes(frame.index) >= NIGHT_START_MINUTE
    table = pd.DataFrame(
        {
            "day": days,
            "night": night,
            "open": frame["open"].to_numpy(),
            "close": frame["close"].to_numpy(),
        }
    )
    sessions = table.groupby(["day", "night"], sort=True).agg(
        open=("open", "first"), close=("close", "last")
    )
    if night.all() or not night.any():  # nothing to compare the nights with
        return []
    day = sessions.xs(False, level="night")
    nights = sessions.xs(True, level="night")
    order = list(day.index)
    position = {d: k for k, d in enumerate(order)}
    calendar_wins = shifted_wins = 0
    for x, row in nights.iterrows():
        k = position.get(x)
        if k is None or k < 2:
            continue
        p, pp = day.iloc[k - 1], day.iloc[k - 2]
        as_dated = abs(row["open"] - p["close"]) + abs(row["close"] - day.iloc[k]["open"])
        as_shifted = abs(row["open"] - pp["close"]) + abs(row["close"] - p["open"])
        calendar_wins += as_dated < as_shifted
        shifted_wins += as_shifted < as_dated
    judged = calendar_wins + shifted_wins
    if judged < SHIFT_MIN_DAYS or shifted_wins < 2 * calendar_wins:
        return []
    return [
        f"the night bars look dated with their trading day: on {shifted_wins} of {judged} "
        "days their prices follow the day session before the one the calendar puts them "
        "after; if the file dates nights with the trading day (DCE's ActionDay in CTP), read "
        "it with --night-date trading_day (data.night_date)"
    ]


def weekend_nights(dropped: list[BarProblem]) -> list[str]:
    """A warning when dropped night bars were dated on a weekend."""
    found = [p for p in dropped if p.kind == "weekend_night"]
    if not found:
        return []
    return [
        f"{len(found)} night bar(s) dated on a Saturday or Sunday were dropped (first: line "
        f"{found[0].line}): the file may date night bars with their trading day or the next "
        "day (--night-date trading_day reads a file that dates them with the trading day)"
    ]


def _detector_bars(loaded: LoadedBars) -> tuple[pd.DataFrame, int]:
    """The bars the roll detector looks at: 15-minute bars when the file's resample to
    them (as Tier-1 sees them), else the file's own."""
    width = loaded.bar_minutes
    if width < BAR_MINUTES and BAR_MINUTES % width == 0:
        frame = resample(loaded.frame, loaded.instrument, width, BAR_MINUTES, loaded.source)
        return frame, BAR_MINUTES
    return loaded.frame, width


def _contract_mismatch(frame: pd.DataFrame, schedule: RollSchedule) -> list[str]:
    """A warning when a contract column disagrees with a schedule given beside it (a
    schedule without rolls names no contract to disagree with)."""
    if not schedule:
        return []
    expected = contracts_for_bars(frame, schedule)
    differ = np.flatnonzero(expected != frame["contract"].to_numpy(dtype=str))
    if len(differ) == 0:
        return []
    i = int(differ[0])
    return [
        f"the contract column disagrees with the roll schedule on {len(differ):,} bars "
        f"(first: {frame.index[i]:%Y-%m-%d %H:%M} is {frame['contract'].iloc[i]} in the "
        f"column, {expected[i]} by the schedule)"
    ]


def _roll_fields(
    loaded: LoadedBars,
    rolls: RollSchedule | None,
    roll_source: str | None,
    atr_multiple: float,
    calendar: TradingCalendar,
    days_before: int,
) -> dict:
    """The DataSummary fields about rolls, and the warnings they bring."""
    frame = loaded.frame
    from_column = rolls is None and "contract" in frame.columns
    if from_column:
        rolls = schedule_from_contracts(frame, loaded.source)
        roll_source = roll_source or "contract column"
    if rolls is None:
        bars, minutes = _detector_bars(loaded)
        found = suspected_rolls(bars, atr_multiple)
        return {"suspected_rolls": found, "suspect_atrs": atr_multiple, "suspect_minutes": minutes}
    located = dict((roll, frame.index[bar]) for bar, roll in located_rolls(frame, rolls))
    warnings = []
    if "contract" in frame.columns and not from_column:
        warnings += _contract_mismatch(frame, rolls)
    outside = sum(roll not in located for roll in rolls)
    if outside:
        warnings.append(
            f"{outside} of {len(rolls)} rolls are not inside the data (on or before its first "
            "trading day, or after its last)"
        )
    contracts = traded_contracts(frame, rolls)
    if contracts is not None:
        warnings += deadline_warnings(
            loaded.instrument.key,
            contracts,
            frame["trading_day"].to_numpy(),
            calendar,
            days_before,
            "contract column" if from_column else "roll schedule",
        )
    return {
        "roll_source": roll_source or "roll schedule",
        "rolls": list(rolls),
        "roll_times": [located.get(roll) for roll in rolls],
        "warnings": warnings,
    }


def summarize(
    loaded: LoadedBars,
    calendar: TradingCalendar | None = None,
    *,
    rolls: RollSchedule | None = None,
    roll_source: str | None = None,
    atr_multiple: float = SUSPECTED_ROLL_ATRS,
    exit_days_before_delivery: int = 1,
) -> DataSummary:
    """The summary of loaded bars. Roll information is ``rolls`` (named ``roll_source``)
    or the bars' contract column; without any, the suspected rolls are listed. A contract
    the roll information keeps until its delivery deadline (``exit_days_before_delivery``)
    is warned about."""
    calendar = calendar or default_calendar()
    frame, spec, width = loaded.frame, loaded.instrument, loaded.bar_minutes
    days = frame["trading_day"].to_numpy().astype("datetime64[D]")
    unique_days = np.unique(days)
    expected = calendar.between(unique_days[0], unique_days[-1])
    missing = np.setdiff1d(expected, unique_days)

    minutes = session_minutes(frame.index)
    segment = spec.sessions.locate(minutes, width, days=days)
    sessions = []
    current = len(spec.sessions.segments)
    for i, seg in enumerate(spec.sessions.all_segments):
        mask = segment == i
        if i >= current and not mask.any():
            continue  # hours of other years, not in this file
        sessions.append(
            SessionCount(str(seg), seg.night, int(mask.sum()), len(np.unique(days[mask])))
        )

    # A bar missing inside a segment: the next bar of the same segment and day starts late.
    same = (segment[1:] == segment[:-1]) & (days[1:] == days[:-1])
    step = np.diff(minutes)
    gaps = int((same & (step > width)).sum())
    day_session = (segment >= 0) & ~spec.sessions.is_night(segment)
    per_day = pd.Series(day_session.astype(int), index=days).groupby(level=0).sum()
    day_bars = sum(-(-(s.end - s.start) // width) for s in spec.sessions.segments if not s.night)
    incomplete = int((per_day < day_bars).sum())
    warnings = list(loaded.warnings) + night_gaps(spec, days, segment, unique_days, calendar)
    warnings += weekend_nights(loaded.dropped) + shifted_nights(frame, spec)
    roll_fields = _roll_fields(
        loaded, rolls, roll_source, atr_multiple, calendar, exit_days_before_delivery
    )
    warnings += roll_fields.pop("warnings", [])
    return DataSummary(
        source=loaded.source,
        instrument=spec.key,
        bar_minutes=width,
        rows=len(frame),
        first_bar=frame.index[0],
        last_bar=frame.index[-1],
        first_day=pd.Timestamp(unique_days[0]),
        last_day=pd.Timestamp(unique_days[-1]),
        trading_days=len(unique_days),
        calendar_trading_days=len(expected),
        missing_days=[pd.Timestamp(d) for d in missing],
        incomplete_days=incomplete,
        intraday_gaps=gaps,
        sessions=sessions,
        dropped=list(loaded.dropped),
        repaired=list(loaded.repaired),
        merged=list(loaded.merged),
        warnings=warnings,
        **roll_fields,
    )


__all__ = ["DataSummary", "SessionCount", "summarize"]
