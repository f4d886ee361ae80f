"""Margin, risk degree and forced liquidation (RULES.md 10.4, 10.6 items 11, 12, 18), for one
step (plain numbers) or a stretch of steps (arrays).

- Margin of a position: contracts x multiplier x reference price x (the trading day's
  margin rate + ``broker.margin_add``). The reference price is the fill price on the
  trading day the position was opened (after a roll: the roll's day), the contract's
  previous settlement after that (without one: the latest price held).
- Risk degree = total margin / PV (infinite when PV <= 0).
- Forced liquidation: where the risk degree of the book (positions whose close is decided
  count as closed) exceeds ``market.force_close_level``, whole positions are closed,
  largest held margin first (ties: lower basket), until it is at most the level.
"""

from __future__ import annotations

import math

import numpy as np

from twotier.money import cny, price_of
from twotier.numeric import ARRAY, above, far_below, largest, smallest, where
from twotier.tier2.days import day64


def reference_price(day, opened_on, entry_price: int, settled, held):
    """The price a position's margin is taken on: its fill price on its opening day
    (``opened_on``, a date), else the previous settlement (<= 0: none), else the latest
    price held. Arrays of days, in order: ``opened_on`` None where the position was
    opened before all of them."""
    if isinstance(settled, ARRAY) and len(settled) and smallest(settled) > 0:
        later = settled  # every day has a previous settlement (nearly always)
    else:
        later = where(settled > 0, settled, held)
    if opened_on is None:
        return later
    if isinstance(day, ARRAY):
        return _on_opening_day(day, opened_on, entry_price, later)
    return entry_price if day == opened_on else later


def _on_opening_day(days, opened_on, entry_price: int, later):
    """``where(days == opened_on, entry_price, later)`` for days in order: the opening
    day's steps are one run of them, found by search (at a stretch's first day,
    nearly always) instead of comparing every day, which numpy does slowly for dates."""
    if not len(days):
        return later
    opened = day64(opened_on)
    start = 0 if days.item(0) == opened_on else int(days.searchsorted(opened))
    end = int(days.searchsorted(opened, "right"))
    if start == end:
        return later
    out = later.copy()  # ``later``'s type, which the price held may make a float's
    out[start:end] = entry_price
    return out


def position_margin(contracts, multiplier: int, reference, rate):
    """CNY (one step or arrays)."""
    return contracts * multiplier * price_of(reference) * rate


def risk_degree(margin, pv):
    """Margin over PV (money units); infinite where PV <= 0."""
    if isinstance(pv, ARRAY):
        if len(pv) and smallest(pv) > 0:  # nearly always: no step is infinite
            return margin / cny(pv)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pv > 0, margin / cny(np.maximum(pv, 1)), np.inf)
    return margin / cny(pv) if pv > 0 else math.inf


def liquidation_fires(margin, pv, level: float):
    """Whether the book's risk degree exceeds the level; arrays where no step comes near
    it answer a plain False. A stretch's risk degrees are first bounded from the extremes,
    at a fraction of the cost of each step's: with PV > 0, none exceeds the largest margin
    (if not negative; a NaN, never above the level, may be passed over) over the smallest
    PV."""
    if isinstance(pv, ARRAY) and isinstance(margin, ARRAY) and len(pv):
        low_pv, high_margin = smallest(pv), largest(margin)
        if low_pv > 0 and high_margin >= 0 and far_below(high_margin / cny(low_pv), level):
            return False
    return above(risk_degree(margin, pv), level)


def liquidation_order(held: list[float], unclosed: list[float], pv: int, level: float):
    """The baskets to close, in order: largest held margin first (ties: lower basket),
    until the risk degree of what is left is at most the level. ``held``: each basket's
    margin of all its contracts; ``unclosed``: of those whose close is not decided."""
    total = sum(unclosed)
    chosen = []
    ranked = sorted(range(len(held)), key=lambda i: (-held[i], i))
    for i in ranked:
        if not liquidation_fires(total, pv, level):
            break
        if unclosed[i] > 0:
            chosen.append(i)
            total -= unclosed[i]
    return chosen


def margin_rate(spec, days, add: float):
    """The trading day's margin rate plus the broker's (one day, or an array of days)."""
    terms = spec.terms
    if isinstance(days, ARRAY):
        if terms.constant_margin:  # one rate for every day: one number serves the array
            return float(terms.base["margin_rate"]) + add
        return terms.rates("margin_rate", days) + add
    return terms.on(days).margin_rate + add


def previous_settlement(history, contract, days):
    """The contract's latest settlement before each day (<= 0: none)."""
    if isinstance(days, ARRAY):
        return history.before_each(contract, days)
    found = history.before(contract, days)
    return -1 if found is None else found


def basket_margins(b, days, close, history, add: float):
    """A basket's margin (CNY) of all its contracts and of those whose close is not
    decided, for a step (``days`` a date, ``close`` its latest close) or for steps
    (arrays)."""
    p = b.position
    if p is None:
        return 0.0, 0.0
    opened = p.entry_day
    if isinstance(days, ARRAY) and len(days) and opened < days.item(0):
        opened = None  # before every one of the days
    settled = previous_settlement(history, p.contract, days)
    ref = reference_price(days, opened, p.entry_price, settled, b.mark_price(close))
    rate = margin_rate(b.spec, days, add)
    multiplier = b.spec.multiplier
    held = position_margin(p.contracts, multiplier, ref, rate)
    unclosed = p.contracts - p.closing  # ``b.unclosed``, without the property call
    if unclosed == p.contracts:  # no close decided: the same margin
        return held, held
    return held, position_margin(unclosed, multiplier, ref, rate)


def book_margins(state, days, closes, histories, add: float):
    """The portfolio's margin of all held contracts and of those whose close is not
    decided (10.6 item 12), and each basket's (value form: lists; array form: totals
    only are meaningful per step)."""
    baskets = state.baskets
    if not len(baskets) == len(closes) == len(histories):
        counts = f"{len(baskets)}, {len(closes)}, {len(histories)}"
        raise ValueError(f"baskets, closes and settlement histories: {counts}")
    totals, held, unclosed = None, [], []
    # By place rather than zip(..., strict=True), whose keyword costs more than the loop.
    for i, b in enumerate(baskets):
        if b.position is None:  # a flat basket's 0.0 changes no sum: margins are >= 0
            held.append(0.0)
            unclosed.append(0.0)
            continue
        h, u = basket_margins(b, days, closes[i], histories[i], add)
        held.append(h)
        unclosed.append(u)
        totals = (h, u) if totals is None else (totals[0] + h, totals[1] + u)
    held_total, unclosed_total = totals or (0.0, 0.0)
    return held_total, unclosed_total, held, unclosed
