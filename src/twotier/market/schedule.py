"""Dated terms of an instrument (RULES.md 10.1, 10.6 item 1): limit rate, margin rate and
fees by the first trading day they apply from.

Rows are read field by field: each of the limit rate, the margin rate and the six fee
parts (rate of turnover and amount per lot, for open, close and close-today) is that of
the latest row, not after the trading day, that sets it. An unset margin rate or fee part
falls back to the instrument's own (RULES.md 1); an unset limit rate means no limit. A
row dated on a day without trading applies from the next trading day, which is the same
as comparing dates. A night bar uses its trading day's terms.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from twotier.strict import NUMBER

FEE_PARTS = (
    "open_rate",
    "close_rate",
    "close_today_rate",
    "open_per_lot",
    "close_per_lot",
    "close_today_per_lot",
)


# Far above any exchange's (about 0.0001 of turnover, a few CNY a lot), and below what a
# rate written where an amount was meant would be: 2 (CNY a lot) as a rate is 200%.
MAX_FEE_RATE = Decimal("0.01")
MAX_FEE_PER_LOT = Decimal(1000)
Fee = Annotated[Decimal | None, NUMBER, Field(None, ge=0)]


class FeeRow(BaseModel):
    """Fee parts a schedule row sets: rates of turnover and CNY per lot."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    open: Fee = None
    close: Fee = None
    close_today: Fee = None

    def largest(self) -> Decimal:
        return max((v for v in (self.open, self.close, self.close_today) if v is not None),
                   default=Decimal(0))  # fmt: skip


def check_fee_sizes(rates: Decimal, per_lot: Decimal) -> None:
    """A fee part beyond any exchange's is refused: most likely an amount per lot written
    as a rate of turnover."""
    if rates > MAX_FEE_RATE:
        raise ValueError(
            f"a fee rate of turnover of {rates} is more than {MAX_FEE_RATE} (1%); a rate is a "
            "share of turnover (0.0001 is one basis point): an amount in CNY a lot goes under "
            "fee_per_lot (or basis = 'per_lot')"
        )
    if per_lot > MAX_FEE_PER_LOT:
        raise ValueError(f"a fee of {per_lot} CNY a lot is more than {MAX_FEE_PER_LOT}")


class ScheduleRow(BaseModel):
    """One dated row: the fields it sets apply from ``from`` on."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    start: dt.date = Field(alias="from")
    limit_rate: Annotated[float | None, NUMBER, Field(None, gt=0, lt=1)] = None
    margin_rate: Annotated[float | None, NUMBER, Field(None, gt=0, le=1)] = None
    fee: FeeRow | None = None  # rates of turnover
    fee_per_lot: FeeRow | None = None  # CNY per lot

    @model_validator(mode="after")
    def _fee_sizes(self) -> ScheduleRow:
        parts = (Decimal(0) if f is None else f.largest() for f in (self.fee, self.fee_per_lot))
        check_fee_sizes(*parts)
        return self

    def parts(self) -> dict[str, object]:
        """The fields this row sets, by name (fee parts as in FEE_PARTS)."""
        out: dict[str, object] = {}
        if self.limit_rate is not None:
            out["limit_rate"] = self.limit_rate
        if self.margin_rate is not None:
            out["margin_rate"] = self.margin_rate
        for table, suffix in ((self.fee, "rate"), (self.fee_per_lot, "per_lot")):
            for kind in ("open", "close", "close_today"):
                value = None if table is None else getattr(table, kind)
                if value is not None:
                    out[f"{kind}_{suffix}"] = value
        return out


def merged_rows(shipped: list[dict], user: list[dict]) -> list[dict]:
    """The user's rows added to the shipped ones; on the same date the user's fields win
    (RULES.md 10.6 item 1)."""
    by_date: dict[object, dict] = {}
    for row in [*shipped, *user]:
        key = row.get("from")
        base = by_date.get(key, {})
        merged = dict(base)
        for name, value in row.items():
            if isinstance(value, dict) and isinstance(base.get(name), dict):
                merged[name] = {**base[name], **value}
            else:
                merged[name] = value
        by_date[key] = merged
    return list(by_date.values())


@dataclass(frozen=True)
class FeeTerms:
    """One trading day's fee parts, exact (RULES.md 10.6 item 2)."""

    open_rate: Fraction
    close_rate: Fraction
    close_today_rate: Fraction
    open_per_lot: Fraction
    close_per_lot: Fraction
    close_today_per_lot: Fraction

    def parts(self, opens: bool, close_today: bool) -> tuple[Fraction, Fraction]:
        """(rate of turnover, CNY per lot) of a fill."""
        if opens:
            return self.open_rate, self.open_per_lot
        if close_today:
            return self.close_today_rate, self.close_today_per_lot
        return self.close_rate, self.close_per_lot

    def ratios(self, opens: bool, close_today: bool) -> tuple[int, int, int, int]:
        """The parts of ``parts`` as integers: (rate numerator, rate denominator, per-lot
        numerator, per-lot denominator), for exact fee arithmetic without Fraction's
        overhead on every fill."""
        key = 0 if opens else 1 if close_today else 2
        cached = self.__dict__.get("_ratios")
        if cached is None:
            cached = tuple(
                (r.numerator, r.denominator, lot.numerator, lot.denominator)
                for r, lot in (self.parts(True, False), self.parts(False, True),
                               self.parts(False, False))
            )  # fmt: skip
            object.__setattr__(self, "_ratios", cached)
        return cached[key]


