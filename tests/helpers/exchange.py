"""An exchange inside the tests: a vn.py gateway that plays recorded bars as ticks and
matches limit orders against them, with faults on demand.

``ReplayGateway`` is a subclass of vn.py's ``BaseGateway``; ``twotier live --gateway
helpers.exchange:ReplayGateway --connect connect.json`` loads it like any gateway. Its
one setting, ``market``, names a JSON file (``write_market``) with:

- ``instruments``: per instrument, a bar file (read with twotier's loader), its label
  and the contract name; each bar becomes four ticks (open, high, low, close) spread
  over the bar's minutes, carrying the bar's trading day, the day's cumulative volume
  (the bar's volume on its open tick), and a bid and ask ``spread_ticks`` ticks either
  side of the price;
- ``state``: a JSON file where the exchange keeps its books (orders, trades, positions,
  cash, how far it has played): the exchange outlives the twotier process that talks to
  it (a test kills that one with SIGKILL);
- ``script``: faults. ``reject`` {n: text}: the n-th order sent (counted over the whole
  run) is refused with that text; ``partial`` {n: contracts}: the n-th order fills that
  many and no more; ``drop`` [time]: before playing the moment at that exchange time the
  connection drops and comes back, and the day's orders and trades are pushed again (as
  CTP does); ``lock`` [{contract, from, to}]: between those times the contract sits at
  its limit up (the ticks' limit up is the price, and nobody sells).

The replay protocol (``twotier.live.gateway_feed``): ``replay_time`` is the exchange time
of the next moment, ``replay_next`` plays it: the ticks are pushed and resting orders
matched, a buy at the ask and a sell at the bid, when its limit price reaches them. On a
(re)connection the exchange pushes the ticks of the current trading day played so far
again at once (a recorder's catch-up), and goes on from where it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pandas as pd
from vnpy.trader.constant import Direction, Exchange, Offset, OrderType, Product, Status
from vnpy.trader.gateway import BaseGateway
from vnpy.trader.object import (
    AccountData,
    CancelRequest,
    ContractData,
    OrderData,
    OrderRequest,
    PositionData,
    SubscribeRequest,
    TickData,
    TradeData,
)

from twotier.broker.fees import fee_units
from twotier.market.bars import read_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import default_registry
from twotier.money import price_units

ZONE = "Asia/Shanghai"
LOCAL = ZoneInfo(ZONE)
LOGIN = "交易服务器登录成功"  # what CTP's gateway logs when its trading front logs in


def write_market(
    folder: Path,
    instruments: dict[str, tuple[Path, str, str]],
    *,
    script: dict | None = None,
    spread_ticks: int = 1,
    balance: float = 1_000_000.0,
    persist: bool = True,
    calendar: Path | None = None,
) -> Path:
    """The exchange's description and the gateway's connect.json (private) in ``folder``;
    ``instruments``: {key: (bar file, label, contract)}; ``calendar``: a calendar file
    the exchange reads its bars by (one that knows days past twotier's). Returns
    connect.json."""
    folder.mkdir(parents=True, exist_ok=True)
    market = {
        "instruments": {k: [str(p), label, c] for k, (p, label, c) in instruments.items()},
        "state": str(folder / "exchange.json"),
        "script": script or {},
        "spread_ticks": spread_ticks,
        "balance": balance,
        "persist": persist,
        "calendar": None if calendar is None else str(calendar),
    }
    (folder / "market.json").write_text(json.dumps(market), encoding="utf-8")
    connect = folder / "connect.json"
    connect.write_text(json.dumps({"market": str(folder / "market.json")}), encoding="utf-8")
    connect.chmod(0o600)
    return connect


@dataclass
class Moment:
    time_ns: int
    ticks: list[tuple]  # (key, contract, day, price, cumulative volume)


def market_moments(instruments: dict[str, list], calendar: str | None = None) -> list[Moment]:
    """Four ticks per bar of every instrument, on one time line."""
    rows = []
    known = TradingCalendar.load(calendar) if calendar else None
    for key, (path, label, contract) in instruments.items():
        loaded = read_bars(path, key, label=label, on_bad_bar="drop", calendar=known)
        frame = loaded.frame
        step = loaded.bar_minutes * 60 * 1_000_000_000 // 4
        starts = frame.index.as_unit("ns").asi8
        days = frame["trading_day"].to_numpy().astype("datetime64[D]").astype(str)
        prices = frame[["open", "high", "low", "close"]].to_numpy()
        volumes = frame["volume"].to_numpy()
        cumulative, day_seen = 0.0, None
        for start, day, quad, volume in zip(starts, days, prices, volumes, strict=True):
            if day != day_seen:
                cumulative, day_seen = 0.0, day
            cumulative += float(volume)
            for k in range(4):
                rows.append((int(start) + k * step, key, contract, day, float(quad[k]), cumulative))
    rows.sort(key=lambda r: (r[0], r[1]))
    moments: list[Moment] = []
    for t, key, contract, day, price, volume in rows:
        if not moments or moments[-1].time_ns != t:
            moments.append(Moment(t, []))
        moments[-1].ticks.append((key, contract, day, price, volume))
    return moments


def _now(time_ns: int) -> datetime:
    whole = datetime.fromtimestamp(time_ns // 1_000_000_000, LOCAL)
    return whole.replace(microsecond=time_ns % 1_000_000_000 // 1000)


class ReplayGateway(BaseGateway):
    default_name = "REPLAY"
    default_setting: ClassVar[dict] = {"market": ""}
    exchanges: ClassVar[list] = [Exchange.DCE, Exchange.SHFE]

    def __init__(self, event_engine, gateway_name: str) -> None:
        super().__init__(event_engine, gateway_name)
        self.moments: list[Moment] = []
        self.state: dict = {}
        self.specs = default_registry()

    # -- connection -----------------------------------------------------------------------

    def connect(self, setting: dict) -> None:
        market = json.loads(Path(setting["market"]).read_text(encoding="utf-8"))
        self.market = market
        self.path = Path(market["state"])
        self.script = market["script"]
        self.spread = market["spread_ticks"]
        self.products = {}
        for key, (_, _, contract) in market["instruments"].items():
            self.products[contract] = key
        self.moments = market_moments(market["instruments"], market.get("calendar"))
        if self.path.exists():
            self.state = json.loads(self.path.read_text(encoding="utf-8"))
        else:
            self.state = {
                "cursor": 0, "session": 0, "ref": 0, "sends": 0, "trades": [],
                "orders": {}, "positions": {}, "cash": market["balance"], "day": None,
                "last": {}, "dropped": [],
            }  # fmt: skip
        self.state["session"] += 1
        if self.state["cursor"] < len(self.moments):  # the settlement of the days played
            self._new_day(self.moments[self.state["cursor"]].ticks[0][2])
        self.write_log("交易服务器连接成功")
        for contract, key in self.products.items():
            spec = self.specs[key]
            self.on_contract(
                ContractData(
                    symbol=contract, exchange=Exchange(spec.market), name=spec.name,
                    product=Product.FUTURES, size=spec.multiplier, pricetick=float(spec.tick),
                    gateway_name=self.gateway_name,
                )
            )  # fmt: skip
        self.write_log("合约信息查询成功")  # CTP's line: every contract told
        self._login()
        self._catch_up()
        self._save()

    def _login(self) -> None:
        self.write_log(LOGIN)
        for order in self.state["orders"].values():
            self._push_order(order)
        for trade in self.state["trades"]:
            self._push_trade(trade)
        self.query_position()
        self.query_account()

    def _catch_up(self) -> None:
        """The ticks of the trading day of the last moment played, pushed again at once (a
        recorder's catch-up: the bar being built when twotier stopped is whole again)."""
        cursor = self.state["cursor"]
        if cursor == 0:
            return
        day, first = self.moments[cursor - 1].ticks[0][2], cursor
        while first > 0 and self.moments[first - 1].ticks[0][2] == day:
            first -= 1
        for moment in self.moments[first:cursor]:
            for key, contract, day, price, volume in moment.ticks:
                self.on_tick(self._tick(moment.time_ns, key, contract, day, price, volume))

    def close(self) -> None:
        pass

    def subscribe(self, req: SubscribeRequest) -> None:
        pass

    # -- the replay -------------------------------------------------------------------------

    def replay_time(self) -> int | None:
        cursor = self.state["cursor"]
        return self.moments[cursor].time_ns if cursor < len(self.moments) else None

    def replay_next(self) -> None:
        cursor = self.state["cursor"]
        moment = self.moments[cursor]
        drops = self.script.get("drop", [])
        stamp = str(pd.Timestamp(moment.time_ns, tz=ZONE).tz_localize(None)) if drops else ""
        if stamp in drops and stamp not in self.state["dropped"]:
            self.state["dropped"].append(stamp)
            self.write_log("交易服务器连接断开，原因4097")
            self._login()
        self.state["cursor"] = cursor + 1
        traded = False
        for key, contract, day, price, volume in moment.ticks:
            tick = self._tick(moment.time_ns, key, contract, day, price, volume)
            self._new_day(day)
            self.state["last"][contract] = price
            traded |= self._match(tick)
            self.on_tick(tick)
        self._save()
        if traded:
            self.query_position()
            self.query_account()

    def _tick(self, time_ns, key, contract, day, price, volume) -> TickData:
        spec = self.specs[key]
        step = float(spec.tick) * self.spread
        up, down = 0.0, 0.0
        bid, ask = price - step, price + step
        if self._locked(contract, time_ns):
            up, ask = price, 0.0
        tick = TickData(
            symbol=contract, exchange=Exchange(spec.market), datetime=_now(time_ns),
            volume=volume, last_price=price, bid_price_1=bid, ask_price_1=ask,
            bid_volume_1=1000, ask_volume_1=0 if not ask else 1000, limit_up=up,
            limit_down=down, gateway_name=self.gateway_name,
        )  # fmt: skip
        tick.extra = {"trading_day": day}
        return tick

    def _locked(self, contract: str, time_ns: int) -> bool:
        if not self.script.get("lock"):
            return False
        stamp = pd.Timestamp(time_ns, tz=ZONE).tz_localize(None)
        for lock in self.script.get("lock", []):
            inside = pd.Timestamp(lock["from"]) <= stamp <= pd.Timestamp(lock["to"])
            if lock["contract"] == contract and inside:
                return True
        return False

    def _new_day(self, day: str) -> None:
        if self.state["day"] is not None and day > self.state["day"]:
            for sides in self.state["positions"].values():
                for side in sides.values():
                    side[1] += side[0]  # today's become yesterday's
                    side[0] = 0
        self.state["day"] = day

    # -- orders ---------------------------------------------------------------------------

    def send_order(self, req: OrderRequest) -> str:
        self.state["sends"] += 1
        self.state["ref"] += 1
        n = str(self.state["sends"])
        orderid = f"1_{self.state['session']}_{self.state['ref']}"
        order = {
            "orderid": orderid, "symbol": req.symbol, "exchange": req.exchange.value,
            "direction": req.direction.name, "offset": req.offset.name, "price": req.price,
            "volume": int(req.volume), "traded": 0, "status": "NOTTRADED",
            "cap": self.script.get("partial", {}).get(n), "time": self._time(),
        }  # fmt: skip
        self.state["orders"][orderid] = order
        problem = self.script.get("reject", {}).get(n) or self._cannot_close(order)
        if problem:
            order["status"] = "REJECTED"
            self._push_order(order)
            self.write_log(f"交易委托失败，代码：31，信息：{problem}")
        else:
            self._push_order(order)
        self._save()
        return f"{self.gateway_name}.{orderid}"

    def _cannot_close(self, order: dict) -> str | None:
        if order["offset"] == "OPEN":
            return None
        held = "SHORT" if order["direction"] == "LONG" else "LONG"
        td, yd = self._position(order["symbol"], held)
        if order["volume"] > td + yd:
            return "平仓量超过持仓量"  # close volume exceeds the position
        return None

    def cancel_order(self, req: CancelRequest) -> None:
        order = self.state["orders"].get(req.orderid)
        if order is not None and order["status"] in ("NOTTRADED", "PARTTRADED"):
            order["status"] = "CANCELLED"
            self._push_order(order)
            self._save()

    def _match(self, tick: TickData) -> bool:
        traded = False
        for order in self.state["orders"].values():
            if order["symbol"] != tick.symbol or order["status"] not in ("NOTTRADED", "PARTTRADED"):
                continue
            buy = order["direction"] == "LONG"
            best = tick.ask_price_1 if buy else tick.bid_price_1
            if not best or (buy and order["price"] < best) or (not buy and order["price"] > best):
                continue
            room = order["volume"] - order["traded"]
            if order["cap"] is not None:
                room = min(room, order["cap"] - order["traded"])
            if room <= 0:
                continue
            self._fill(order, room, best, tick)
            traded = True
        return traded

    def _fill(self, order: dict, volume: int, price: float, tick: TickData) -> None:
        order["traded"] += volume
        order["status"] = "ALLTRADED" if order["traded"] == order["volume"] else "PARTTRADED"
        trade = {
            "tradeid": str(len(self.state["trades"]) + 1), "orderid": order["orderid"],
            "symbol": order["symbol"], "exchange": order["exchange"],
            "direction": order["direction"], "offset": order["offset"], "price": price,
            "volume": volume, "time": int(pd.Timestamp(tick.datetime).value),
        }  # fmt: skip
        self.state["trades"].append(trade)
        self._book(trade)
        self._push_order(order)
        self._push_trade(trade)

    def _book(self, trade: dict) -> None:
        spec = self.specs[self.products[trade["symbol"]]]
        buy = trade["direction"] == "LONG"
        volume, price = trade["volume"], trade["price"]
        opens = trade["offset"] == "OPEN"
        side = trade["direction"] if opens else ("SHORT" if buy else "LONG")
        position = self.state["positions"].setdefault(trade["symbol"], {})
        td_yd = position.setdefault(side, [0, 0])
        today = False
        if opens:
            td_yd[0] += volume
        else:
            from_yd = min(td_yd[1], volume) if trade["offset"] != "CLOSETODAY" else 0
            td_yd[1] -= from_yd
            td_yd[0] -= volume - from_yd
            today = volume - from_yd > 0
        day = date.fromisoformat(self.state["day"])
        fee = fee_units(spec, volume, price_units(price), opens, today, day) / 10_000
        flow = volume * price * spec.multiplier
        self.state["cash"] += (-flow if buy else flow) - fee

    def _position(self, symbol: str, side: str) -> tuple[int, int]:
        td, yd = self.state["positions"].get(symbol, {}).get(side, [0, 0])
        return td, yd

    # -- reports --------------------------------------------------------------------------

    def query_position(self) -> None:
        for symbol, sides in self.state["positions"].items():
            for side, (td, yd) in sides.items():
                self.on_position(
                    PositionData(
                        symbol=symbol, exchange=Exchange(self._market(symbol)),
                        direction=Direction[side], volume=td + yd, yd_volume=yd,
                        gateway_name=self.gateway_name,
                    )
                )  # fmt: skip

    def query_account(self) -> None:
        self.on_account(
            AccountData(accountid="replay", balance=self.balance(), gateway_name=self.gateway_name)
        )

    def balance(self) -> float:
        equity = self.state["cash"]
        for symbol, sides in self.state["positions"].items():
            spec = self.specs[self.products[symbol]]
            last = self.state["last"].get(symbol, 0.0)
            for side, (td, yd) in sides.items():
                sign = 1 if side == "LONG" else -1
                equity += sign * (td + yd) * last * spec.multiplier
        return round(equity, 2)

    def query_history(self, req):
        return None

    def _market(self, symbol: str) -> str:
        return self.specs[self.products[symbol]].market

    def _time(self) -> int:
        cursor = min(self.state["cursor"], len(self.moments) - 1)
        return self.moments[max(cursor - 1, 0)].time_ns

    def _push_order(self, o: dict) -> None:
        self.on_order(
            OrderData(
                symbol=o["symbol"], exchange=Exchange(o["exchange"]), orderid=o["orderid"],
                type=OrderType.LIMIT, direction=Direction[o["direction"]],
                offset=Offset[o["offset"]], price=o["price"], volume=o["volume"],
                traded=o["traded"], status=Status[o["status"]], datetime=_now(o["time"]),
                gateway_name=self.gateway_name,
            )
        )  # fmt: skip

    def _push_trade(self, t: dict) -> None:
        self.on_trade(
            TradeData(
                symbol=t["symbol"], exchange=Exchange(t["exchange"]), orderid=t["orderid"],
                tradeid=t["tradeid"], direction=Direction[t["direction"]],
                offset=Offset[t["offset"]], price=t["price"], volume=t["volume"],
                datetime=_now(t["time"]), gateway_name=self.gateway_name,
            )
        )  # fmt: skip

    def _save(self) -> None:
        if not self.market["persist"]:
            return
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.state), encoding="utf-8")
        os.replace(partial, self.path)
