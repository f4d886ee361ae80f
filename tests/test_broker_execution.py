"""RULES.md 5 and 8.4, 8.21, 8.26: fills at the next open with slippage against the
order, or at the close without."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.scenario import (
    CLOSE_NO_FEES,
    COPPER,
    IRON,
    MEAL,
    MON,
    basket,
    day_bars,
    lines,
    only_trade,
    packages,
    run,
)
from twotier.broker import Order, Quote, SimulatedBroker, TickSlippage
from twotier.market.instruments import default_registry
from twotier.money import price_units

T = day_bars(MON)
SPECS = {k: default_registry()[k] for k in (IRON, COPPER, MEAL)}


def quote(open_, close, day=date(2024, 10, 21)) -> Quote:
    return Quote(T[1].value, day, price_units(open_), price_units(close))


def order(instrument, action, opens=True, opened_on=None) -> Order:
    if opens:
        return Order.entry(0, instrument, action, 3, T[0].value, None)
    return Order.close(0, instrument, -action, 3, "x", T[0].value, opened_on, None)


def fill_on(broker: SimulatedBroker, order: Order, quote: Quote, at: str):
    """The simulated broker fills every order whole."""
    outcome = broker.execute(order, quote, at)
    assert (outcome.status, outcome.filled) == ("filled", order.contracts)
    return outcome.fill


# -- the simulated broker -----------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "tick"), [(IRON, 0.5), (COPPER, 10.0), (MEAL, 1.0)])
def test_next_open_buy_fills_one_tick_above_the_open(instrument, tick):
    fill = fill_on(SimulatedBroker(SPECS), order(instrument, +1), quote(1000.0, 990.0), "open")
    assert fill.price == price_units(1000.0 + tick)
    assert fill.slippage == price_units(tick)
    assert fill.price_kind == "open"


@pytest.mark.parametrize(("instrument", "tick"), [(IRON, 0.5), (COPPER, 10.0), (MEAL, 1.0)])
def test_next_open_sell_fills_one_tick_below_the_open(instrument, tick):
    fill = fill_on(SimulatedBroker(SPECS), order(instrument, -1), quote(1000.0, 990.0), "open")
    assert fill.price == price_units(1000.0 - tick)


def test_slippage_ticks_setting_multiplies_the_tick():
    broker = SimulatedBroker(SPECS, TickSlippage(3))
    fill = fill_on(broker, order(IRON, +1), quote(800.0, 790.0), "open")
    assert fill.price == price_units(801.5)


@given(st.integers(0, 10_000), st.integers(1, 10_000), st.sampled_from([+1, -1]))
def test_more_slippage_never_fills_at_a_better_price(ticks, more, action):
    # A sell slipped through zero fills at one tick; it filled at the open itself.
    def price(n: int) -> int:
        broker = SimulatedBroker(SPECS, TickSlippage(n))
        return fill_on(broker, order(IRON, action), quote(600.5, 600.0), "open").price

    assert action * price(ticks + more) >= action * price(ticks)
    assert price(ticks + more) >= price_units(0.5)


@pytest.mark.parametrize("action", [+1, -1])
def test_close_fill_at_the_close_without_slippage(action):
    fill = fill_on(SimulatedBroker(SPECS), order(IRON, action), quote(800.0, 790.0), "close")
    assert (fill.price, fill.slippage, fill.price_kind) == (price_units(790.0), 0, "close")


def test_broker_close_today_compares_trading_days():
    broker = SimulatedBroker(SPECS)
    same = fill_on(broker, order(COPPER, -1, False, date(2024, 10, 21)), quote(1e4, 1e4), "open")
    other = fill_on(broker, order(COPPER, -1, False, date(2024, 10, 18)), quote(1e4, 1e4), "open")
    opening = fill_on(broker, order(COPPER, +1, True), quote(1e4, 1e4), "open")
    assert (same.close_today, other.close_today, opening.close_today) == (True, False, False)


def test_broker_without_fees_charges_nothing():
    fill = fill_on(SimulatedBroker(SPECS, fees=False), order(IRON, +1), quote(800, 800), "open")
    assert fill.fee == 0


def test_orders_quotes_and_fills_give_their_times_as_exchange_time_timestamps():
    """They carry nanoseconds; ``time`` and ``decided_at`` are the Timestamps of them."""
    the_order, the_quote = order(IRON, +1), quote(800, 800)
    fill = fill_on(SimulatedBroker(SPECS), the_order, the_quote, "open")
    assert (fill.time_ns, fill.order.decided_ns) == (T[1].value, T[0].value)
    for stamp, expected in [
        (the_quote.time, T[1]),
        (fill.time, T[1]),
        (the_order.decided_at, T[0]),
    ]:
        assert stamp == expected and str(stamp.tz) == "Asia/Shanghai"


# -- fills in a run -----------------------------------------------------------------------


def test_next_open_entry_fills_at_the_next_bar_open_plus_one_tick():
    iron = basket(
        IRON,
        T[:3],
        close=[800.0, 805.0, 805.0],
        open=[799.0, 802.0, 805.0],
        signal=1,
        confidence=1.0,
        strength=1.0,
    )
    r = run(packages(iron))
    fill = r.fills.iloc[0]
    assert (fill["time"], fill["price"], fill["price_kind"], fill["slippage"]) == (
        T[1],
        802.5,
        "open",
        0.5,
    )
    assert fill["decided_at"] == T[0]
    assert fill["fee"] == pytest.approx(37 * 100 * 802.5 * 0.0001, abs=0.005)
    t = only_trade(r, 0)
    assert (t["entry_time"], t["entry_price"], t["entry_price_kind"]) == (T[1], 802.5, "open")


def test_next_open_fill_line_in_the_decision_log():
    iron = basket(
        IRON,
        T[:2],
        close=[800.0, 805.0],
        open=[799.0, 802.0],
        signal=1,
        confidence=1.0,
        strength=1.0,
    )
    r = run(packages(iron))
    assert lines(r, "FILL") == [
        "[2024-10-21 09:15] FILL basket 0: DCE/i, BUY 37 @ 802.50 (open, slippage 0.50), "
        "fee 296.93, entry"
    ]


def test_next_open_short_entry_and_its_exit_slip_against_the_order():
    cu = basket(
        COPPER,
        T[:4],
        close=[70_000.0] * 4,
        open=[70_000.0, 70_100.0, 69_900.0, 69_800.0],
        signal=[-1, -1, 0, 0],
        confidence=[1.0, 1.0, 0.0, 0.0],
        strength=[1.0, 1.0, 0.0, 0.0],
    )
    r = run(packages(cu), "execution.fees=false")
    t = only_trade(r, 1)
    assert (t["side"], t["entry_price"]) == ("SHORT", 70_090.0)  # sell 1 tick lower
    assert (t["reason"], t["exit_decided_at"]) == ("low_confidence", T[2])
    assert (t["exit_time"], t["exit_price"]) == (T[3], 69_810.0)  # buy back 1 tick higher
    assert t["gross_pnl"] == 8 * 5 * (70_090 - 69_810)


def test_close_fill_at_the_decision_bar_close_no_slippage_no_fill_line():
    iron = basket(
        IRON,
        T[:2],
        close=[800.0, 805.0],
        open=[799.0, 802.0],
        signal=1,
        confidence=1.0,
        strength=1.0,
    )
    r = run(packages(iron), *CLOSE_NO_FEES)
    fill = r.fills.iloc[0]
    assert (fill["time"], fill["price"], fill["price_kind"], fill["slippage"]) == (
        T[0],
        800.0,
        "close",
        0.0,
    )
    assert lines(r, "FILL") == []


def test_pnl_is_contracts_times_multiplier_times_price_change():
    cu = basket(
        COPPER,
        T[:3],
        [76_770.0, 77_000.0, 77_000.0],
        signal=[-1, -1, 0],
        confidence=[0.58, 0.58, 0.0],
        strength=[0.45, 0.45, 0.0],
    )
    r = run(packages(cu), *CLOSE_NO_FEES)
    assert only_trade(r, 1)["gross_pnl"] == -2 * 5 * 230


def test_outputs_label_times_by_bar_start():
    iron = basket(IRON, T[:2], 800.0, signal=1, confidence=1.0, strength=1.0)
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert r.equity["time"].iloc[0] == pd.Timestamp("2024-10-21 09:00", tz="Asia/Shanghai")
    assert r.trades["entry_time"].iloc[0] == T[0]
