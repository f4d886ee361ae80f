"""Soft limits and the fallback chain (RULES.md 4.3).

Each soft limit is a small function of the portfolio after the entry: ``None`` when it
holds, else what it found ("exposure 92.00% exceeds limit 90%"). When one fails the entry
is retried smaller: (1) size x 0.6, (2) that at leverage 1.1, (3) size 0.20 at leverage
1.0; the first that passes with at least one contract is taken.

Its values are not changed once made (slotted, not frozen: see ``sizing``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twotier.config.model import LimitParams
from twotier.numeric import decided
from twotier.tier2.sizing import EntryPlan, EntryRules, contracts_for, finish_plan
from twotier.tier2.view import Commitments


@dataclass(slots=True)
class LimitContext:
    pv: float  # CNY, at the moment of the check
    before: Commitments  # the portfolio's commitments without this entry
    margin_rate: float
    reserve_target: float
    max_leverage: float  # portfolio leverage cap in force
    limits: LimitParams


def exposure(after: Commitments, ctx: LimitContext) -> str | None:
    value = float(decided(after.committed / ctx.pv))
    if value <= ctx.limits.max_exposure:
        return None
    return f"exposure {value:.2%} exceeds limit {ctx.limits.max_exposure:.0%}"


def cash_reserve(after: Commitments, ctx: LimitContext) -> str | None:
    value = float(decided((ctx.pv - after.committed) / ctx.pv))
    if value >= ctx.reserve_target:
        return None
    return f"reserve {value:.2%} < {ctx.reserve_target:.0%}"


def margin(after: Commitments, ctx: LimitContext) -> str | None:
    if float(decided(after.margin)) <= float(decided(ctx.pv)):
        return None
    return f"margin {after.margin:,.2f} exceeds PV {ctx.pv:,.2f}"


def portfolio_leverage(after: Commitments, ctx: LimitContext) -> str | None:
    value = float(decided(after.notional / ctx.pv))
    if value <= ctx.max_leverage:
        return None
    return f"leverage {value:.2f}x exceeds cap {ctx.max_leverage:.2f}x"


SOFT_LIMITS: tuple[tuple[str, Callable[[Commitments, LimitContext], str | None]], ...] = (
    ("exposure_limit", exposure),
    ("cash_reserve_limit", cash_reserve),
    ("margin_limit", margin),
    ("leverage_limit", portfolio_leverage),
)


def failures(plan: EntryPlan, ctx: LimitContext) -> list[str]:
    notional = plan.notional
    after = ctx.before.plus(plan.committed, notional, notional * ctx.margin_rate)
    found = []
    for switch, rule in SOFT_LIMITS:
        if getattr(ctx.limits, switch):
            problem = rule(after, ctx)
            if problem:
                found.append(problem)
    return found


@dataclass(slots=True)
class Attempt:
    label: str  # original, fallback_1, ...
    problems: list[str]

    def __str__(self) -> str:
        return f"{self.label}: {', '.join(self.problems)}"


def with_fallbacks(
    plan: EntryPlan, equity: float, ctx: LimitContext, rules: EntryRules
) -> tuple[EntryPlan | None, list[Attempt], str]:
    """The entry to execute (or None), the failed attempts, and the label of the one
    taken ('original' when the plan passed as it was)."""
    problems = failures(plan, ctx)
    if not problems:
        return plan, [], "original"
    attempts = [Attempt("original", problems)]
    if not ctx.limits.fallback_chain:
        return None, attempts, ""
    limits = ctx.limits
    variants = (
        ("fallback_1", plan.size_fraction * limits.fallback_size_factor, plan.tier_leverage),
        ("fallback_2", plan.size_fraction * limits.fallback_size_factor, limits.fallback_leverage),
        ("fallback_3", limits.fallback_min_size, limits.fallback_min_leverage),
    )
    for label, size, leverage in variants:
        committed = equity * size
        contracts = contracts_for(committed, leverage, plan.price, plan.multiplier)
        if contracts < 1:
            attempts.append(Attempt(label, ["0 contracts"]))
            continue
        smaller = finish_plan(
            plan.side,
            plan.tier,
            plan.conviction,
            size,
            leverage,
            committed,
            contracts,
            plan.price,
            plan.multiplier,
            rules,
            leverage,
        )
        problems = failures(smaller, ctx)
        if not problems:
            return smaller, attempts, label
        attempts.append(Attempt(label, problems))
    return None, attempts, ""
