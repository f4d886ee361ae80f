"""Exchange fees per fill, per the instrument's fee scheme, rounded to the cent."""

from __future__ import annotations

from decimal import Decimal

from twotier.market.instruments import InstrumentSpec
from twotier.money import PRICE_SCALE, round_to_cent


def fee_units(
    spec: InstrumentSpec, contracts: int, price_units: int, opens: bool, close_today: bool
) -> int:
    """The fee of one fill in money units (whole cents, half up)."""
    scheme = spec.fee
    rate = scheme.open if opens else (scheme.close_today if close_today else scheme.close)
    if scheme.basis == "per_lot":
        amount = rate * contracts
    else:
        turnover = Decimal(contracts * spec.multiplier * price_units) / PRICE_SCALE
        amount = turnover * rate
    return round_to_cent(amount)
