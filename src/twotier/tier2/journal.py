"""What Tier-2 writes down: the decision log (RULES.md 7), fills and trades."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from twotier.broker.base import Fill
from twotier.money import MONEY_SCALE, PRICE_SCALE, format_cny
from twotier.tier2.sizing import EntryPlan, pct

SIDE = {1: "LONG", -1: "SHORT"}


def stamp(t: pd.Timestamp) -> str:
    return f"[{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}]"


def price_text(units: int) -> str:
    return f"{units / PRICE_SCALE:.2f}"


@dataclass(frozen=True)
class Decision:
    time: pd.Timestamp
    kind: str  # ENTRY, CLOSE, FILL, BLOCK, FALLBACK, BREAKER, SKIP
    basket: int | None
    reason: str
    text: str


@dataclass
class Journal:
    decisions: list[Decision] = field(default_factory=list)
    fills: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)

    def write(self, time, kind: str, basket: int | None, reason: str, text: str) -> None:
        self.decisions.append(Decision(time, kind, basket, reason, f"{stamp(time)} {text}"))

    def entry(
        self, time, basket: int, instrument: str, plan: EntryPlan, conf: float, strength: float
    ) -> None:
        self.write(
            time,
            "ENTRY",
            basket,
            plan.tier,
            f"{SIDE[plan.side]} basket {basket} [{plan.tier}]: {instrument}, "
            f"contracts={plan.contracts}, size={plan.size_fraction:.0%}, lev={plan.leverage:.2f}x "
            f"(eff {plan.effective_leverage:.2f}x), stop={pct(plan.stop)}%, "
            f"target={pct(plan.target)}%, price={plan.price:.2f}, conv={plan.conviction:.2f} "
            f"(conf={conf:.2f}, str={strength:.2f})",
        )

    def close(
        self,
        time,
        basket: int,
        instrument: str,
        side: int,
        reason: str,
        entry: int,
        exit_: int,
        contracts: int,
        held: int,
        pnl: int | None,
    ) -> None:
        move = side * (exit_ - entry) / entry
        part = "" if contracts == held else f", contracts={contracts} of {held}"
        money = f" ({format_cny(pnl, sign=True)})" if pnl is not None else ""
        self.write(
            time,
            "CLOSE",
            basket,
            reason,
            f"CLOSE basket {basket} [{reason}]: {instrument}, {SIDE[side]}{part}, "
            f"entry={price_text(entry)}, exit={price_text(exit_)}, "
            f"P&L={move:+.2%}{money}",
        )

    def block(
        self,
        time,
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
            time,
            kind,
            basket,
            reason,
            f"{kind} basket {basket} [{reason}]: {instrument}, {SIDE[side]}, "
            f"conv={conv:.2f} (conf={conf:.2f}, str={strength:.2f}), {detail}",
        )

    def fallback(self, time, basket: int, instrument: str, label: str, attempts) -> None:
        tried = "; ".join(str(a) for a in attempts)
        self.write(
            time,
            "FALLBACK",
            basket,
            label,
            f"FALLBACK basket {basket} [{label}]: {instrument}, {tried}",
        )

    def roll(self, time, basket: int, instrument: str, side: int, contracts: int, roll) -> None:
        self.write(
            time,
            "ROLL",
            basket,
            "roll",
            f"ROLL basket {basket}: {instrument}, {SIDE[side]} {contracts}, "
            f"{roll.old_contract} -> {roll.new_contract}, old={roll.old_price:.2f}, "
            f"new={roll.new_price:.2f}, ratio={roll.ratio:.6f}",
        )

    def breaker(self, time, reason: str, text: str) -> None:
        self.write(time, "BREAKER", None, reason, f"BREAKER {reason}: {text}")

    def fill(self, basket: int, fill: Fill) -> None:
        o = fill.order
        verb = "BUY" if o.action > 0 else "SELL"
        slip = f", slippage {price_text(fill.slippage)}" if fill.slippage else ""
        self.write(
            fill.time,
            "FILL",
            basket,
            o.reason,
            f"FILL basket {basket}: {o.instrument}, {verb} {o.contracts} @ "
            f"{price_text(fill.price)} ({fill.price_kind}{slip}), "
            f"fee {format_cny(fill.fee)}, {o.reason}",
        )

    def record_fill(self, basket: int, fill: Fill) -> None:
        o = fill.order
        self.fills.append(
            {
                "time": fill.time,
                "trading_day": fill.trading_day,
                "basket": basket,
                "instrument": o.instrument,
                "contract": o.contract,
                "side": "BUY" if o.action > 0 else "SELL",
                "contracts": o.contracts,
                "price": fill.price / PRICE_SCALE,
                "price_kind": fill.price_kind,
                "slippage": fill.slippage / PRICE_SCALE,
                "fee": fill.fee / MONEY_SCALE,
                "close_today": fill.close_today,
                "opens": o.opens,
                "reason": o.reason,
                "decided_at": o.decided_at,
            }
        )
