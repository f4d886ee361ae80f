"""A scripted vn.py gateway driving twotier's ``GatewayBroker`` directly, without Tier-1 or
Tier-2: a test decides when orders fill, when cancels are answered, and in which order the
gateway's events arrive (CTP sends an order's update and its trade as separate callbacks).
The whole-run tests use ``helpers.exchange`` instead."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pandas as pd
from vnpy.trader.constant import Exchange, Product, Status
from vnpy.trader.gateway import BaseGateway
from vnpy.trader.object import AccountData, ContractData, PositionData, TickData, TradeData

from twotier.broker.base import Quote
from twotier.config import load_config
from twotier.engine.inputs import Environment
from twotier.live.gateway import GatewayEvents
from twotier.live.gateway_broker import GatewayBroker
from twotier.live.gateway_journal import GatewayJournal
from twotier.live.store import Store
from twotier.money import price_units

LOCAL = ZoneInfo("Asia/Shanghai")
NS = 1_000_000_000
CONTRACTS = {"DCE/i": "i2501", "SHFE/cu": "cu2410", "DCE/m": "m2501"}


class Clock:
    def __init__(self, text: str):
        self.t = pd.Timestamp(text, tz=LOCAL).value

    def __call__(self) -> int:
        return self.t


class ScriptedGateway(BaseGateway):
    """Orders rest until the test fills or cancels them; ``answer_cancels`` off leaves
    cancels unanswered; ``fail_next`` makes ``send_order`` fail as vnpy_ctp's does (a log
    line and no order id)."""

    default_name = "SCRIPT"
    default_setting: ClassVar[dict] = {}
    exchanges: ClassVar[list] = [Exchange.DCE, Exchange.SHFE]

    def __init__(self, events):
        super().__init__(events, "SCRIPT")
        self.sent, self.cancels, self.orders = [], [], {}
        self.answer_cancels = True
        self.fail_next: str | None = None
        self._numbers = 0

    def connect(self, setting) -> None: ...
    def close(self) -> None: ...
    def subscribe(self, req) -> None: ...
    def query_account(self) -> None: ...
    def query_position(self) -> None: ...

    def send_order(self, req) -> str:
        if self.fail_next:
            self.write_log(self.fail_next)
            self.fail_next = None
            return ""
        self._numbers += 1
        order = req.create_order_data(f"1_1_{self._numbers}", self.gateway_name)
        order.status = Status.NOTTRADED
        self.orders[order.orderid] = order
        self.sent.append(req)
        self.on_order(order)
        return f"{self.gateway_name}.{order.orderid}"

    def cancel_order(self, req) -> None:
        self.cancels.append(req.orderid)
        if self.answer_cancels:
            self.cancel_now(req.orderid)

    def cancel_now(self, orderid: str) -> None:
        order = self.orders[orderid]
        if order.status in (Status.NOTTRADED, Status.PARTTRADED, Status.SUBMITTING):
            order.status = Status.CANCELLED
            self.on_order(order)

    def fill(
        self, orderid: str, volume: int, price: float, when: int, *, trade: bool = True,
        trade_id: str | None = None,
    ):  # fmt: skip
        """The exchange fills ``volume``: the order's update, then (``trade``) its trade;
        returns the trade (to push later when ``trade`` is off). ``trade_id``: the
        exchange's id (by default the next number)."""
        order = self.orders[orderid]
        order.traded += volume
        order.status = Status.ALLTRADED if order.traded == order.volume else Status.PARTTRADED
        self._numbers += 1
        done = TradeData(
            symbol=order.symbol, exchange=order.exchange, orderid=orderid,
            tradeid=trade_id or str(self._numbers), direction=order.direction, offset=order.offset,
            price=price, volume=volume, datetime=datetime.fromtimestamp(when / NS, LOCAL),
            gateway_name=self.gateway_name,
        )  # fmt: skip
        self.on_order(order)
        if trade:
            self.on_trade(done)
        return done

    def tick(self, symbol: str, exchange: Exchange, when: int, bid: float, ask: float) -> None:
        self.on_tick(TickData(
            symbol=symbol, exchange=exchange, datetime=datetime.fromtimestamp(when / NS, LOCAL),
            last_price=(bid + ask) / 2, bid_price_1=bid, ask_price_1=ask, volume=1000,
            gateway_name=self.gateway_name,
        ))  # fmt: skip

    def position(self, symbol: str, exchange: Exchange, direction, volume: int, yd: int) -> None:
        self.on_position(PositionData(
            symbol=symbol, exchange=exchange, direction=direction, volume=volume, yd_volume=yd,
            gateway_name=self.gateway_name,
        ))  # fmt: skip


class Session:
    """A broker on a scripted gateway, its clock (one second a pass while it waits) and
    what it said: ``alerts`` (kind, text) and ``notes``."""

    def __init__(self, *overrides: str, start: str = "2024-09-04 10:00:00"):
        config = load_config(overrides=list(overrides))
        env = Environment.from_config(config)
        folder = Path(tempfile.mkdtemp(prefix="twotier-gateway-"))
        self.config = config
        self.store = Store(folder / "state.db", synchronous="OFF")
        self.events = GatewayEvents()
        self.gateway = ScriptedGateway(self.events)
        self.clock = Clock(start)
        self.alerts: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.broker = GatewayBroker(
            self.gateway, self.events, config, [env.instruments[k] for k in config.instruments],
            env.calendar, GatewayJournal(self.store),
            clock=self.clock, contract_for=lambda key, day: CONTRACTS[key],
            alert=lambda kind, text: self.alerts.append((kind, text)), log=lambda line: None,
            note=self.notes.append,
        )  # fmt: skip
        for symbol, exchange, size, tick in (("i2501", Exchange.DCE, 100, 0.5),
                                             ("cu2410", Exchange.SHFE, 5, 10),
                                             ("m2501", Exchange.DCE, 10, 1)):  # fmt: skip
            self.gateway.on_contract(ContractData(
                symbol=symbol, exchange=exchange, name=symbol, product=Product.FUTURES,
                size=size, pricetick=tick, gateway_name="SCRIPT",
            ))  # fmt: skip
        self.gateway.on_account(AccountData(accountid="x", balance=1e6, gateway_name="SCRIPT"))
        self.broker.pump(0)
        self.script = lambda: None  # what the exchange does at each pass while it waits
        self.broker.advance = self._advance

    def _advance(self) -> bool:
        self.clock.t += NS
        self.script()
        return True


def quote(when: str, day: str, price: float) -> Quote:
    units = price_units(price)
    return Quote(pd.Timestamp(when, tz=LOCAL).value, date.fromisoformat(day), units, units)
