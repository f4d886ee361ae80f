"""Exact money: prices and amounts are carried as integers.

A price is an integer number of 1/10,000 of its quote (765.5 -> 7,655,000), so every
price of a real futures contract is exact. An amount of money is an integer number of
1/10,000 CNY: contracts x multiplier x price units is then exact, and P&L, fees, equity
and PV add up to the cent without rounding. Fees are rounded to the cent when charged.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from twotier.errors import TwotierError

PRICE_SCALE = 10_000
MONEY_SCALE = 10_000  # units of money per CNY
UNITS_PER_CENT = MONEY_SCALE // 100
MAX_PRICE_DECIMALS = 4

# What the arithmetic carries: amounts are int64 money units (up to about 9.2e14 CNY).
# Prices are at most 1e8 and capital at most 1e12 CNY; a position's value can still grow
# past what int64 holds (a price that rises a thousandfold on a leveraged position of
# that capital), so marking checks each amount against MAX_MONEY_UNITS and refuses to go
# on rather than compute it wrong (``check_carried``).
MAX_PRICE = 10**8
MAX_CAPITAL = 10**12  # CNY
MAX_MONEY_UNITS = 2**62  # PV and the equities summed into it stay below int64's limit


class PriceError(TwotierError, ValueError):
    """A price that cannot be carried exactly."""


def _beyond(price: float) -> PriceError:
    return PriceError(
        f"price {price:.10g} is beyond what twotier carries (a finite price above 0, at most "
        f"{MAX_PRICE:.0e})"
    )


def written(value: float) -> Fraction:
    """A number as the decimal it was written as: 0.07 as 7/100, not the binary float
    nearest it (a hair below 0.07), so that a limit, a cap or a half tick decided on it is
    not one short (RULES.md 8.28)."""
    return Fraction(repr(float(value)))


def written_ratio(value: float) -> tuple[int, int]:
    """``written(value)`` as numerator and denominator (integer arithmetic on arrays)."""
    fraction = written(value)
    return fraction.numerator, fraction.denominator


def share_of(quantity: float, ratio: tuple[int, int]) -> int:
    """``quantity`` times a ``written_ratio``, rounded down to a whole number, exactly:
    0.29 of a bar's 100 lots is 29 (the floats' product is 28.999999999999996)."""
    numerator, denominator = ratio
    return math.floor(Fraction(quantity) * numerator / denominator)


def price_units(price: float | Decimal) -> int:
    if isinstance(price, Decimal):  # a tick or a price from a data file: exact
        units = price * PRICE_SCALE
        if units != units.to_integral_value():
            raise PriceError(f"price {price} has more than {MAX_PRICE_DECIMALS} decimal places")
        return int(units)
    if not 0 < price <= MAX_PRICE:  # NaN too
        raise _beyond(price)
    scaled = price * PRICE_SCALE
    units = round(scaled)
    if abs(scaled - units) > 1e-6 * max(1.0, abs(scaled)):
        raise PriceError(f"price {price!r} has more than {MAX_PRICE_DECIMALS} decimal places")
    return int(units)


def price_units_array(prices: np.ndarray) -> np.ndarray:
    """``price_units`` of each price. The usual column (every price in range and a whole
    number of price units once scaled) is checked by its minimum, maximum and one
    comparison; any other is checked price by price, with the same errors."""
    prices = np.asarray(prices, dtype=np.float64)
    scaled = prices * PRICE_SCALE
    units = np.rint(scaled)
    in_range = len(prices) and prices.min() > 0 and prices.max() <= MAX_PRICE  # NaN: not
    if in_range and np.array_equal(units, scaled):
        return units.astype(np.int64)
    outside = ~((prices > 0) & (prices <= MAX_PRICE))
    if outside.any():
        raise _beyond(float(prices[np.argmax(outside)]))
    bad = np.abs(scaled - units) > 1e-6 * np.maximum(1.0, np.abs(scaled))
    if bad.any():
        raise PriceError(
            f"price {prices[np.argmax(bad)]!r} has more than {MAX_PRICE_DECIMALS} decimal places"
        )
    return units.astype(np.int64)


def price_of(units):
    """The price as the float the data had (units / 10,000 is correctly rounded); one
    price or an array of them."""
    return units / PRICE_SCALE


def money_units(cny: Decimal | int | str) -> int:
    value = Decimal(str(cny)) * MONEY_SCALE
    if value != value.to_integral_value():
        raise ValueError(f"{cny} CNY is finer than 1/{MONEY_SCALE} CNY")
    return int(value)


class MoneyRangeError(TwotierError):
    """An amount beyond what the int64 money units carry."""


def check_carried(units: int, what: str) -> None:
    """Refuse an amount (money units, a Python int) beyond MAX_MONEY_UNITS."""
    if abs(units) > MAX_MONEY_UNITS:
        raise MoneyRangeError(
            f"{what} reaches {units / MONEY_SCALE:.3g} CNY, beyond what twotier carries "
            f"exactly (about {MAX_MONEY_UNITS / MONEY_SCALE:.2g} CNY): a smaller capital, "
            "leverage or multiplier keeps the run within it"
        )


def cny(units):
    """Money units as CNY (a float); one amount or an array of them."""
    return units / MONEY_SCALE


def to_cent(units):
    """Money units rounded to the cent, half away from zero (as fees are), as money
    units; one amount (a Python int) or an int64 array. Amounts of prices on the tick are
    whole cents already; those of prices off it are not, and the files show them so. An
    amount or array of whole cents is given back as it is: checking costs a fraction of
    rounding (numpy's ``//`` by a number is several times cheaper than its ``%``)."""
    if isinstance(units, np.ndarray):
        if not (units // UNITS_PER_CENT * UNITS_PER_CENT != units).any():
            return units
        half = UNITS_PER_CENT // 2
        cents = np.where(
            units >= 0, (units + half) // UNITS_PER_CENT, -((half - units) // UNITS_PER_CENT)
        )
        return cents * UNITS_PER_CENT
    if type(units) is int and not units % UNITS_PER_CENT:  # whole cents (fees): as it is
        return units
    return share_to_cent(int(units), 1, 1)


def cny_array(units: np.ndarray) -> np.ndarray:
    """``cny(units)`` of an int64 array, bit for bit: the quotient is taken in place on a
    float64 copy (numpy's int64 / int casts through a buffer first, for about twice the
    instructions)."""
    out = units.astype(np.float64)
    out /= MONEY_SCALE
    return out


def cent_cny(units: np.ndarray, cny_units: np.ndarray | None = None) -> np.ndarray:
    """``cny(to_cent(units))`` of an int64 array, bit for bit (``cny_array``).
    ``cny_units``: ``cny(units)`` if already made, given back where the amounts are whole
    cents."""
    cents = to_cent(units)
    if cents is units and cny_units is not None:
        return cny_units
    return cny_array(cents)


def cny_decimal(units: int) -> Decimal:
    return Decimal(units) / MONEY_SCALE


def share_to_cent(units: int, numerator: int, denominator: int) -> int:
    """``units * numerator / denominator`` rounded to the cent (half away from zero), as
    money units: exact integer arithmetic for fees and fee shares."""
    q = units * numerator
    d = denominator * UNITS_PER_CENT
    cents = (2 * q + d) // (2 * d) if q >= 0 else -((-2 * q + d) // (2 * d))
    return cents * UNITS_PER_CENT


# Texts of a cent count's last two digits and of a thousands group: looked up, as a
# format spec (``:02d``, and most of all ``:,``) costs several times more than a lookup.
CENT_DIGITS = tuple(f"{n:02d}" for n in range(100))
THOUSANDS_GROUP = tuple(f"{n:03d}" for n in range(1000))


def format_cny(units: int, sign: bool = False) -> str:
    """1,234,567.89 (with a + for gains when ``sign``), rounded to the cent half away
    from zero as the files show amounts (``to_cent``; Decimal's own format rounds half to
    even: 0.825 CNY would be 0.82 here and 0.83 in trades.csv). The digits and thousands
    groups are looked up: a ``:,`` format costs several times more."""
    units = to_cent(units)
    head = "-" if units < 0 else "+" if sign else ""  # -0.004 rounds to 0: written 0.00
    whole, cent = divmod(abs(units) // UNITS_PER_CENT, 100)
    if whole < 1000:
        return f"{head}{whole}.{CENT_DIGITS[cent]}"
    if whole < 1_000_000:
        return f"{head}{whole // 1000},{THOUSANDS_GROUP[whole % 1000]}.{CENT_DIGITS[cent]}"
    return f"{head}{whole:,}.{CENT_DIGITS[cent]}"
