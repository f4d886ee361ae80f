"""The portfolio view (RULES.md 4.1 step 2): chaos count, average conviction, cash-reserve
target, and what the portfolio has committed.

Written on arrays: a step evaluates them for one step, the backtest engine for a stretch
of quiet steps at once, with the same arithmetic in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twotier.config.model import LimitParams, SizingParams
from twotier.money import MONEY_SCALE, PRICE_SCALE
from twotier.tier1.regime import CHAOS
from twotier.tier2.sizing import decided, package_conviction
from twotier.tier2.state import PortfolioState


@dataclass(frozen=True)
class Commitments:
    """Committed capital, notional and exchange margin, in CNY. Positions count without
    the contracts whose close is decided; entries decided but not filled count at their
    decision price (RULES.md 8.5)."""

    committed: float | np.ndarray = 0.0
    notional: float | np.ndarray = 0.0
    margin: float | np.ndarray = 0.0

    def plus(self, committed, notional, margin_rate: float) -> Commitments:
        return Commitments(
            self.committed + committed,
            self.notional + notional,
            self.margin + notional * margin_rate,
        )


def commitments(state: PortfolioState, closes: list[np.ndarray] | None = None) -> Commitments:
    """The portfolio's commitments, with each basket marked at ``closes[i]`` (price units;
    an array over steps) or at its latest close."""
    total = Commitments()
    for b in state.baskets:
        p = b.position
        if p is not None and p.contracts - p.closing > 0 and b.last is not None:
            close = closes[b.index] if closes is not None else b.last.close
            notional = (p.contracts - p.closing) * b.spec.multiplier * close / PRICE_SCALE
            total = total.plus(p.committed, notional, b.spec.margin_rate)
        if b.entry_order is not None:
            plan = b.entry_order.plan
            total = total.plus(plan.committed, plan.notional, b.spec.margin_rate)
    return total


def chaos_count(state: PortfolioState) -> int:
    return sum(1 for b in state.baskets if b.last is not None and b.last.regime == CHAOS)


def average_conviction(state: PortfolioState, sizing: list[SizingParams]) -> float:
    """Mean conviction of baskets with a non-zero signal, decided (RULES.md 8.28); NaN when
    there is none."""
    total, count = 0.0, 0
    for b in state.baskets:
        if b.last is not None and b.last.signal != 0:
            total = total + package_conviction(b.last, sizing[b.index])
            count += 1
    return decided(total / count) if count else float("nan")


def reserve_target(chaos, avg_conviction, limits: LimitParams, fixed_share: float | None):
    """RULES.md 4.5 (on arrays); fixed mode holds the composite reserve's share of capital.
    ``avg_conviction`` is NaN where no basket has a signal (balanced, or defensive in
    chaos)."""
    one = not isinstance(chaos, np.ndarray)
    if fixed_share is not None:
        return fixed_share if one else np.full(chaos.shape, fixed_share)
    if one:  # one step: the same rule without numpy
        if chaos >= 1 or avg_conviction < limits.defensive_conviction:
            return limits.reserve_defensive
        if chaos == 0 and avg_conviction >= limits.aggressive_conviction:
            return limits.reserve_aggressive
        return limits.reserve_balanced
    avg = np.asarray(avg_conviction, dtype=np.float64)
    defensive = (chaos >= 1) | (avg < limits.defensive_conviction)
    aggressive = (chaos == 0) & (avg >= limits.aggressive_conviction)
    return np.where(
        defensive,
        limits.reserve_defensive,
        np.where(aggressive, limits.reserve_aggressive, limits.reserve_balanced),
    )


@dataclass(slots=True)
class PortfolioView:
    pv: int  # money units
    chaos: int
    average_conviction: float
    reserve_target: float

    @property
    def pv_cny(self) -> float:
        return self.pv / MONEY_SCALE
