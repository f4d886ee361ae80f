"""Exchange fees per fill, per the instrument's fee scheme, rounded to the cent (half up)
in exact integer arithmetic."""

from __future__ import annotations

from twotier.market.instruments import InstrumentSpec
from twotier.money import MONEY_SCALE, share_to_cent


def fee_units(
    spec: InstrumentSpec, contracts: int, price_units: int, opens: bool, close_today: bool
) -> int:
    """The fee of one fill in money units (whole cents)."""
    scheme = spec.fee
    rate = scheme.open if opens else (scheme.close_today if close_today else scheme.close)
    numerator, denominator = rate.as_integer_ratio()
    if scheme.basis == "per_lot":
        return share_to_cent(contracts * MONEY_SCALE, numerator, denominator)
    turnover = contracts * spec.multiplier * price_units  # money units: price units x tonnes
    return share_to_cent(turnover, numerator, denominator)
