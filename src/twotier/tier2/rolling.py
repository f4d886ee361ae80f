"""Prices of the contract a position holds around a roll (RULES.md 9, 10.6 item 14).

The data carries the contract Tier-2 trades at each bar; from a roll's trading day on,
that is the new contract. A position still on the old contract there (its roll waits, or
its close fills on the roll bar) is priced at the new contract's price divided by the
roll ratio (new price / old price at the roll), to the tick, half up; it shares the
bar's lock and volume.
"""

from __future__ import annotations

import numpy as np

from twotier.broker.base import Quote
from twotier.market.rolls import Roll
from twotier.money import price_units


def old_contract_price(units, roll: Roll, tick: int):
    """The old contract's price (price units) for the new contract's ``units`` (one price,
    or an array of them): units / ratio, to the tick, half up, in exact integers."""
    old, new = price_units(roll.old_price), price_units(roll.new_price)
    if isinstance(units, np.ndarray):
        exact = units.astype(object) * old  # Python integers: no overflow
        return np.array((2 * exact + new * tick) // (2 * new * tick) * tick, dtype=np.int64)
    return (2 * units * old + new * tick) // (2 * new * tick) * tick


def old_contract_quote(quote: Quote, roll: Roll, tick: int) -> Quote:
    """The bar as the old contract's: its prices divided by the roll ratio; the bar's lock
    and volume; no limits from the data (they are the new contract's)."""
    return Quote(
        quote.time_ns,
        quote.trading_day,
        old_contract_price(quote.open, roll, tick),
        old_contract_price(quote.close, roll, tick),
        quote.volume,
        quote.locked,
    )


def fixed_quote(quote: Quote, price: float) -> Quote:
    """The bar with one price as its open and close (a roll schedule's price of a contract
    at the roll), and the bar's lock and volume."""
    units = price_units(price)
    return Quote(quote.time_ns, quote.trading_day, units, units, quote.volume, quote.locked)
