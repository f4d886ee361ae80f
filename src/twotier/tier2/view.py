"""The portfolio view (RULES.md 4.1 step 2): chaos count, average conviction, cash-reserve
target, and what the portfolio has committed.

Each rule is written once for one step (plain numbers) and for many steps (arrays): the
step evaluates it on the baskets' latest packages, the backtest engine on every step of a
run at once, with the same arithmetic in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twotier.config.model import LimitParams, SizingParams
from twotier.money import cny, price_of
from twotier.numeric import ARRAY, at_least, decided, filled_like, largest, where
from twotier.tier1.regime import CHAOS
from twotier.tier2.sizing import package_conviction
from twotier.tier2.state import PortfolioState

NO_REGIME = -1  # a basket that has no package yet


@dataclass(slots=True)
class Commitments:
    """Committed capital, notional and exchange margin, in CNY. Positions count without
    the contracts whose close is decided; entries decided but not filled count at their
    decision price (RULES.md 8.5). Not changed once made (``plus`` makes another; not
    frozen, which would cost four times as much to make at every step's record)."""

    committed: float | np.ndarray = 0.0
    notional: float | np.ndarray = 0.0
    margin: float | np.ndarray = 0.0

    def plus(self, committed, notional, margin) -> Commitments:
        return Commitments(
            self.committed + committed, self.notional + notional, self.margin + margin
        )


def commitments(
    state: PortfolioState,
    closes: list[np.ndarray] | None = None,
    *,
    margin_rates: list[float] | None = None,
    position_margins: list[float] | None = None,
    with_margin: bool = True,
) -> Commitments:
    """The portfolio's commitments, with each basket marked at ``closes[i]`` (price units;
    an array over steps) or at its latest close. Margin: of positions, their margin as
    RULES.md 10.4 takes it where ``position_margins`` are given, else notional times the
    basket's ``margin_rates`` (the instrument's own rate by default); of entries not
    filled, notional at the decision price times the rate. ``with_margin`` False leaves
    the margin at 0 (the records read the committed capital and notional alone)."""
    # Summed in the order Commitments.plus would take them, without making one a basket;
    # a position's notional first in the sum as it is (None before it): 0.0 + a notional
    # is the notional, none being -0.0 (sizes and prices are > 0), and over a stretch that
    # is an array operation.
    committed, notional_total, margin_total = 0.0, None, 0.0
    for b in state.baskets:
        p = b.position
        unclosed = 0 if p is None else p.contracts - p.closing
        if unclosed > 0 and b.last is not None:
            close = closes[b.index] if closes is not None else b.last.close
            if b.pending_roll is not None:
                close = b.mark_price(close)
            notional = notional_of(unclosed * b.spec.multiplier, close)
            margin = 0.0
            if with_margin and position_margins is None:
                margin = notional * _margin_rate(b, margin_rates)
            elif with_margin:
                margin = position_margins[b.index]
            committed = committed + p.committed
            notional_total = notional if notional_total is None else notional_total + notional
            margin_total = margin_total + margin
        if b.entry_order is not None:
            plan = b.entry_order.plan
            notional = plan.notional
            committed = committed + plan.committed
            notional_total = (0.0 if notional_total is None else notional_total) + notional
            if with_margin:
                margin_total = margin_total + notional * _margin_rate(b, margin_rates)
    return Commitments(committed, 0.0 if notional_total is None else notional_total, margin_total)


def _margin_rate(b, margin_rates: list[float] | None) -> float:
    """The basket's margin rate: ``margin_rates``' or its instrument's own (read only where
    a margin is taken: a record takes none, and a pydantic model's attribute costs several
    times a slot's)."""
    return b.spec.margin_rate if margin_rates is None else margin_rates[b.index]


INT64_MAX = np.iinfo(np.int64).max


def notional_of(size: int, close):
    """``size`` (contracts x multiplier) at ``close`` (price units; one, or an array over
    steps) in CNY. A position's value can pass what int64 holds (a basket leveraged 10x
    on a PV of 1e14 CNY) while its P&L and PV stay within it: such an array is multiplied
    in Python integers (int64 would wrap around silently)."""
    wraps = isinstance(close, ARRAY) and len(close) and size * int(largest(close)) > INT64_MAX
    if wraps:
        return np.array([price_of(size * c) for c in close.tolist()], dtype=np.float64)
    return price_of(size * close)  # one close is a Python int or float: no limit to pass


def chaos_count(regimes):
    """Baskets whose latest regime is chaos; ``regimes``: one per basket (a value, or an
    array over steps), NO_REGIME for a basket without a package yet."""
    count = 0
    for regime in regimes:
        count = count + (regime == CHAOS)
    return count


def average_conviction(signals, convictions):
    """Mean conviction of the baskets with a non-zero signal, decided (RULES.md 8.28); NaN
    where there is none. One signal and conviction per basket (values or arrays over
    steps), signal 0 for a basket without a package yet."""
    total, count = 0.0, 0
    for signal, conviction in zip(signals, convictions, strict=True):
        signalled = signal != 0
        total = total + where(signalled, conviction, 0.0)
        count = count + signalled
    return where(count > 0, decided(total / at_least(count, 1)), float("nan"))


def reserve_target(chaos, avg_conviction, limits: LimitParams, fixed_share: float | None):
    """RULES.md 4.5; fixed mode holds the composite reserve's share of capital.
    ``avg_conviction`` is NaN where no basket has a signal (balanced, or defensive in
    chaos)."""
    if fixed_share is not None:
        return filled_like(chaos, fixed_share)
    defensive = (chaos >= 1) | (avg_conviction < limits.defensive_conviction)
    aggressive = (chaos == 0) & (avg_conviction >= limits.aggressive_conviction)
    return where(
        defensive,
        limits.reserve_defensive,
        where(aggressive, limits.reserve_aggressive, limits.reserve_balanced),
    )


def latest_regimes(state: PortfolioState) -> list:
    return [NO_REGIME if b.last is None else b.last.regime for b in state.baskets]


def latest_signals(state: PortfolioState, sizing: list[SizingParams]) -> tuple[list, list]:
    """Each basket's latest signal and conviction (0 and None without a package; the
    conviction is not needed without a signal)."""
    signals, convictions = [], []
    for b in state.baskets:
        last = b.last
        signal = 0 if last is None else last.signal
        signals.append(signal)
        convictions.append(package_conviction(last, sizing[b.index]) if signal else None)
    return signals, convictions


@dataclass(slots=True)
class PortfolioView:
    pv: int  # money units
    chaos: int
    average_conviction: float
    reserve_target: float

    @property
    def pv_cny(self) -> float:
        return cny(self.pv)
