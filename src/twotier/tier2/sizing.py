"""Entries: conviction, tiers, size, leverage and contracts (RULES.md 4.2).

conviction = 0.6*confidence + 0.4*signal_strength
STRONG >= 0.55: size 0.80 + (c-0.55)*0.44, leverage clamp(1 + 12.86c, 4, 10)
MEDIUM >= 0.35: size 0.40 + (c-0.35)*1.00, leverage clamp(1 + 10c, 2.5, 6)
WEAK   >= 0.20: size 0.20 + (c-0.20)*(0.10/0.15), leverage clamp(1 + 10c, 1.5, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twotier.config.model import ExitParams, SizingParams, SizingTier
from twotier.numeric import decided

# The values of this module (and of the limits') are not changed once made. They are
# slotted dataclasses rather than frozen ones: a frozen dataclass sets each field through
# object.__setattr__, four times the cost, and every entry tried makes several.


def pct(value: float) -> str:
    """0.07 -> '7', 0.025 -> '2.5' (reason codes and logs)."""
    return f"{value * 100:g}"


def conviction(confidence, strength, s: SizingParams):
    """conviction = 0.6*confidence + 0.4*signal_strength, decided (one bar, or arrays)."""
    return decided(s.confidence_weight * confidence + s.strength_weight * strength)


def package_conviction(pkg, s: SizingParams) -> float:
    """A package's conviction: precomputed by the tape (same formula), else computed."""
    if pkg.conviction is not None:
        return pkg.conviction
    return conviction(pkg.confidence, pkg.strength, s)


def entry_gate(signal, confidence, strength, conviction, s: SizingParams):
    """Whether a flat basket may try an entry on a bar (RULES.md 4.2): a signal, and
    confidence, strength and conviction at their minima (one bar, or arrays of bars;
    ``conviction`` decided). The one-trade-per-episode rule is the caller's: it needs the
    basket's state."""
    return (
        (signal != 0)
        & (decided(confidence) >= s.min_confidence)
        & (decided(strength) >= s.min_signal_strength)
        & (conviction >= s.min_conviction)
    )


def tier_of(c: float, s: SizingParams) -> tuple[str, SizingTier] | None:
    for name, tier in (("STRONG", s.strong), ("MEDIUM", s.medium), ("WEAK", s.weak)):
        if c >= tier.threshold:
            return name, tier
    return None


def lesser(a: float, b: float) -> float:
    """``min(a, b)``, the same value for any two numbers (NaN included): the builtin
    parses its keyword arguments at every call, several times the cost of a comparison."""
    return b if b < a else a


def clamp(value: float, low: float, high: float) -> float:
    """``min(max(value, low), high)``, compared as the builtins compare (``lesser``)."""
    raised = low if low > value else value
    return high if high < raised else raised


@dataclass(slots=True)
class LeverageCaps:
    """Leverage caps in force: halved for a while after a drawdown breaker (RULES.md 8.9)."""

    factor: float = 1.0

    def tier_max(self, tier: SizingTier) -> float:
        return tier.leverage_max * self.factor

    def basket_max(self, s: SizingParams) -> float:
        return lesser(s.max_basket_leverage, s.max_leverage) * self.factor

    def portfolio_max(self, s: SizingParams) -> float:
        return s.max_leverage * self.factor


def stop_for(effective_leverage: float, x: ExitParams) -> float:
    """Stop loss by effective leverage: <= 2x 3.0%, <= 4x 2.5%, <= 6x 2%, <= 10x 1.5%, else 1%."""
    lev = decided(effective_leverage)
    for band, stop in x.stop_losses:
        if lev <= band:
            return stop
    return x.stop_loss_above


def target_for(effective_leverage: float, x: ExitParams) -> float:
    """Profit target by effective leverage: >= 5x 7%, >= 3x 8%, else 10%."""
    lev = decided(effective_leverage)
    for band, target in x.profit_targets:
        if lev >= band:
            return target
    return x.profit_targets[-1][1]


