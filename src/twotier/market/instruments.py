"""Instrument specifications: multiplier, tick, margin, fees and sessions, kept as data.

The shipped file is ``twotier/resources/instruments.toml``. A user file of the same shape
adds instruments or overrides single fields of shipped ones.
"""

from __future__ import annotations

import itertools
import tomllib
from datetime import date, time
from decimal import Decimal
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twotier.errors import ConfigError, UnknownInstrumentError
from twotier.io import read_toml
from twotier.market.schedule import (
    FeeRow,
    Schedule,
    ScheduleRow,
    check_fee_sizes,
    merged_rows,
)
from twotier.market.sessions import SessionHours, SessionSchedule
from twotier.strict import NUMBER


class FeeScheme(BaseModel):
    """Exchange fees: a fraction of turnover, or CNY per lot; close-today may differ."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    basis: Literal["turnover", "per_lot"]
    open: Annotated[Decimal, NUMBER, Field(ge=0)]
    close: Annotated[Decimal, NUMBER, Field(ge=0)]
    close_today: Annotated[Decimal, NUMBER, Field(ge=0)]

    @model_validator(mode="after")
    def _sizes(self) -> FeeScheme:
        largest = max(self.open, self.close, self.close_today)
        zero = Decimal(0)
        check_fee_sizes(*((largest, zero) if self.basis == "turnover" else (zero, largest)))
        return self


def _parse_hhmm(value: object) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a time as 'HH:MM', got {value!r}")
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a time as 'HH:MM', got {value!r}") from None


def _parse_pair(value: object) -> tuple[time, time]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"expected a pair ['HH:MM', 'HH:MM'], got {value!r}")
    return (_parse_hhmm(value[0]), _parse_hhmm(value[1]))


def _day_pairs(value: object) -> object:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("day_sessions must be a non-empty list of ['HH:MM', 'HH:MM'] pairs")
    return tuple(_parse_pair(pair) for pair in value)


def _night_pair(value: object) -> object:
    if value is None or value == []:
        return None
    return _parse_pair(value)


class EarlierSessions(BaseModel):
    """Session hours an instrument had before its current ones, from trading day ``from``
    (omitted on the first row: since always) until the next row's or ``sessions_from``.
    A field left out is the current one; ``night_session = []`` means no night."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    first_day: date | None = Field(None, alias="from")
    day_sessions: tuple[tuple[time, time], ...] | None = None
    night_session: tuple[time, time] | Literal["current"] | None = "current"

    @field_validator("day_sessions", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return None if value is None else _day_pairs(value)

    @field_validator("night_session", mode="before")
    @classmethod
    def _night(cls, value: object) -> object:
        return value if value == "current" else _night_pair(value)


class InstrumentSpec(BaseModel):
    """One tradable product, e.g. ``DCE/i`` (DCE iron ore)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    key: str
    market: str
    product: str
    name: str = ""
    multiplier: Annotated[int, NUMBER, Field(gt=0)]
    tick: Annotated[Decimal, NUMBER, Field(gt=0)]
    margin_rate: Annotated[float, NUMBER, Field(gt=0, le=1)]
    fee: FeeScheme
    day_sessions: tuple[tuple[time, time], ...]
    night_session: tuple[time, time] | None = None
    schedule: tuple[ScheduleRow, ...] = ()  # dated limit rate, margin rate, fees (10.1)
    # Session hours over time (docs/data.md): the hours above apply from trading day
    # ``sessions_from``; ``earlier_sessions`` rows say what applied before.
    sessions_from: date | None = None
    earlier_sessions: tuple[EarlierSessions, ...] = ()
    # Plausibility of the data (docs/data.md, "Validation"): a bar whose price is further
    # than ``plausible_move`` (a fraction) from its neighbours' is a bad bar, and so is a
    # volume or open interest above ``max_bar_volume``; a file whose median close lies
    # outside ``price_range`` gets a warning (prices of another instrument?).
    plausible_move: Annotated[float | None, NUMBER, Field(None, gt=0)] = None
    max_bar_volume: Annotated[float, NUMBER, Field(1e9, gt=0)] = 1e9
    price_range: tuple[Annotated[float, NUMBER], Annotated[float, NUMBER]] | None = None

    @field_validator("day_sessions", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        return _day_pairs(value)

    @field_validator("night_session", mode="before")
    @classmethod
    def _night(cls, value: object) -> object:
        return _night_pair(value)

    @field_validator("price_range")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 < value[0] < value[1]:
            raise ValueError(f"price_range must be [low, high] with 0 < low < high, not {value}")
        return value

    @model_validator(mode="after")
    def _sessions_make_sense(self) -> InstrumentSpec:
        self._session_hours()  # raises ValueError
        return self

    @model_validator(mode="after")
    def _key_names_the_market(self) -> InstrumentSpec:
        """``SHFE/rb`` is SHFE's: a live gateway routes orders by ``market``."""
        named = self.key.split("/", 1)[0] if "/" in self.key else None
        if named is not None and named != self.market:
            raise ValueError(
                f"the key {self.key!r} names the market {named!r}, but market = {self.market!r}"
            )
        return self

    def _session_hours(self) -> SessionHours:
        current = SessionSchedule.from_times(self.day_sessions, self.night_session)
        if not self.earlier_sessions:
            return SessionHours([(None, current)])
        if self.sessions_from is None:
            raise ValueError("earlier_sessions need sessions_from (when the hours above began)")
        eras = []
        for k, row in enumerate(self.earlier_sessions):
            if row.first_day is None and k:
                raise ValueError(f"earlier_sessions row {k + 1} needs a 'from' date")
            day = self.day_sessions if row.day_sessions is None else row.day_sessions
            night = self.night_session if row.night_session == "current" else row.night_session
            start = None if row.first_day is None else np.datetime64(row.first_day, "D")
            eras.append((start, SessionSchedule.from_times(day, night)))
        eras.append((np.datetime64(self.sessions_from, "D"), current))
        starts = [day for day, _ in eras if day is not None]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise ValueError(
                "earlier_sessions 'from' dates must increase and come before sessions_from"
            )
        return SessionHours(eras)

    @cached_property
    def sessions(self) -> SessionHours:
        return self._session_hours()

    @cached_property
    def tick_units(self) -> int:
        """The tick in price units (twotier.money)."""
        from twotier.money import price_units

        return price_units(self.tick)

    @cached_property
    def terms(self) -> Schedule:
        """Limit rate, margin rate and fees by trading day (RULES.md 10.1)."""
        f = self.fee
        rates = (f.open, f.close, f.close_today) if f.basis == "turnover" else (0, 0, 0)
        lots = (f.open, f.close, f.close_today) if f.basis == "per_lot" else (0, 0, 0)
        names = ("open", "close", "close_today")
        base = {f"{k}_rate": v for k, v in zip(names, rates, strict=True)}
        base |= {f"{k}_per_lot": v for k, v in zip(names, lots, strict=True)}
        return Schedule(self.schedule, self.margin_rate, base)

    @property
    def file_key(self) -> str:
        """The key as a file name: ``DCE/i`` -> ``DCE_i``."""
        return self.key.replace("/", "_")


def _user_rows(rows: object, where: str) -> list[dict]:
    """A user file's schedule rows, each checked on its own (numbered as the file has
    them) before they are added to the shipped ones; ``from`` as a date."""
    example = "{ from = 2024-01-02, margin_rate = 0.12 }"
    if not isinstance(rows, list):
        raise ConfigError(f"{where}: schedule must be a list of rows like [{example}]")
    checked = []
    for k, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: schedule row {k} must be a table like {example}, "
                              f"not {row!r}")  # fmt: skip
        try:
            parsed = ScheduleRow.model_validate(row, by_alias=True, by_name=False)
        except ValidationError as exc:
            problems = "; ".join(_describe(e, ScheduleRow) for e in exc.errors())
            raise ConfigError(f"{where}: schedule row {k}: {problems}") from None
        checked.append({**row, "from": parsed.start})
    return checked


