"""Exchange fees per fill (RULES.md 1, 10.1, 10.6 item 2): the trading day's rate of
turnover plus its amount per lot, for opening, closing or closing today, times the
broker's multiplier, rounded to the cent (half up) once, in exact integer arithmetic."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from twotier.market.instruments import InstrumentSpec
from twotier.market.schedule import FeeTerms
from twotier.money import MONEY_SCALE, share_to_cent

ONE = Fraction(1)

Coefficients = tuple[int, int, int]  # (per price unit and contract, per contract, denominator)


def fee_units(
    spec: InstrumentSpec,
    contracts: int,
    price_units: int,
    opens: bool,
    close_today: bool,
    day: date,
    multiplier: Fraction = ONE,
) -> int:
    """The fee of one fill in money units (whole cents)."""
    ratios = spec.terms.on(day).fee.ratios(opens, close_today)
    return _fee(coefficients(ratios, spec.multiplier, multiplier), contracts, price_units)


def coefficients(
    ratios: tuple[int, int, int, int], tonnes: int, multiplier: Fraction
) -> Coefficients:
    """A fee's terms (``FeeTerms.ratios``) for an instrument of ``tonnes`` a contract, times
    the broker's multiplier, over one common denominator: multiplier * (rate * turnover +
    per_lot * lots), turnover = contracts * tonnes * price units (money units) and lots =
    contracts * MONEY_SCALE (money units per CNY of a per-lot amount)."""
    rate_n, rate_d, lot_n, lot_d = ratios
    m = multiplier.numerator
    return (m * rate_n * lot_d * tonnes, m * lot_n * rate_d * MONEY_SCALE,
            multiplier.denominator * rate_d * lot_d)  # fmt: skip


def _fee(c: Coefficients, contracts: int, price_units: int) -> int:
    per_price, per_contract, denominator = c
    return share_to_cent(contracts, per_price * price_units + per_contract, denominator)


class InstrumentFees:
    """``fee_units`` of one instrument and multiplier, each fee period's terms turned into
    coefficients once (the schedule's terms change on a few dated rows; an instrument's
    fills come in time order, so the last period's nearly always holds)."""

    def __init__(self, spec: InstrumentSpec, multiplier: Fraction = ONE):
        self._terms = spec.terms
        self._tonnes = spec.multiplier
        self._multiplier = multiplier
        self._fee: FeeTerms | None = None  # the period's terms the coefficients are of
        self._kinds: tuple[Coefficients, ...] = ()  # open, close today, close

    def units(
        self, contracts: int, price_units: int, opens: bool, close_today: bool, day: date
    ) -> int:
        """The fee of one fill in money units (whole cents), as ``fee_units``."""
        fee = self._terms.on(day).fee
        if fee is not self._fee:
            self._fee, self._kinds = fee, self._coefficients(fee)
        return _fee(self._kinds[0 if opens else 1 if close_today else 2], contracts, price_units)

    def _coefficients(self, fee: FeeTerms) -> tuple[Coefficients, ...]:
        kinds = ((True, False), (False, True), (False, False))
        return tuple(
            coefficients(fee.ratios(opens, today), self._tonnes, self._multiplier)
            for opens, today in kinds
        )