@dataclass(slots=True)
class EntryPlan:
    """A sized entry, ready for the soft limits."""

    side: int
    tier: str
    conviction: float
    size_fraction: float
    leverage: float  # nominal, after caps (and any minimum-contract raise)
    committed: float  # CNY of basket equity put behind the position
    contracts: int
    price: float
    multiplier: int
    stop: float
    target: float
    trailing: bool
    tier_leverage: float  # the tier's leverage before any minimum-contract raise

    @property
    def notional(self) -> float:
        return self.contracts * self.price * self.multiplier

    @property
    def effective_leverage(self) -> float:
        return self.notional / self.committed


@dataclass(slots=True)
class Skip:
    """An entry that cannot be made, with its reason code and the figures behind it."""

    reason: str
    detail: str


def contracts_for(committed: float, leverage: float, price: float, multiplier: int) -> int:
    return math.floor(decided(committed * leverage / (price * multiplier)))


@dataclass(slots=True)
class EntryRules:
    """What sizing needs besides the package: parameters and the portfolio's condition."""

    sizing: SizingParams
    exits: ExitParams
    caps: LeverageCaps
    chaos_caution: bool  # chaos count >= 1: WEAK tier at most, target <= chaos_target_cap
    chaos_target_cap: float


def plan_entry(
    side: int, c: float, equity: float, price: float, multiplier: int, rules: EntryRules
) -> EntryPlan | Skip:
    s = rules.sizing
    found = tier_of(c, s)
    if found is None:
        return Skip("low_conviction", f"conviction {c:.2f} below {s.weak.threshold:.2f}")
    name, tier = found
    if rules.chaos_caution:  # RULES.md 8.2: WEAK formulas with conviction min(c, 0.35)
        name, tier, c_size = "WEAK", s.weak, lesser(c, s.medium.threshold)
    else:
        c_size = c
    one_contract = price * multiplier
    if s.leverage_mode == "fixed":
        size, leverage = s.fixed_size_fraction, s.fixed_leverage
        committed = equity * size
        contracts = contracts_for(committed, leverage, price, multiplier)
        if contracts == 0:
            need = one_contract / committed
            return Skip(
                "below_min_contract",
                f"one contract {one_contract:,.2f} needs lev {need:.2f}x > fixed {leverage:.2f}x",
            )
        tier_leverage = leverage
    else:
        size = tier.size_base + (c_size - tier.threshold) * tier.size_slope
        tier_cap = rules.caps.tier_max(tier)
        cap = lesser(tier_cap, rules.caps.basket_max(s))
        nominal = 1 + tier.leverage_multiplier * c_size
        leverage = lesser(clamp(nominal, tier.leverage_min, tier_cap), cap)
        tier_leverage = leverage
        committed = equity * size
        if committed <= 0:  # a tier whose size is 0 at this conviction
            return Skip("below_min_contract", f"size {size:.0%} commits nothing")
        contracts = contracts_for(committed, leverage, price, multiplier)
        if contracts == 0:
            need = one_contract / committed
            if not s.min_contract_raise or decided(need) > decided(cap):
                return Skip(
                    "below_min_contract",
                    f"one contract {one_contract:,.2f} needs lev {need:.2f}x > cap {cap:.2f}x",
                )
            contracts, leverage = 1, need
    return finish_plan(
        side, name, c, size, leverage, committed, contracts, price, multiplier, rules, tier_leverage
    )


def finish_plan(
    side: int,
    tier_name: str,
    c: float,
    size: float,
    leverage: float,
    committed: float,
    contracts: int,
    price: float,
    multiplier: int,
    rules: EntryRules,
    tier_leverage: float,
) -> EntryPlan:
    """Stops, target and trailing for a sized entry (by effective leverage in smart mode,
    by tier in fixed mode)."""
    s, x = rules.sizing, rules.exits
    effective = contracts * price * multiplier / committed
    if s.leverage_mode == "fixed":
        tier = s.weak if rules.chaos_caution else getattr(s, tier_name.lower())
        stop, target = tier.fixed_stop, tier.fixed_target
    else:
        stop, target = stop_for(effective, x), target_for(effective, x)
    if rules.chaos_caution:
        target = lesser(target, rules.chaos_target_cap)
    trailing = x.trailing_stop and decided(effective) >= x.trailing_min_leverage
    return EntryPlan(
        side,
        tier_name,
        c,
        size,
        leverage,
        committed,
        contracts,
        price,
        multiplier,
        stop,
        target,
        trailing,
        tier_leverage,
    )