@dataclass(frozen=True)
class DayTerms:
    limit_rate: float | None
    margin_rate: float
    fee: FeeTerms


class Schedule:
    """An instrument's terms by trading day: the base terms, overridden field by field by
    dated rows."""

    def __init__(self, rows: tuple[ScheduleRow, ...], margin_rate: float, base_fee: dict):
        self.base = {"limit_rate": None, "margin_rate": margin_rate, **base_fee}
        self.changes: dict[str, tuple[list[dt.date], list[object]]] = {}
        for row in sorted(rows, key=lambda r: r.start):
            for name, value in row.parts().items():
                dates, values = self.changes.setdefault(name, ([], []))
                dates.append(row.start)
                values.append(value)
        # the terms change only on the rows' first days: one DayTerms per period between
        # them, found by the day's place among those days (a run asks for every day)
        self._starts = sorted({day for dates, _ in self.changes.values() for day in dates})
        self._periods: dict[int, DayTerms] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def value(self, name: str, day: dt.date):
        change = self.changes.get(name)
        if change is None:
            return self.base[name]
        at = bisect_right(change[0], day)
        return change[1][at - 1] if at else self.base[name]

    def on(self, day: dt.date) -> DayTerms:
        """The terms of a trading day."""
        period = bisect_right(self._starts, day)
        terms = self._periods.get(period)
        if terms is None:
            terms = self._periods[period] = self._terms(day)
        return terms

    def _terms(self, day: dt.date) -> DayTerms:
        fee = FeeTerms(*(Fraction(self.value(name, day)) for name in FEE_PARTS))
        return DayTerms(self.value("limit_rate", day), self.value("margin_rate", day), fee)

    def rates(self, name: str, days: np.ndarray) -> np.ndarray:
        """``limit_rate`` or ``margin_rate`` of each trading day (datetime64[D]); NaN
        where there is no limit."""
        starts, values = self._rate_arrays(name)
        return values[np.searchsorted(starts, np.asarray(days, dtype="datetime64[D]"), "right")]

    def _rate_arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A field's dated changes as arrays, made once (a backtest asks for the margin
        rates of every quiet stretch): their first days, and the values before the first
        change (the base, NaN for none) and from each change on."""
        arrays = self._arrays.get(name)
        if arrays is None:
            days, values = self.changes.get(name, ((), ()))
            base = self.base[name]
            arrays = self._arrays[name] = (
                np.array(days, dtype="datetime64[D]"),
                np.array([np.nan if base is None else float(base), *map(float, values)]),
            )
        return arrays

    @cached_property
    def constant_margin(self) -> bool:
        return "margin_rate" not in self.changes
