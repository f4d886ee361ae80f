"""What Tier-2 writes down: the decision log (RULES.md 7), fills and trades."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twotier.broker.base import MARKET_CLOSED, NO_VOLUME, PRICE_LIMIT, Fill, Order, Outcome
from twotier.market.times import (
    FIXED_OFFSET_FROM_NS,
    FIXED_OFFSET_SECONDS,
    exchange_clock,
    exchange_time,
)
from twotier.money import PRICE_SCALE, cny, format_cny, price_of
from twotier.tier2.days import day_of
from twotier.tier2.sizing import EntryPlan, pct

if TYPE_CHECKING:
    import pandas as pd

SIDE = {1: "LONG", -1: "SHORT"}
WHY_NOT_FILLED = {
    PRICE_LIMIT: "locked at its price limit",
    NO_VOLUME: "not enough volume",
    MARKET_CLOSED: "market closed",
}


# Two-digit texts of months, days, hours and minutes: looked up, as formatting each with
# a format spec costs three times more (a Timestamp's year, 1677 to 2262, has four digits).
TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
# HH:MM of each minute of a day, looked up by the minute.
CLOCK_TEXT = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in range(60))


def stamp(time_ns: int) -> str:
    """[YYYY-MM-DD HH:MM] of a decision line at ``time_ns`` (nanoseconds since the epoch),
    in exchange time: from 1992 on (UTC+8 throughout) by arithmetic, the date's text
    looked up by day (about 4,600 instructions a stamp, where a datetime in the
    exchange's zone took about 11,000)."""
    if time_ns < FIXED_OFFSET_FROM_NS:  # China's summer times: the zone database's clock
        t, two = exchange_clock(time_ns), TWO_DIGITS
        return f"[{t.year}-{two[t.month]}-{two[t.day]} {two[t.hour]}:{two[t.minute]}]"
    day, second = divmod(time_ns // 1_000_000_000 + FIXED_OFFSET_SECONDS, 86_400)
    return f"[{date_text(day)} {CLOCK_TEXT[second // 60]}]"


@functools.lru_cache(maxsize=4096)
def date_text(day: int) -> str:
    """YYYY-MM-DD of the day ``day`` days after 1970-01-01 (``date.isoformat``'s text; a
    year of four digits from its number, month and day looked up: a third of the cost of
    isoformat's C formatting, and most decision lines are of a day not seen before)."""
    date = day_of(day)
    if date.year < 1000:
        return date.isoformat()
    two = TWO_DIGITS
    return f"{date.year}-{two[date.month]}-{two[date.day]}"


# Prices (in price units) below this are written from the integer, without formatting a
# float: there, units / 10,000 as a float lies far within half a ten-thousandth of the
# exact price (its spacing is below 1e-4 up to 4.5e11), so ``number_text`` of the float
# has the same digits.
EXACT_PRICE_UNITS = 10**15


def price_text(units: int) -> str:
    """``number_text`` of a price in price units (an int's text looked up: a run's fills,
    entries and exits are at a few hundred prices, and a lookup costs a third of making
    the text)."""
    if type(units) is int:
        return whole_price_text(units)
    return number_text(price_of(units))


@functools.lru_cache(maxsize=4096)
def whole_price_text(units: int) -> str:
    """``price_text`` of an int."""
    if -EXACT_PRICE_UNITS < units < EXACT_PRICE_UNITS:
        sign, size = ("-", -units) if units < 0 else ("", units)
        return f"{sign}{size // PRICE_SCALE}.{decimals_text(size % PRICE_SCALE)}"
    return number_text(price_of(units))


@functools.lru_cache(maxsize=PRICE_SCALE)
def decimals_text(fraction: int) -> str:
    """The decimals of ``fraction`` ten-thousandths: two, or as many more as it has."""
    text = f"{fraction:04d}"
    return text[:2] + text[2:].rstrip("0")


# ``pct`` of a stop or a target: a handful of values a run (the tiers' and the exits'),
# looked up at a tenth of the cost of formatting one (all above 0 by the config's checks:
# no -0.0 is given 0.0's text).
percent_text = functools.lru_cache(maxsize=256)(pct)


def number_text(price: float) -> str:
    """A price with two decimals, or as many more (up to the four that prices carry) as
    it has: 765.00, 100.675 (a tick of 0.005), 3910.6412 (a basis carried by rolls)."""
    text = f"{price:.4f}"
    return text[:-2] + text[-2:].rstrip("0")


@dataclass(slots=True)
class Decision:
    """A line of the decision log. Not changed once written (not frozen: a frozen
    dataclass costs four times as much to make, and a run writes thousands)."""

    time_ns: int  # the decision's step, nanoseconds since the epoch
    kind: str  # ENTRY, CLOSE, FILL, BLOCK, FALLBACK, BREAKER, SKIP
    basket: int | None
    reason: str
    text: str

    @property
    def time(self) -> pd.Timestamp:
        """The step's time as a Timestamp in exchange time."""
        return exchange_time(self.time_ns)


def decision_line(method):
    """A method that writes a line of the decision log: nothing is written, or even
    formatted, where the journal keeps no log (a sweep's runs, which keep only the
    trades and fills their figures need)."""

    @functools.wraps(method)
    def write_if_kept(self, *args, **kwargs) -> None:
        if self.log_decisions:
            method(self, *args, **kwargs)

    return write_if_kept


@dataclass
class Journal:
    """The decision lines, and the rows of fills and trades (times in them: nanoseconds
    since the epoch, made Timestamps when the tables are made, ``run.result.frame``)."""

    decisions: list[Decision] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    log_decisions: bool = True

    def write(self, time_ns: int, kind: str, basket: int | None, reason: str, text: str) -> None:
        line = f"{stamp(time_ns)} {text}"
        self.decisions.append(Decision(time_ns, kind, basket, reason, line))

    @decision_line
    def entry(
        self,
        time_ns: int,
        basket: int,
        instrument: str,
        plan: EntryPlan,
        conf: float,
        strength: float,
    ) -> None:
        self.write(
            time_ns,
            "ENTRY",
            basket,
            plan.tier,
            f"{SIDE[plan.side]} basket {basket} [{plan.tier}]: {instrument}, "
            f"contracts={plan.contracts}, size={plan.size_fraction:.0%}, lev={plan.leverage:.2f}x "
            f"(eff {plan.effective_leverage:.2f}x), stop={percent_text(plan.stop)}%, "
            f"target={percent_text(plan.target)}%, price={number_text(plan.price)}, "
            f"conv={plan.conviction:.2f} "
            f"(conf={conf:.2f}, str={strength:.2f})",
        )

    @decision_line
    def close(
        self,
        time_ns: int,
        basket: int,
        instrument: str,
        side: int,
        reason: str,
        entry: int,
        exit_: int,
        contracts: int,
        held: int,
        pnl: int | None,
        basis: float | None = None,
    ) -> None:
        """``basis``: the entry price as stops and targets see it, carried by rolls (price
        units); the P&L is against it, as the exit rules and ``return_pct`` are."""
        rolled = basis is not None and basis != entry
        base = basis if rolled else entry
        move = side * (exit_ - base) / base
        part = "" if contracts == held else f", contracts={contracts} of {held}"
        money = f" ({format_cny(pnl, sign=True)})" if pnl is not None else ""
        start = (
            f"basis={price_text(base)} (the entry carried by rolls)"
            if rolled
            else f"entry={price_text(entry)}"
        )
        self.write(
            time_ns,
            "CLOSE",
            basket,
            reason,
            f"CLOSE basket {basket} [{reason}]: {instrument}, {SIDE[side]}{part}, "
            f"{start}, exit={price_text(exit_)}, P&L={move:+.2%}{money}",
        )

    @decision_line
    def block(
        self,
        time_ns: int,
        basket: int,
        instrument: str,
        side: int,
        reason: str,
        conv: float,
        conf: float,
        strength: float,
        detail: str,
        kind: str = "BLOCK",
    ) -> None:
        self.write(
            time_ns,
            kind,
            basket,
            reason,
            f"{kind} basket {basket} [{reason}]: {instrument}, {SIDE[side]}, "
            f"conv={conv:.2f} (conf={conf:.2f}, str={strength:.2f}), {detail}",
        )

    @decision_line
    def fallback(self, time_ns: int, basket: int, instrument: str, label: str, attempts) -> None:
        tried = "; ".join(str(a) for a in attempts)
        self.write(
            time_ns,
            "FALLBACK",
            basket,
            label,
            f"FALLBACK basket {basket} [{label}]: {instrument}, {tried}",
        )

    @decision_line
    def roll(
        self, time_ns: int, basket: int, instrument: str, side: int, contracts: int, roll
    ) -> None:
        self.write(
            time_ns,
            "ROLL",
            basket,
            "roll",
            f"ROLL basket {basket}: {instrument}, {SIDE[side]} {contracts}, "
            f"{roll.old_contract} -> {roll.new_contract}, old={number_text(roll.old_price)}, "
            f"new={number_text(roll.new_price)}, ratio={roll.ratio:.6f}",
        )

    @decision_line
    def delayed(
        self, time_ns: int, basket: int, instrument: str, order: Order, code: str, why: str
    ) -> None:
        """A close that did not fill (all or part of it): it waits for the next bar."""
        verb = "BUY" if order.action > 0 else "SELL"
        self.write(
            time_ns,
            "WAIT",
            basket,
            code,
            f"WAIT basket {basket} [{code}]: {instrument}, {verb} {order.contracts} "
            f"({order.reason}) not filled: {WHY_NOT_FILLED.get(why, why)}; tried again at "
            "the next bar",
        )

    @decision_line
    def unfilled(
        self, time_ns: int, basket: int, instrument: str, order: Order, outcome: Outcome, code: str
    ) -> None:
        """An entry that filled in part or not at all: the rest is cancelled."""
        filled = outcome.filled
        what = f"filled {filled} of {order.contracts}" if filled else "not filled"
        self.write(
            time_ns,
            "CANCEL",
            basket,
            code,
            f"CANCEL basket {basket} [{code}]: {instrument}, {SIDE[order.action]} "
            f"{order.contracts - filled} of {order.contracts} cancelled ({what}: "
            f"{WHY_NOT_FILLED.get(outcome.reason, outcome.reason)})",
        )

    @decision_line
    def left_open(self, time_ns: int, basket: int, instrument: str, order: Order, outcome: Outcome):
        """A close at the data's end (``close_at_end``) that did not fill whole: the rest
        of the position stays open, reported as such."""
        verb = "BUY" if order.action > 0 else "SELL"
        rest = order.contracts - outcome.filled
        self.write(
            time_ns,
            "CANCEL",
            basket,
            "end_of_data_unfilled",
            f"CANCEL basket {basket} [end_of_data_unfilled]: {instrument}, {verb} {rest} of "
            f"{order.contracts} ({order.reason}) not filled: "
            f"{WHY_NOT_FILLED.get(outcome.reason, outcome.reason)}; open at the data's end",
        )

    @decision_line
    def entry_cancelled(self, time_ns: int, basket: int, instrument: str, order: Order, why: str):
        """An entry not yet filled that a breaker cancels (its episode may be traded
        later)."""
        self.write(
            time_ns,
            "CANCEL",
            basket,
            f"entry_cancelled_{why}",
            f"CANCEL basket {basket} [entry_cancelled_{why}]: {instrument}, "
            f"{SIDE[order.action]} {order.contracts} cancelled before its fill ({why})",
        )

    @decision_line
    def breaker(self, time_ns: int, reason: str, text: str) -> None:
        self.write(time_ns, "BREAKER", None, reason, f"BREAKER {reason}: {text}")

    @decision_line
    def fill(self, basket: int, fill: Fill) -> None:
        o = fill.order
        verb = "BUY" if o.action > 0 else "SELL"
        slip = f", slippage {price_text(fill.slippage)}" if fill.slippage else ""
        self.write(
            fill.time_ns,
            "FILL",
            basket,
            o.reason,
            f"FILL basket {basket}: {o.instrument}, {verb} {fill.contracts} @ "
            f"{price_text(fill.price)} ({fill.price_kind}{slip}), "
            f"fee {format_cny(fill.fee)}, {o.reason}",
        )

    def record_fill(self, basket: int, fill: Fill, waited: int | None = None) -> None:
        """A row of fills.csv; ``waited``: the bars the order waited, where counted."""
        o = fill.order
        row = {
            "time": fill.time_ns,
            "trading_day": fill.trading_day,
            "basket": basket,
            "instrument": o.instrument,
            "contract": o.contract,
            "side": "BUY" if o.action > 0 else "SELL",
            "contracts": fill.contracts,
            "price": price_of(fill.price),
            "price_kind": fill.price_kind,
            "slippage": price_of(fill.slippage),
            "fee": cny(fill.fee),
            "close_today": fill.close_today,
            "opens": o.opens,
            "reason": o.reason,
            "decided_at": o.decided_ns,
        }
        if waited is not None:
            row["bars_waited"] = waited
        self.fills.append(row)