def _describe(error: dict, top: type[BaseModel] | None = None) -> str:
    """One pydantic error as 'field: problem'; an unknown key lists the known ones."""
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        if top is ScheduleRow:  # the row's own keys, or a fee table's
            model = FeeRow if len(error["loc"]) > 1 else ScheduleRow
        else:
            model = {"fee": FeeScheme, "earlier_sessions": EarlierSessions}.get(
                str(error["loc"][0]), InstrumentSpec
            )
        fields = model.model_fields.items()
        known = ", ".join(f.alias or name for name, f in fields if name != "key")
        return f"unknown key {where!r}; known keys: {known}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _shipped_table() -> dict:
    text = resources.files("twotier.resources").joinpath("instruments.toml").read_text("utf-8")
    return tomllib.loads(text)["instruments"]


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class InstrumentRegistry:
    """The known instruments by key; ``registry["DCE/i"]`` or a clear error."""

    def __init__(self, specs: dict[str, InstrumentSpec]):
        self._specs = dict(specs)

    def __getitem__(self, key: str) -> InstrumentSpec:
        try:
            return self._specs[key]
        except KeyError:
            raise UnknownInstrumentError(key, list(self._specs)) from None

    def __contains__(self, key: object) -> bool:
        return key in self._specs

    def __iter__(self):
        return iter(self._specs)

    def keys(self) -> list[str]:
        return list(self._specs)

    @classmethod
    def load(cls, user_file: str | Path | None = None) -> InstrumentRegistry:
        """The shipped instruments, with a user file's additions and overrides on top."""
        table = _shipped_table()
        source = "twotier/resources/instruments.toml"
        if user_file is not None:
            path = Path(user_file)
            user = read_toml(path, "instrument file")
            if set(user) - {"instruments"}:
                extra = ", ".join(sorted(set(user) - {"instruments"}))
                raise ConfigError(
                    f'{path}: unknown top-level key(s) {extra}; expected [instruments."KEY"]'
                )
            instruments = user.get("instruments", {})
            if not isinstance(instruments, dict):
                raise ConfigError(f'{path}: expected tables [instruments."KEY"]')
            for key, fields in instruments.items():
                if not isinstance(fields, dict):
                    raise ConfigError(
                        f'{path}: instrument {key!r} must be a table [instruments."{key}"], '
                        f"not {fields!r}"
                    )
                shipped = table.get(key, {})
                merged = _merge(shipped, fields)
                if "schedule" in fields:
                    rows = _user_rows(fields["schedule"], f"{path}: instrument {key!r}")
                    merged["schedule"] = merged_rows(shipped.get("schedule", []), rows)
                table[key] = merged
            source = str(path)
        specs = {}
        for key, fields in table.items():
            if "key" in fields:
                raise ConfigError(
                    f"{source}: instrument {key!r}: 'key' is not a field (the table name "
                    "is the key)"
                )
            try:
                specs[key] = InstrumentSpec(key=key, **fields)
            except ValidationError as exc:
                problems = "; ".join(_describe(e) for e in exc.errors())
                raise ConfigError(f"{source}: instrument {key!r}: {problems}") from None
        return cls(specs)


_DEFAULT: InstrumentRegistry | None = None


def default_registry() -> InstrumentRegistry:
    """The shipped instruments (loaded once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = InstrumentRegistry.load()
    return _DEFAULT


def get_instrument(key: str) -> InstrumentSpec:
    return default_registry()[key]
