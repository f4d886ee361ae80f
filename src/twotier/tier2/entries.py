"""Entries (RULES.md 4.2, 4.3, 4.4's hard blocks, 11's delivery deadline): a flat basket
with a signal it may trade is sized, checked against the soft limits with the fallback
chain, and its order decided (filled at once under ``close`` fills)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twotier.broker.base import Order
from twotier.money import cny, format_cny, price_of
from twotier.tier2.fills import book_entry, quote
from twotier.tier2.limits import LimitContext, with_fallbacks
from twotier.tier2.sizing import (
    EntryRules,
    LeverageCaps,
    Skip,
    entry_gate,
    package_conviction,
    plan_entry,
)
from twotier.tier2.state import BasketState, Package, PendingEntry, PortfolioState, StepInput
from twotier.tier2.view import PortfolioView, commitments

if TYPE_CHECKING:
    from twotier.tier2.composite import Composite, Marks

HALTS = {
    "drawdown_halt": "drawdown breaker fired today",
    "daily_loss_halt": "daily loss limit hit today",
    "forced_liquidation_halt": "positions force-closed today",
}


def untried_signal(b: BasketState, pkg: Package) -> bool:
    """Whether the bar has a signal of an episode the basket has not traded (RULES.md
    4.2): most bars have none, and then there is no entry to try."""
    return pkg.signal != 0 and pkg.episode != b.traded_episode


def try_entry(
    c: Composite,
    state: PortfolioState,
    b: BasketState,
    pkg: Package,
    inp: StepInput,
    view: PortfolioView,
    marks: Marks,
) -> None:
    """A flat basket's entry on this bar, whose signal is one it has not traded
    (``untried_signal``), if the signal may be traded: blocks and skips are logged
    (RULES.md 7, 8.8); the order fills at the next bar, or at once under ``close``.
    ``marks``: the step's (``Composite.mark``)."""
    s = c.sizing[b.index]
    conv = package_conviction(pkg, s)
    if not entry_gate(pkg.signal, pkg.confidence, pkg.strength, conv, s):
        return
    side = pkg.signal
    hard = hard_block(c, state, inp, view)
    if hard is not None:
        return block(c, b, pkg, inp, conv, *hard)
    if pkg.contract is not None and c.deadlines.reached(pkg.contract, inp.trading_day):
        deadline = c.deadlines.of(pkg.contract, inp.trading_day)
        detail = f"{pkg.contract}: delivery deadline {deadline}"
        return block(c, b, pkg, inp, conv, "delivery_deadline_block", detail)
    equity = b.equity()
    if equity <= 0:
        return block(c, b, pkg, inp, conv, "no_equity", f"basket equity {format_cny(equity)}")
    rules = entry_rules(c, state, b.index, view)
    plan = plan_entry(side, conv, cny(equity), price_of(pkg.close), b.spec.multiplier, rules)
    if isinstance(plan, Skip):
        return block(c, b, pkg, inp, conv, plan.reason, plan.detail)
    ctx = limit_context(c, state, b, inp, view, rules.caps.portfolio_max(s), marks)
    chosen, attempts, label = with_fallbacks(plan, cny(equity), ctx, rules)
    if chosen is None:
        tried = "; ".join(str(a) for a in attempts)
        return block(c, b, pkg, inp, conv, "soft_limits", tried, kind="SKIP")
    if attempts:
        c.journal.fallback(inp.time_ns, b.index, b.instrument, label, attempts)
    c.journal.entry(inp.time_ns, b.index, b.instrument, chosen, pkg.confidence, pkg.strength)
    order = Order.entry(b.index, b.instrument, side, chosen.contracts, inp.time_ns, pkg.contract)
    b.traded_episode = pkg.episode
    waiting = PendingEntry(chosen, order, pkg.episode)
    if c.fill_at == "close":
        outcome = c.broker.execute(order, quote(pkg), "close")
        book_entry(c, state, b, waiting, outcome, pkg)
    else:
        b.entry_order = waiting


def block(
    c: Composite,
    b: BasketState,
    pkg: Package,
    inp: StepInput,
    conv: float,
    reason: str,
    detail: str,
    kind: str = "BLOCK",
) -> None:
    """An entry blocked or skipped (RULES.md 7): its decision line."""
    c.journal.block(inp.time_ns, b.index, b.instrument, pkg.signal, reason, conv,
                    pkg.confidence, pkg.strength, detail, kind)  # fmt: skip


def limit_context(
    c: Composite, state, b, inp, view, max_leverage: float, marks: Marks
) -> LimitContext:
    """The portfolio as the soft limits see it at the moment of the check (RULES.md 4.3,
    8.5): margin at the trading day's rates plus the broker's, of positions as RULES.md
    10.4 takes it where forced liquidation is on. The step's marks serve where nothing
    has changed the book or its closes since (``Marks.hold``)."""
    day = inp.trading_day
    rates = c.margin_rates(day)
    held = marks.hold(c)
    positions = None
    if c.margins_on:
        positions = (marks.margins if held else c.margins(state, day))[3]
    pv = cny(marks.pv if held else state.pv())
    before = commitments(state, margin_rates=rates, position_margins=positions)
    # by place: a class called with keywords costs about three times as much to make
    return LimitContext(pv, before, rates[b.index], view.reserve_target, max_leverage, c.limits)


def hard_block(c: Composite, state: PortfolioState, inp: StepInput, view: PortfolioView):
    """A halt of the trading day or the chaos block (RULES.md 4.4): (reason, detail)."""
    rules = c.breaker_rules
    if state.halted_day == inp.trading_day:
        why = HALTS.get(state.halt_reason, state.halt_reason)
        return state.halt_reason, f"{why}: no entries until the next trading day"
    if rules.chaos_block and view.chaos >= rules.chaos_block_count:
        return "chaos_block", f"chaos count {view.chaos} >= {rules.chaos_block_count}"
    return None


def entry_rules(c: Composite, state: PortfolioState, index: int, view: PortfolioView) -> EntryRules:
    """What sizing needs besides the package: caps halved after a drawdown breaker (8.9),
    the chaos caution (4.2)."""
    b = c.breaker_rules
    halved = state.day_number <= state.caps_halved_through
    caps = LeverageCaps(b.drawdown_leverage_factor if halved else 1.0)
    caution = b.chaos_caution and view.chaos >= b.chaos_caution_count
    return EntryRules(c.sizing[index], c.exits[index], caps, caution, b.chaos_target_cap)
