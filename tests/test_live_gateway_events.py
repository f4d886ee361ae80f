"""The live broker against a gateway whose events come in awkward orders (found by an
independent check of docs/live.md's promises): nothing is sent twice, no fill is lost
silently, a slow cancel is not asked for again on every pass, and a rejection carries the
gateway's own text."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

pytest.importorskip("vnpy", reason="vn.py is not installed here: `make live` installs it")

from vnpy.trader.constant import Direction, Exchange

from helpers.gateway_script import NS, Session, quote
from twotier.broker.base import Order

DECIDED = pd.Timestamp("2024-09-04 09:45", tz="Asia/Shanghai").value
BAR = quote("2024-09-04 10:00", "2024-09-04", 800.0)


def iron_entry(contracts: int = 5) -> Order:
    return Order.entry(0, "DCE/i", +1, contracts, DECIDED, "i2501")


def test_an_orders_traded_count_before_its_trade_never_sends_what_traded_again():
    # The first request times out; the exchange then says "traded 3, cancelled" before
    # the trade itself arrives. The retry is for the 2 left, not all 5 (8 filled in all).
    s = Session("live.order_retries=1")
    s.gateway.answer_cancels = False
    s.gateway.tick("i2501", Exchange.DCE, s.clock.t, 799.5, 800.0)
    s.broker.pump(0)
    order = iron_entry()
    s.broker.submit("5-1", order)
    first = next(iter(s.gateway.orders))
    held = []

    def exchange():
        if s.gateway.cancels and not held:
            held.append(s.gateway.fill(first, 3, 800.0, s.clock.t, trade=False))
            s.gateway.cancel_now(first)
        elif held and len(s.gateway.sent) == 2 and held[0] is not None:
            s.gateway.on_trade(held[0])
            held[0] = None
            s.gateway.fill(list(s.gateway.orders)[1], s.gateway.sent[1].volume, 800.5, s.clock.t)

    s.script = exchange
    outcome = s.broker.execute("5-1", order, BAR, "open")
    assert [r.volume for r in s.gateway.sent] == [5, 2]
    assert outcome.fill is not None and outcome.fill.contracts == 5


def test_a_close_whose_cancel_is_unanswered_is_not_sent_again_and_its_late_fill_is_booked():
    # The exchange never answers the cancel: the round ends unfilled while its request
    # may still fill. Another round beside it would close the position twice; it waits,
    # its cancel asked once per order timeout. When the old request fills after all, an
    # alert says so and the next question about the close books the fill.
    s = Session("live.order_retries=0")
    s.gateway.answer_cancels = False
    s.gateway.position("i2501", Exchange.DCE, Direction.LONG, 5, 5)
    s.gateway.tick("i2501", Exchange.DCE, s.clock.t, 799.5, 800.0)
    s.broker.pump(0)
    close = Order.close(0, "DCE/i", +1, 5, "stop_loss_2.5pct", DECIDED, date(2024, 9, 3), "i2501")
    s.broker.submit("5-1", close)
    first = s.broker.execute("5-1", close, BAR, "open")
    assert first.status == "unfilled"
    waited = s.clock.t - pd.Timestamp("2024-09-04 10:00", tz="Asia/Shanghai").value
    timeout = s.broker.rules.order_timeout
    assert len(s.gateway.cancels) <= waited / (timeout * NS) + 1  # not one every pass
    s.broker.committed()
    assert len(s.gateway.sent) == 1  # no second close beside the first
    s.gateway.fill(next(iter(s.gateway.orders)), 5, 799.5, s.clock.t)
    s.broker.pump(0)
    assert [kind for kind, _ in s.alerts] == ["trade"]
    s.broker.committed()
    assert len(s.gateway.sent) == 1
    later = s.broker.execute("5-1", close, quote("2024-09-04 10:15", "2024-09-04", 801.0), "open")
    assert later.fill is not None and later.fill.contracts == 5


def test_a_send_the_gateway_refuses_is_reported_with_the_line_it_logged_for_it():
    # vnpy_ctp's send_order logs its failure and returns no id; the reason is that line,
    # not the line before it (another order's rejection, here).
    s = Session()
    s.gateway.tick("i2501", Exchange.DCE, s.clock.t, 799.5, 800.0)
    s.broker.pump(0)
    s.gateway.write_log("交易委托失败，代码：31，信息：资金不足")
    s.broker.pump(0)
    s.gateway.fail_next = "委托请求发送失败，错误代码：-3"
    order = iron_entry(3)
    s.broker.submit("5-2", order)
    outcome = s.broker.execute("5-2", order, BAR, "open")
    assert (outcome.status, outcome.reason) == ("rejected", "委托请求发送失败，错误代码：-3")


def test_a_close_split_by_shfe_offsets_pays_each_trades_own_rate():
    # 3 long cu2410 at the exchange, 1 of them yesterday's: vn.py's converter closes the 2
    # of today first (CLOSETODAY) and 1 of yesterday's. The fee is each trade's, by its
    # offset; one flag for the whole fill (the position opened yesterday) undercharged.
    from twotier.broker.fees import fee_units
    from twotier.money import price_units

    s = Session()
    s.gateway.position("cu2410", Exchange.SHFE, Direction.LONG, 3, 1)
    s.gateway.tick("cu2410", Exchange.SHFE, s.clock.t, 75000.0, 75010.0)
    s.broker.pump(0)
    close = Order.close(1, "SHFE/cu", +1, 3, "profit_target_7pct", DECIDED, date(2024, 9, 3),
                        "cu2410")  # fmt: skip
    s.broker.submit("5-1", close)
    assert [(r.offset.name, int(r.volume)) for r in s.gateway.sent] == [
        ("CLOSETODAY", 2), ("CLOSEYESTERDAY", 1)
    ]  # fmt: skip
    for orderid, request in zip(list(s.gateway.orders), s.gateway.sent, strict=True):
        s.gateway.fill(orderid, int(request.volume), 75000.0, s.clock.t)
    outcome = s.broker.execute("5-1", close, quote("2024-09-04 10:00", "2024-09-04", 75010.0),
                               "open")  # fmt: skip
    spec, units, day = s.broker.specs["SHFE/cu"], price_units(75000.0), date(2024, 9, 4)
    expected = fee_units(spec, 2, units, False, True, day) + fee_units(spec, 1, units, False,
                                                                        False, day)  # fmt: skip
    assert outcome.fill is not None and outcome.fill.fee == expected


def test_contracts_adopted_on_the_day_they_were_opened_are_yesterdays_the_next_day():
    # The broker holds 3 i2501 opened by hand today; --adopt takes them. The next trading
    # day the broker counts them as yesterday's, and so must the adopted record: it kept
    # "0 of them yesterday's" and the next reconciliation stopped the run.
    from types import SimpleNamespace

    from twotier.live.gateway_reconcile import Reconciler
    from twotier.money import money_units

    s = Session()
    s.gateway.position("i2501", Exchange.DCE, Direction.LONG, 3, 0)
    s.broker.pump(0)
    flat = SimpleNamespace(baskets=[], last_pv=money_units(s.config.portfolio.initial_capital))
    alerts, events = [], []
    reconciler = Reconciler(
        s.config, s.store, s.broker, lambda key, day: "i2501",
        lambda kind, text: alerts.append(text), lambda kind, text: events.append(text),
    )  # fmt: skip
    reconciler.check(flat, adopt=True, when="start")
    assert "adopted" in alerts[-1]
    s.clock.t = pd.Timestamp("2024-09-05 10:00", tz="Asia/Shanghai").value  # next day
    s.gateway.position("i2501", Exchange.DCE, Direction.LONG, 3, 3)
    s.broker.pump(0)
    reconciler.check(flat, adopt=False, when="next day")
    assert events[-1].startswith("reconciled (next day)")


def test_a_later_days_trade_repeating_an_earlier_trade_id_is_booked():
    # Exchange trade ids start again each trading day: day two's trade "77" of i2501 long
    # is not day one's pushed again. Keyed without its time it was ignored as a repeat,
    # and the fill never booked.
    s = Session()
    s.gateway.tick("i2501", Exchange.DCE, s.clock.t, 799.5, 800.0)
    s.broker.pump(0)
    first = iron_entry(5)
    s.broker.submit("5-1", first)
    s.gateway.fill(next(iter(s.gateway.orders)), 5, 800.0, s.clock.t, trade_id="77")
    assert s.broker.execute("5-1", first, BAR, "open").fill.contracts == 5
    s.broker.committed()

    s.clock.t = pd.Timestamp("2024-09-05 10:00", tz="Asia/Shanghai").value
    s.gateway.tick("i2501", Exchange.DCE, s.clock.t, 809.5, 810.0)
    s.broker.pump(0)
    decided = pd.Timestamp("2024-09-05 09:45", tz="Asia/Shanghai").value
    second = Order.entry(0, "DCE/i", +1, 2, decided, "i2501")
    s.broker.submit("6-1", second)
    orderid = list(s.gateway.orders)[-1]
    trade = s.gateway.fill(orderid, 2, 810.0, s.clock.t, trade_id="77")
    s.gateway.on_trade(trade)  # and the same trade pushed again after a reconnect
    outcome = s.broker.execute("6-1", second, quote("2024-09-05 10:00", "2024-09-05", 810.0),
                               "open")  # fmt: skip
    assert outcome.fill is not None and outcome.fill.contracts == 2
    assert [t.volume for t in s.broker.journal.trades()] == [5, 2]


def test_trades_of_a_version_2_state_are_still_known_as_repeats_after_the_upgrade(tmp_path):
    # A state database of twotier before trades were keyed with their time: opened by
    # this version, its trades are recognised when the gateway pushes them again.
    from twotier.live.gateway_journal import SCHEMA, GatewayJournal, TradeRow, trade_key
    from twotier.live.store import SCHEMA_VERSION, Store

    when = pd.Timestamp("2024-09-04 10:00:01", tz="Asia/Shanghai").value
    old = TradeRow("i2501.77.LONG", "1_1_1", "5-1", 1, 5, 800.0, when, "OPEN")
    store = Store(tmp_path / "state.db", synchronous="OFF")
    store.db.executescript(SCHEMA)
    with store.transaction() as tx:
        tx.set_meta("schema_version", "2")
        tx.db.execute("INSERT INTO gateway_trades VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      tuple(old.__dict__.values()))  # fmt: skip
    store.close()

    store = Store(tmp_path / "state.db", synchronous="OFF")
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    journal = GatewayJournal(store)
    key = trade_key("i2501", "77", "LONG", when)
    assert journal.trade(TradeRow(key, *tuple(old.__dict__.values())[1:])) is False
    assert [t.trade_key for t in journal.trades()] == [key]


def test_a_missing_contract_is_asked_for_with_an_example_of_its_own_product():
    from datetime import date

    from twotier.errors import ConfigError
    from twotier.live.gateway_feed import ContractPlan

    with pytest.raises(ConfigError, match=r"--contract SHFE/cu=CODE \(e\.g\. cu2509\)"):
        ContractPlan(fixed={"DCE/i": "i2509"}).contract_for("SHFE/cu", date(2025, 1, 2))
