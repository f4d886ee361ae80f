"""The live broker on a vn.py gateway: twotier's orders as marketable limit orders, their
outcomes from the exchange's own reports.

An order Tier-2 decides is worked in *rounds*, one per bar it is asked about:

- it waits while its market is closed (an order decided at 15:00 goes out at the night's
  or the next morning's first minute) and until a tick of its contract has come;
- it is sent as a limit order at the best opposite price plus ``live.order_ticks`` ticks
  (capped at the day's price limit: SHFE refuses market orders), a close split into
  close-today and close-yesterday by vn.py's ``OffsetConverter`` (SHFE);
- a request not filled within ``live.order_timeout`` seconds is cancelled and the rest
  sent again at the new best price, up to ``live.order_retries`` times; then the round
  ends: what filled is the outcome (``filled`` or ``partial``), and if nothing did,
  ``unfilled`` (``price_limit`` when the market sits at its limit against the order, else
  ``no_volume``); a rejection ends it with the gateway's own text (``rejected``).

``execute`` returns the round's outcome (waiting for it if it is still being worked), at
the volume-weighted price of its trades and the fees of the instrument file. A close
that did not fill is worked again in a new round after the step commits (``committed``);
the rest of a partial fill is a new order with its own id.

Exactly once: every request is committed before it is sent (``GatewayJournal``), every
trade when it arrives, and which rounds Tier-2 has booked is part of the broker's
snapshot, committed with each step. On a restart the gateway's orders of the day are
matched to the requests (by gateway id, or, for one sent just before a crash whose id
was not yet written, by contract, direction, offset, price and volume), its trades are
recorded once each, and a round that filled while twotier was down is reported at the
order's next ``execute``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import numpy as np
import pandas as pd

from twotier.broker.base import (
    MARKET_CLOSED,
    NO_VOLUME,
    PRICE_LIMIT,
    Fill,
    Order,
    Outcome,
    PriceKind,
    Quote,
)
from twotier.broker.fees import fee_units
from twotier.config.model import Config
from twotier.errors import CalendarError
from twotier.live import codec
from twotier.live.bars import ZONE
from twotier.live.gateway import LOGIN_LINES, GatewayView
from twotier.live.gateway_journal import GatewayJournal, Request, TradeRow, trade_key
from twotier.live.ticks import MINUTE_NS, NS, Tick
from twotier.market.calendar import TradingCalendar, place_bars
from twotier.market.contracts import parse_contract
from twotier.market.instruments import InstrumentSpec
from twotier.money import PRICE_SCALE, price_units

EVENT_TYPES = ("eTick.", "eOrder.", "eTrade.", "ePosition.", "eAccount.", "eContract.", "eLog")
ACTIVE = ("sending", "SUBMITTING", "NOTTRADED", "PARTTRADED")
KILL_SWITCH = "kill switch (twotier live --flatten): no new positions"


@dataclass
class Working:
    """A twotier order and its current round."""

    order_id: str
    order: Order
    round: int = 1
    phase: str = "waiting"  # waiting (to be sent), working, done; closed: cancelled
    reason: str = ""  # why the round ended short (a reason code, or a rejection's text)
    rejected: bool = False
    requests: list[Request] = field(default_factory=list)  # this round's

    @property
    def attempts(self) -> int:
        """Attempts made in this round (a request that never reached the gateway, lost
        in a crash, is not one)."""
        return len({r.attempt for r in self.requests if r.status != "lost"})

    @property
    def next_attempt(self) -> int:
        return 1 + max((r.attempt for r in self.requests), default=0)


def time_ns(moment) -> int:
    """A vn.py time stamp (an aware datetime) in nanoseconds since the epoch."""
    return round(moment.timestamp() * 1_000_000) * 1000


class GatewayBroker:
    """``LiveBroker`` on a vn.py gateway (see the module's docstring)."""

    def __init__(
        self,
        gateway,
        events,
        config: Config,
        specs: list[InstrumentSpec],
        calendar: TradingCalendar,
        journal: GatewayJournal,
        *,
        clock: Callable[[], int],
        contract_for: Callable[[str, date], str],
        alert: Callable[..., None],
        log: Callable[[str], None],
        note: Callable[[str], None] | None = None,
        kill_switch: bool = False,
        advance: Callable[[], bool] | None = None,
    ):
        from vnpy.trader.converter import OffsetConverter

        self.gateway = gateway
        self.events = events
        self.rules = config.live
        self.fees = config.execution.fees
        self.fee_multiplier = Fraction(str(config.broker.fee_multiplier))
        self.specs = {s.key: s for s in specs}
        self.by_product = {s.product: s.key for s in specs}
        self.calendar = calendar
        self.journal = journal
        self.clock = clock
        self.contract_for = contract_for
        self.alert = alert
        self.log = log  # the gateway's own lines
        self.note = note or log  # what became of twotier's orders
        self.kill_switch = kill_switch
        self.advance = advance  # a replay gateway: play its market on (False: it is over)
        self.view = GatewayView()
        self.converter = OffsetConverter(self.view)
        self.working: dict[str, Working] = {}
        self.reported: dict[str, int] = {}  # order id -> last round booked by Tier-2
        self.by_gateway_id: dict[str, Request] = {}
        self.trades: dict[tuple[str, int], list[TradeRow]] = {}  # (order id, round)
        self.ticks: list[Tick] = []  # for the feed
        self.logins_reconciled = 0
        self.foreign: set[str] = set()  # trades twotier did not send (alerted once)
        self.started = False  # until the restart is settled (settle_restart)
        self.unclaimed: list = []  # trades of orders not matched yet, while starting
        self._open: dict[tuple[str, int], bool] = {}
        self._days: dict[int, date] = {}
        self._cancel_asked: dict[str, int] = {}  # gateway id -> when its cancel was sent
        self._load()

    # -- the LiveBroker contract ---------------------------------------------------------

    def submit(self, order_id: str, order: Order) -> None:
        if order_id in self.working or order_id in self.reported:
            return  # a question about an order we know, never a new one
        self.working[order_id] = Working(order_id, order)
        self.work()

    def cancel(self, order_id: str) -> None:
        w = self.working.get(order_id)
        if w is None:
            return
        self._cancel_live(w)
        w.phase = "closed"

    def execute(self, order_id: str, order: Order, quote: Quote, at: PriceKind) -> Outcome:
        w = self.working.get(order_id)
        if w is None:
            w = self.working[order_id] = Working(order_id, order)
        if w.phase == "waiting" and not self._market_open(order.instrument, self.clock()):
            w.phase, w.reason = "done", MARKET_CLOSED
        self._wait_for([w])
        return self._outcome(w, quote, at)

    def execute_together(
        self, legs: Sequence[tuple[str, Order, Quote]], at: PriceKind
    ) -> list[Outcome]:
        group = []
        for order_id, order, _ in legs:
            w = self.working.setdefault(order_id, Working(order_id, order))
            group.append(w)
        self._wait_for(group)
        return [self._outcome(w, quote, at) for w, (_, _, quote) in zip(group, legs, strict=True)]

    def positions(self) -> dict[str, int]:
        net: dict[str, int] = {}
        for (symbol, direction), p in self.view.positions.items():
            key = self.instrument_of(symbol)
            if key is not None and p.volume:
                sign = 1 if direction == "LONG" else -1
                net[key] = net.get(key, 0) + sign * int(p.volume)
        return {k: v for k, v in net.items() if v}

    def snapshot(self) -> dict:
        return {"reported": dict(sorted(self.reported.items()))}

    def restore(self, snapshot: dict) -> None:
        """The rounds Tier-2 booked, and its open orders with the rounds they were
        worked in (from the requests of earlier runs)."""
        self.reported = dict(snapshot.get("reported", {}))
        for order_id, body, _ in self.journal.store.orders("decided", "sent"):
            order = codec.loads(body, self.specs.__getitem__)
            mine = [r for r in self.past if r.order_id == order_id]
            w = Working(order_id, order)
            if mine:
                w.round = max(r.round for r in mine)
                w.requests = [r for r in mine if r.round == w.round]
                booked = self.reported.get(order_id, 0) >= w.round  # a new round follows
                w.phase = "done" if booked else "working"
            self.working[order_id] = w

    def committed(self) -> None:
        """After a step's commit (and its cancels): an order whose round Tier-2 has
        booked unfilled, and still holds, is worked again in a new round (it is asked
        about at its next bar)."""
        self.work()
        for w in list(self.working.values()):
            if w.phase == "done" and self.reported.get(w.order_id, 0) >= w.round:
                if any(r.status in ACTIVE for r in w.requests):
                    self._cancel_live(w)  # its cancel is not confirmed: it may still fill
                    continue  # no new round beside it (both would fill)
                if self._filled(w):  # filled after its round was booked unfilled: the
                    continue  # next question about it books the fill, not a new round
                self.working[w.order_id] = Working(w.order_id, w.order, w.round + 1)
        self.work()

    # -- events --------------------------------------------------------------------------

    def pump(self, timeout: float) -> None:
        """Take the gateway's events (waiting up to ``timeout`` seconds for the first)
        and work the orders."""
        for event in self.events.take(timeout):
            if event.type in EVENT_TYPES:
                getattr(self, "_on_" + event.type.strip(".")[1:].lower())(event.data)
        self.work()

    def take_ticks(self) -> list[Tick]:
        ticks, self.ticks = self.ticks, []
        return ticks

    def _on_tick(self, t) -> None:
        self.view.ticks[t.symbol] = t
        key = self.instrument_of(t.symbol)
        if key is None:
            return
        extra = t.extra or {}
        day = extra.get("trading_day")
        self.ticks.append(
            Tick(
                key, t.symbol, time_ns(t.datetime), t.last_price, t.volume,
                t.open_interest, t.bid_price_1, t.ask_price_1, t.limit_up, t.limit_down,
                None if day is None else pd.Timestamp(day).date(),
            )
        )  # fmt: skip

    def _on_contract(self, c) -> None:
        self.view.contracts[c.symbol] = c

    def _on_position(self, p) -> None:
        self.view.positions[(p.symbol, p.direction.name)] = p
        self.converter.update_position(p)

    def _on_account(self, a) -> None:
        self.view.account = a

    def _on_log(self, entry) -> None:
        message = str(entry.msg)
        self.view.logs.append(message)
        self.log(message)
        if any(line in message for line in LOGIN_LINES):
            self.view.logins += 1

    def _on_order(self, o) -> None:
        self.view.orders[o.orderid] = o
        self.converter.update_order(o)
        r = self.by_gateway_id.get(o.orderid) or self._claim(o)
        if r is None:
            return
        r.status, r.traded = o.status.name, int(o.traded)
        if r.status == "REJECTED":
            r.rejected_at = len(self.view.logs)  # the reason comes in the next log line
        self.journal.sent(r)

    def _on_trade(self, t) -> None:
        self.converter.update_trade(t)
        r = self.by_gateway_id.get(t.orderid)
        key = trade_key(t.symbol, t.tradeid, t.direction.name, time_ns(t.datetime))
        if r is None:
            if not self.started:  # it may be of a request restored later (settle_restart)
                self.unclaimed.append(t)
                return
            if key in self.foreign:  # pushed again after a reconnect
                return
            self.foreign.add(key)
            self.alert(
                "trade",
                f"a trade of {int(t.volume)} {t.symbol} ({t.direction.name}) at {t.price} that "
                f"twotier did not send (gateway order {t.orderid}): not booked; the "
                "reconciliation will see it",
            )
            return
        row = TradeRow(
            key, t.orderid, r.order_id, r.round, int(t.volume), float(t.price),
            time_ns(t.datetime), t.offset.name,
        )  # fmt: skip
        if self.journal.trade(row):
            self.trades.setdefault((r.order_id, r.round), []).append(row)
            w = self.working.get(r.order_id)
            booked = self.reported.get(r.order_id, 0) >= r.round
            if w is not None and (w.phase == "closed" or booked):
                self.alert(
                    "trade",
                    f"order {r.order_id} filled {row.volume} after twotier cancelled it: "
                    "the broker holds contracts the state does not",
                )

    def _claim(self, o) -> Request | None:
        """An order of the day that twotier sent just before a crash, before it could
        write the gateway's id: the request written as ``sending`` that it matches."""
        fingerprint = (o.symbol, o.direction.name, o.offset.name, float(o.price), int(o.volume))
        for w in self.working.values():
            for r in w.requests:
                if r.gateway_id is None and r.fingerprint == fingerprint:
                    r.gateway_id = o.orderid
                    self.by_gateway_id[o.orderid] = r
                    return r
        return None

    # -- working the orders --------------------------------------------------------------

    def work(self) -> None:
        now = self.clock()
        for w in list(self.working.values()):
            if w.phase == "waiting":
                self._start(w, now)
            elif w.phase == "working":
                self._follow(w, now)

    def _start(self, w: Working, now: int) -> None:
        order = w.order
        if self.kill_switch and order.opens:
            w.phase, w.reason, w.rejected = "done", KILL_SWITCH, True
            return
        contract = order.contract or self.contract_for(order.instrument, self.trading_day(now))
        if self._can_send(order, contract, now):
            self._send(w, contract, order.contracts - self._filled(w), now)

    def _follow(self, w: Working, now: int) -> None:
        live = [r for r in w.requests if r.status in ACTIVE]
        # the exchange's count of an order can come before its trades: never send again
        # what it says has traded
        traded = max(self._filled(w), sum(r.traded for r in w.requests))
        rest = w.order.contracts - traded
        if rest <= 0:
            w.phase = "done"
            for r in live:
                self._cancel_request(r)
            return
        if any(r.status == "REJECTED" for r in w.requests):
            w.phase, w.reason, w.rejected = "done", self._rejection_text(w), True
            for r in live:
                self._cancel_request(r)
            return
        if live:
            if now - max(r.sent_ns for r in live) >= self.rules.order_timeout * NS:
                for r in live:
                    if self._cancel_request(r):
                        self.note(
                            f"order {w.order_id} attempt {r.attempt}: {r.volume} {r.symbol} "
                            f"at {r.price:g} not filled in {self.rules.order_timeout:g} s: "
                            "cancelled"
                        )
            return
        contract = w.requests[-1].symbol
        if w.attempts <= self.rules.order_retries:
            if self._can_send(w.order, contract, now):
                self._send(w, contract, rest, now)
            return
        w.phase = "done"
        w.reason = PRICE_LIMIT if self._locked_against(w.order, contract) else NO_VOLUME

    def _can_send(self, order: Order, contract: str, now: int) -> bool:
        """Its market is open and a tick of the contract has come (to price it)."""
        return self._market_open(order.instrument, now) and contract in self.view.ticks

    def _send(self, w: Working, contract: str, volume: int, now: int) -> None:
        from vnpy.trader.constant import Direction, Exchange, Offset, OrderType
        from vnpy.trader.object import OrderRequest

        spec = self.specs[w.order.instrument]
        request = OrderRequest(
            symbol=contract,
            exchange=Exchange(spec.market),
            direction=Direction.LONG if w.order.action > 0 else Direction.SHORT,
            type=OrderType.LIMIT,
            volume=volume,
            price=self._limit_price(w.order, contract),
            offset=Offset.OPEN if w.order.opens else Offset.CLOSE,
        )
        legs = self.converter.convert_order_request(request, lock=False, net=False)
        attempt = w.next_attempt
        w.phase = "working"
        if not legs:
            w.phase, w.reason, w.rejected = "done", "not enough position to close", True
            return
        for leg, req in enumerate(legs):
            r = Request(
                w.order_id, w.round, attempt, leg, req.symbol, req.exchange.value,
                req.direction.name, req.offset.name, float(req.price), int(req.volume), now,
            )  # fmt: skip
            w.requests.append(r)
            self.journal.sending(r)
            logged = len(self.view.logs)  # the gateway's reason is a line logged after this
            gateway_id = self.gateway.send_order(req)
            if not gateway_id:
                r.status = "REJECTED"
                r.rejected_at = logged
                self.journal.sent(r)
                continue
            self.note(
                f"order {w.order_id} attempt {attempt}: {r.direction.lower()} {r.volume} "
                f"{r.symbol} {r.offset.lower()} at {r.price:g} sent"
            )
            r.gateway_id = gateway_id.split(".", 1)[-1]  # vt_orderid: GATEWAY.orderid
            r.status = "SUBMITTING" if r.status == "sending" else r.status
            self.by_gateway_id[r.gateway_id] = r
            self.converter.update_order_request(req, gateway_id)
            self.journal.sent(r)
            known = self.view.orders.get(r.gateway_id)
            if known is not None:  # the gateway answered inside send_order
                self._on_order(known)

    def _cancel_live(self, w: Working) -> None:
        """Ask the gateway to cancel the round's requests it knows and has not ended."""
        for r in w.requests:
            if r.status in ACTIVE[1:] and r.gateway_id:
                self._cancel_request(r)

    def _cancel_request(self, r: Request) -> bool:
        """Ask the gateway to cancel the request (once per order timeout while it is
        slow to answer); whether it was asked now."""
        from vnpy.trader.constant import Exchange
        from vnpy.trader.object import CancelRequest

        order = self.view.orders.get(r.gateway_id)
        if order is not None and not order.is_active():
            return False
        now, asked = self.clock(), self._cancel_asked.get(r.gateway_id)
        if asked is not None and now - asked < self.rules.order_timeout * NS:
            return False  # asked already: not again on every pass while the exchange is slow
        self._cancel_asked[r.gateway_id] = now
        self.gateway.cancel_order(
            CancelRequest(orderid=r.gateway_id, symbol=r.symbol, exchange=Exchange(r.exchange))
        )
        return True

    def _limit_price(self, order: Order, contract: str) -> float:
        """The best opposite price plus ``order_ticks`` ticks, within the day's limits."""
        tick = self.view.ticks[contract]
        spec = self.specs[order.instrument]
        step = price_units(spec.tick)
        best = tick.ask_price_1 if order.action > 0 else tick.bid_price_1
        units = price_units(best or tick.last_price) + order.action * self.rules.order_ticks * step
        if tick.limit_up:
            units = min(units, price_units(tick.limit_up))
        if tick.limit_down:
            units = max(units, price_units(tick.limit_down))
        return units / PRICE_SCALE

    def _locked_against(self, order: Order, contract: str) -> bool:
        tick = self.view.ticks.get(contract)
        if tick is None:
            return False
        if order.action > 0:
            return bool(tick.limit_up) and tick.last_price >= tick.limit_up
        return bool(tick.limit_down) and tick.last_price <= tick.limit_down

    def _rejection_text(self, w: Working) -> str:
        for r in w.requests:
            at = getattr(r, "rejected_at", None)
            if at is not None:
                later = self.view.logs[max(at, 0) :]
                for line in later:
                    if "失败" in line or "拒" in line or (r.gateway_id and r.gateway_id in line):
                        return line
        return "rejected by the gateway (no reason given)"

    def _wait_for(self, group: list[Working]) -> None:
        """Work the orders until each round has ended: live, at most as long as its
        retries take (plus a margin); on a replay gateway, by playing the market on."""
        budget = (self.rules.order_retries + 1) * self.rules.order_timeout + 30
        deadline = self.clock() + int(budget * NS)
        while any(w.phase in ("waiting", "working") for w in group):
            if self.clock() >= deadline:
                for w in group:
                    if w.phase in ("waiting", "working"):
                        self.cancel(w.order_id)
                        w.phase, w.reason = "done", NO_VOLUME
                break
            if self.advance is not None and not self.advance():
                self.clock_stopped(group)
                break
            self.pump(0.0 if self.advance is not None else 0.1)

    def clock_stopped(self, group: list[Working]) -> None:
        """The replay is over while orders are still worked: they did not fill."""
        for w in group:
            if w.phase in ("waiting", "working"):
                self.cancel(w.order_id)
                w.phase, w.reason = "done", NO_VOLUME

    # -- outcomes ------------------------------------------------------------------------

    def _filled(self, w: Working) -> int:
        return sum(t.volume for t in self.trades.get((w.order_id, w.round), []))

    def _outcome(self, w: Working, quote: Quote, at: PriceKind) -> Outcome:
        order = w.order
        self.reported[w.order_id] = w.round
        trades = self.trades.get((w.order_id, w.round), [])
        filled = sum(t.volume for t in trades)
        what = "sell" if order.action < 0 else "buy"
        told = f"order {w.order_id} ({order.instrument} {what} {order.contracts}, "
        told += f"{order.reason}) round {w.round}: filled {filled} of {order.contracts}"
        if filled < order.contracts:
            told += f" ({'rejected: ' if w.rejected else ''}{w.reason or NO_VOLUME})"
        self.note(told)
        if filled or w.rejected:  # Tier-2 is done with this id (a rest gets a new one)
            w.phase = "closed"
        if w.rejected and not filled:
            return Outcome(order, "rejected", None, w.reason)
        if not filled:
            return Outcome(order, "unfilled", None, w.reason or NO_VOLUME)
        return Outcome.of(self._fill(order, trades, quote, at), w.reason or NO_VOLUME)

    def _fill(self, order: Order, trades: list[TradeRow], quote: Quote, at: PriceKind) -> Fill:
        spec = self.specs[order.instrument]
        contracts = sum(t.volume for t in trades)
        close_today = not order.opens and order.opened_on == quote.trading_day
        units = [(t.volume, price_units(t.price)) for t in trades]
        turnover = sum(v * p for v, p in units)
        price = math.floor(turnover / contracts + 0.5)  # volume-weighted, to a price unit
        fee = 0
        if self.fees:
            day, times = quote.trading_day, self.fee_multiplier
            fee = sum(
                fee_units(spec, t.volume, p, order.opens, _close_today(t, close_today), day, times)
                for t, (_, p) in zip(trades, units, strict=True)
            )
        base = quote.open if at == "open" else quote.close
        slippage = order.action * (price - base)
        day = quote.trading_day
        return Fill(order, contracts, quote.time_ns, day, price, at, slippage, fee, close_today)

    # -- the market's hours and contracts ------------------------------------------------

    def instrument_of(self, symbol: str) -> str | None:
        try:
            return self.by_product.get(parse_contract(symbol).product)
        except ValueError:
            return None

    def _market_open(self, instrument: str, now: int) -> bool:
        minute = now - now % MINUTE_NS
        key = (instrument, minute)
        if key not in self._open:
            times = pd.DatetimeIndex([pd.Timestamp(minute, tz=ZONE)])
            try:
                _, segment = place_bars(times, self.specs[instrument], self.calendar)
                self._open[key] = bool(segment[0] >= 0)
            except CalendarError:  # beyond the calendar: believe the exchange, try
                self._open[key] = True
        return self._open[key]

    def trading_day(self, now: int) -> date:
        """The trading day whose session is on now, or the next one to open."""
        hour = now - now % (60 * MINUTE_NS)
        if hour not in self._days:
            self._days[hour] = self._trading_day(hour)
        return self._days[hour]

    def _trading_day(self, now: int) -> date:
        local = pd.Timestamp(now, tz=ZONE)
        evening = (local - pd.Timedelta(hours=6)).normalize()
        day = np.datetime64(evening.date(), "D")
        if local.hour >= 15 or local.hour < 6 or not self.calendar.is_trading_day([day])[0]:
            return pd.Timestamp(self.calendar.next_trading_day(np.array([day]))[0]).date()
        return evening.date()

    # -- restart -------------------------------------------------------------------------

    def _load(self) -> None:
        """The requests and trades of earlier runs (the working orders are rebuilt as
        Tier-2's open orders are submitted or executed again)."""
        self.past = self.journal.requests()
        for r in self.past:
            if r.gateway_id:
                self.by_gateway_id[r.gateway_id] = r
        for t in self.journal.trades():
            self.trades.setdefault((t.order_id, t.round), []).append(t)

    def settle_restart(self) -> None:
        """After the gateway has told its orders and trades of the day, and the open
        orders are restored: the gateway's orders are matched to the requests written as
        ``sending`` (whose ids a crash kept from being written), their trades recorded,
        and a request that no order matches never reached the gateway."""
        for o in list(self.view.orders.values()):
            if o.orderid not in self.by_gateway_id and self._claim(o) is not None:
                self._on_order(o)
        self.started = True
        unclaimed, self.unclaimed = self.unclaimed, []
        for t in unclaimed:
            self._on_trade(t)
        for w in self.working.values():
            lost = [r for r in w.requests if r.status == "sending" and r.gateway_id is None]
            for r in lost:
                r.status = "lost"
                self.journal.sent(r)
                self.note(
                    f"order {r.order_id}: a request written just before a crash never reached "
                    "the gateway; it is sent again"
                )
            if lost and not w.attempts:
                w.phase = "waiting"


def _close_today(trade: TradeRow, decided: bool) -> bool:
    """Whether a trade pays the close-today rate: as the exchange split it where it does
    (SHFE's CLOSETODAY and CLOSEYESTERDAY, by vn.py's OffsetConverter: it may close
    today's contracts of a position Tier-2 opened before), else as the order was decided."""
    if trade.offset in ("CLOSETODAY", "CLOSEYESTERDAY"):
        return trade.offset == "CLOSETODAY"
    return decided
