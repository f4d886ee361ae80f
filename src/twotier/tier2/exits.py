"""The exit tree (RULES.md 4.6): an ordered list of small rules; the first that fires
names the exit.

Each rule is written once, for one bar (plain numbers, in a step) and for many bars
(numpy arrays, when the engine scans ahead for the next bar where anything can fire).

The rule every exit keeps, so that the engine's scan may compute a position's next exit
once and reuse it: an exit reads only
- marks made from packages alone (close, signal, confidence, conviction, chaos count:
  ``ExitMarks``),
- the position's fields in ``EXIT_INPUTS``, which do not change while ``scan_key`` does
  not (a new trade, a cut, a close decided, a roll change the key), and
- the trailing stop's state (best close, armed), which ``trail`` carries bar by bar.
An exit that needs anything else (PV, another basket, the clock, the account) does not
belong in this tree: the scan could not see it change. tests/test_tier2_rule_forms.py
checks the rule on every exit and on runs that cut, close and roll.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twotier.config.model import ExitParams
from twotier.money import PRICE_SCALE
from twotier.numeric import decided, extremes, running_any, running_best, where
from twotier.tier2.sizing import pct
from twotier.tier2.state import Position

# The position fields an exit may read, besides the trailing state (see above).
EXIT_INPUTS = frozenset({"side", "basis", "stop", "target", "trailing"})
TRAIL_STATE = frozenset({"best_close", "armed"})


def scan_key(p: Position) -> tuple:
    """What identifies a position for the exit scan: while it is unchanged, so are the
    ``EXIT_INPUTS`` of the position."""
    return (p.trade_id, p.contracts, p.closing, p.contract)


@dataclass(slots=True)
class ExitMarks:
    """What the exit tree sees on each of a position's bars."""

    close: np.ndarray  # price
    pnl: np.ndarray  # side*(close-basis)/basis, decided
    best: np.ndarray  # best close since entry, price units
    armed: np.ndarray  # trailing stop armed
    signal: np.ndarray
    confidence: np.ndarray  # decided
    conviction: np.ndarray  # decided
    chaos: np.ndarray  # chaos count of the portfolio at the bar
    # The floor rules' loss floor (``loss_floor``), where a scan made it once per tape;
    # None: each floor rule makes its own.
    floor: np.ndarray | None = None


def exit_marks(
    p: Position,
    close_units: np.ndarray,
    signal: np.ndarray,
    confidence: np.ndarray,
    conviction: np.ndarray,
    chaos: np.ndarray,
    x: ExitParams,
    floor: np.ndarray | None = None,
) -> ExitMarks:
    """Marks of consecutive bars after the position's last mark (best close and the
    trailing stop's arming carry on from the position's state). ``confidence`` and
    ``conviction`` are decided already (a scan takes them from arrays made once), as is
    ``floor``, the loss floor of these bars, if given (``loss_floor``)."""
    close = close_units / PRICE_SCALE  # price_of, inline: the hot path of every scan
    pnl, best, armed = _trail(p, close_units, close, x)
    return ExitMarks(close, pnl, best, armed, signal, confidence, conviction, chaos, floor)


def trail(p: Position, close_units, x: ExitParams):
    """P&L, best close and arming of the trailing stop over consecutive closes."""
    return _trail(p, close_units, close_units / PRICE_SCALE, x)


def _trail(p: Position, close_units, close, x: ExitParams):
    """``trail``, given the closes as prices too (``exit_marks`` keeps them)."""
    best = running_best(close_units, p.best_close, p.side)
    basis = p.basis / PRICE_SCALE  # price_of, inline: the hot path of every scan
    # side*(close-basis)/basis as (close-basis)/(side*basis): the same bits for a side of
    # +1 or -1 (IEEE division is symmetric in sign), one array operation fewer.
    pnl = decided((close - basis) / (p.side * basis))
    if isinstance(pnl, np.ndarray) and (p.armed or not p.trailing):
        # Armed already, or never to be: the same at every bar, without three array
        # operations (most positions of a scan).
        armed = np.zeros(len(pnl), dtype=bool)  # (np.full's wrapper costs several times more)
        if p.armed:
            armed.fill(True)
        return pnl, best, armed
    armed = p.armed | (p.trailing & running_any(pnl >= x.trailing_activation))
    return pnl, best, armed


def stop_in_force(p: Position, m: ExitMarks, x: ExitParams):
    """The position's stop, capped while the chaos count is high (RULES.md 8.12)."""
    capped = min(p.stop, x.chaos_stop_cap)
    if capped == p.stop:  # the cap does not bind: the stop at every bar (no array needed)
        return p.stop
    return where(m.chaos >= x.chaos_stop_count, capped, p.stop)


def _value_at(values, i: int) -> float:
    """Bar ``i``'s value of a rule's values: an array's element, or the one value."""
    return float(values[i] if isinstance(values, np.ndarray) else values)


