"""Exchange fees per fill (RULES.md 1, 10.1, 10.6 item 2): the trading day's rate of
turnover plus its amount per lot, for opening, closing or closing today, times the
broker's multiplier, rounded to the cent (half up) once, in exact integer arithmetic."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from twotier.market.instruments import InstrumentSpec
from twotier.money import MONEY_SCALE, share_to_cent

ONE = Fraction(1)


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
    rate_n, rate_d, lot_n, lot_d = spec.terms.on(day).fee.ratios(opens, close_today)
    turnover = contracts * spec.multiplier * price_units  # money units: price units x tonnes
    lots = contracts * MONEY_SCALE  # money units per CNY of a per-lot amount
    # multiplier * (rate * turnover + per_lot * lots) over one common denominator
    numerator = multiplier.numerator * (rate_n * lot_d * turnover + lot_n * rate_d * lots)
    denominator = multiplier.denominator * rate_d * lot_d
    return share_to_cent(1, numerator, denominator)