def trailing_level(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.best / PRICE_SCALE * (1 - p.side * x.trailing_distance)


def _armed_at_last(armed) -> bool:
    """Whether the trailing stop is armed at the last bar: once armed it stays armed
    (``trail``), so whether it is armed on any bar, at the cost of one look."""
    if isinstance(armed, np.ndarray):
        return bool(len(armed) and armed[-1])
    return bool(armed)


def trailing_stop(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    if not _armed_at_last(m.armed):  # not armed on any bar: nothing to compare (most scans)
        return m.armed
    level = decided(trailing_level(p, m, x))
    return m.armed & (p.side * (decided(m.close) - level) <= 0)


def profit_target(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.pnl >= p.target


def profit_protect(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return (m.pnl >= x.profit_protect_pnl) & (m.conviction < x.profit_protect_conviction)


def stop_loss(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.pnl <= -stop_in_force(p, m, x)


def signal_reversal(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    # signal * side < 0 for a side of +1 or -1, in one array operation instead of two
    return m.signal < 0 if p.side > 0 else m.signal > 0


def low_confidence(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.confidence < x.critical_exit_confidence


# A floor rule fires where the P&L is below a floor that the marks made from packages
# alone set at each bar (minus infinity where the rule cannot fire): the scan makes the
# highest of the enabled floor rules' floors once per tape and compares the P&L with it
# once (``below_loss_floor``), where the pnl is below any floor iff it is below the highest.


def confidence_drop_floor(m: ExitMarks, x: ExitParams):
    return where(m.confidence < x.exit_confidence, -x.confidence_drop_loss, -math.inf)


def confidence_drop_with_loss(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.pnl < confidence_drop_floor(m, x)


def chaos_regime_floor(m: ExitMarks, x: ExitParams):
    return where(m.chaos >= x.chaos_exit_count, -x.chaos_exit_loss, -math.inf)


def chaos_regime_exit(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    return m.pnl < chaos_regime_floor(m, x)


def below_loss_floor(p: Position, m: ExitMarks, x: ExitParams) -> np.ndarray:
    """Whether any floor rule fires: the marks' ``floor``, made once (scans only)."""
    return m.pnl < m.floor


Predicate = Callable[[Position, ExitMarks, ExitParams], np.ndarray]
Namer = Callable[[Position, ExitMarks, ExitParams, int], str]
Floor = Callable[[ExitMarks, ExitParams], np.ndarray]
Reach = Callable[[Position, float, float, ExitParams], bool]


def _reaches_target(p: Position, low: float, high: float, x: ExitParams) -> bool:
    return high >= p.target


def _reaches_protect(p: Position, low: float, high: float, x: ExitParams) -> bool:
    return high >= x.profit_protect_pnl


def _reaches_stop(p: Position, low: float, high: float, x: ExitParams) -> bool:
    # The stop in force is the position's, or the chaos cap below it: the lower of the
    # two is the nearest loss at which the rule can fire.
    return low <= -min(p.stop, x.chaos_stop_cap)


def _reaches_confidence_floor(p: Position, low: float, high: float, x: ExitParams) -> bool:
    return low < -x.confidence_drop_loss


def _reaches_chaos_floor(p: Position, low: float, high: float, x: ExitParams) -> bool:
    return low < -x.chaos_exit_loss


def _reaches_a_floor(p: Position, low: float, high: float, x: ExitParams) -> bool:
    # A floor rule's floor is minus its loss or minus infinity: the highest loss floor of
    # any floor rules is at most the higher of the two.
    return low < max(-x.confidence_drop_loss, -x.chaos_exit_loss)


@dataclass(frozen=True)
class ExitRule:
    switch: str  # the ExitParams flag that turns the rule on or off
    fires: Predicate
    reason: Namer
    # Reads the position's side alone and no mark of its own (close, P&L, trailing
    # state): where it fires is the same for every position of a side, so the scan finds
    # it once per tape (``side_exit_bars``).
    side_only: bool = False
    floor: Floor | None = None  # a floor rule's floor (its ``fires``: the P&L below it)
    # Whether the rule can fire at a bar whose P&L is between the two values (the lowest
    # and highest of a scan's bars), for a rule that fires only at a P&L past a threshold:
    # where it cannot, a scan passes over it without its array work (``first_exit``).
    reach: Reach | None = None


EXIT_TREE: tuple[ExitRule, ...] = (
    ExitRule("trailing_stop", trailing_stop, lambda p, m, x, i: "trailing_stop"),
    ExitRule(
        "profit_target",
        profit_target,
        lambda p, m, x, i: f"profit_target_{pct(p.target)}pct",
        reach=_reaches_target,
    ),
    ExitRule(
        "profit_protect",
        profit_protect,
        lambda p, m, x, i: f"profit_protect_{pct(x.profit_protect_pnl)}pct",
        reach=_reaches_protect,
    ),
    ExitRule(
        "stop_loss",
        stop_loss,
        lambda p, m, x, i: f"stop_loss_{pct(_value_at(stop_in_force(p, m, x), i))}pct",
        reach=_reaches_stop,
    ),
    ExitRule("signal_reversal", signal_reversal, lambda p, m, x, i: "signal_reversal", True),
    ExitRule("low_confidence", low_confidence, lambda p, m, x, i: "low_confidence", True),
    ExitRule(
        "confidence_drop_with_loss",
        confidence_drop_with_loss,
        lambda p, m, x, i: "confidence_drop_with_loss",
        floor=confidence_drop_floor,
        reach=_reaches_confidence_floor,
    ),
    ExitRule(
        "chaos_regime_exit",
        chaos_regime_exit,
        lambda p, m, x, i: "chaos_regime_exit",
        floor=chaos_regime_floor,
        reach=_reaches_chaos_floor,
    ),
)

# The floor rules together, for a scan (it needs the bar of an exit, not its name).
ANY_LOSS_FLOOR = ExitRule(
    "loss_floor", below_loss_floor, lambda p, m, x, i: "loss_floor", reach=_reaches_a_floor
)


def enabled_rules(x: ExitParams) -> tuple[ExitRule, ...]:
    """The exit tree without the rules switched off, in order."""
    return tuple(rule for rule in EXIT_TREE if getattr(x, rule.switch))


class _Side:
    """A position as a side-only rule sees it: its side, and nothing else to read."""

    __slots__ = ("side",)

    def __init__(self, side: int):
        self.side = side


def scan_rules(rules: tuple[ExitRule, ...]) -> tuple[ExitRule, ...]:
    """What a scan checks bar by bar before the next side-only exit (``side_exit_bars``):
    the rules that are neither side-only nor floor rules, in order, then
    ``ANY_LOSS_FLOOR`` if a floor rule is enabled (its marks need ``loss_floor``)."""
    kept = tuple(rule for rule in rules if not rule.side_only and rule.floor is None)
    floors = any(rule.floor is not None for rule in rules)
    return (*kept, ANY_LOSS_FLOOR) if floors else kept


def loss_floor(
    confidence: np.ndarray,
    conviction: np.ndarray,
    chaos: np.ndarray,
    x: ExitParams,
    rules: tuple[ExitRule, ...],
) -> np.ndarray | None:
    """The highest floor of the floor rules of ``rules`` at each bar of a tape (None: no
    floor rule enabled); ``confidence`` and ``conviction`` decided, as for ``exit_marks``."""
    marks = ExitMarks(None, None, None, None, None, confidence, conviction, chaos)
    floors = [rule.floor(marks, x) for rule in rules if rule.floor is not None]
    if not floors:
        return None
    return floors[0] if len(floors) == 1 else np.maximum.reduce(floors)


def side_exit_bars(
    side: int,
    signal: np.ndarray,
    confidence: np.ndarray,
    conviction: np.ndarray,
    chaos: np.ndarray,
    x: ExitParams,
    rules: tuple[ExitRule, ...],
) -> np.ndarray:
    """The bars of a tape where a side-only rule of ``rules`` fires for every position of
    ``side``, in order (``confidence`` and ``conviction`` decided, as for ``exit_marks``).
    A scan needs the other rules only before the next of these bars."""
    marks = ExitMarks(None, None, None, None, signal, confidence, conviction, chaos)
    fires = np.zeros(len(signal), dtype=bool)
    for rule in rules:
        if rule.side_only:
            fires |= rule.fires(_Side(side), marks, x)
    return np.flatnonzero(fires)


def first_exit(
    p: Position, m: ExitMarks, x: ExitParams, rules: tuple[ExitRule, ...] | None = None
) -> tuple[int, str] | None:
    """The first bar where a rule fires and the reason of the first rule that fires there
    (bar 0 for marks of one bar). ``rules``: ``enabled_rules(x)``, if already known. Over
    many bars, a rule whose threshold no bar's P&L reaches (``ExitRule.reach``) is passed
    over: it fires at none of them."""
    rules = enabled_rules(x) if rules is None else rules
    if not isinstance(m.pnl, np.ndarray):
        for rule in rules:
            if rule.fires(p, m, x):
                return 0, rule.reason(p, m, x, 0)
        return None
    first, named, span = len(m.pnl), None, None
    for rule in rules:  # in tree order: at the same bar, the earlier rule names the exit
        if rule.reach is not None:  # most windows reach no threshold but one, or none
            span = _pnl_span(m.pnl) if span is None else span
            if not rule.reach(p, *span, x):
                continue
        fires = rule.fires(p, m, x)
        i = int(fires.argmax())
        if i < first and fires[i]:
            first, named = i, rule
            if first == 0:  # no later rule can fire sooner, nor name this bar's exit
                break
    return None if named is None else (first, named.reason(p, m, x, first))


def _pnl_span(pnl: np.ndarray) -> tuple[float, float]:
    """The lowest and highest P&L of a scan's bars, for ``ExitRule.reach``: a NaN (which
    fires no threshold rule) may be passed over, or gives the widest span."""
    if not len(pnl):
        return -math.inf, math.inf
    low, high = extremes(pnl)
    if low != low or high != high:
        return -math.inf, math.inf
    return low, high
