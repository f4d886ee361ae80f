"""RULES.md 1, 5 and 8.15, 8.27: exchange fees per fill, close-today by trading day,
rounding to the cent half up."""

from __future__ import annotations

from datetime import date

import pytest

from helpers.scenario import (
    COPPER,
    FRI,
    IRON,
    MEAL,
    MON,
    NEXT_MON,
    TUE,
    at,
    basket,
    day_bars,
    night_bars,
    only_trade,
    packages,
    run,
)
from twotier.broker.fees import fee_units
from twotier.market.instruments import default_registry
from twotier.money import MONEY_SCALE, price_units

SPECS = default_registry()


DAY = date(2024, 10, 21)


def fee(instrument, contracts, price, opens, close_today=False) -> float:
    units = fee_units(SPECS[instrument], contracts, price_units(price), opens, close_today, DAY)
    assert units % 100 == 0, "fees are whole cents"
    return units / MONEY_SCALE


# -- the fee table ------------------------------------------------------------------------


def test_iron_ore_fee_is_0_01_pct_of_turnover_open_close_and_close_today():
    assert fee(IRON, 33, 765.0, opens=True) == 252.45  # 2,524,500 * 0.0001
    assert fee(IRON, 33, 765.0, opens=False) == 252.45
    assert fee(IRON, 33, 765.0, opens=False, close_today=True) == 252.45


def test_copper_fee_is_0_005_pct_open_and_close():
    assert fee(COPPER, 2, 76_770.0, opens=True) == 38.39  # 38.385 half up
    assert fee(COPPER, 2, 78_310.0, opens=False) == 39.16  # 39.155 half up


def test_copper_close_today_fee_is_0_01_pct():
    assert fee(COPPER, 2, 78_310.0, opens=False, close_today=True) == 78.31


def test_soybean_meal_fee_is_1_5_cny_per_lot_and_0_close_today():
    assert fee(MEAL, 10, 3000.0, opens=True) == 15.0
    assert fee(MEAL, 10, 3123.0, opens=False) == 15.0
    assert fee(MEAL, 10, 3000.0, opens=False, close_today=True) == 0.0


@pytest.mark.parametrize(
    ("instrument", "contracts", "price", "expected"),
    [
        (IRON, 1, 0.5, 0.01),  # 0.005 -> 0.01, not banker's 0.00
        (IRON, 1, 1.5, 0.02),  # 0.015 -> 0.02
        (IRON, 1, 2.5, 0.03),  # 0.025 -> 0.03 (banker's would give 0.02)
        (COPPER, 1, 70_010.0, 17.50),  # 17.5025 -> 17.50
        (COPPER, 1, 70_030.0, 17.51),  # 17.5075 -> 17.51
    ],
)
def test_fees_are_rounded_to_the_cent_half_up(instrument, contracts, price, expected):
    assert fee(instrument, contracts, price, opens=True) == expected


# -- close-today in a run, by trading day -------------------------------------------------


def copper_round_trip(times, exit_index, *overrides):
    """Copper 2 lots short at 76,770 on the first bar (the worked example's copper), closed
    by its signal returning to 0 at ``exit_index``."""
    n = len(times)
    signal = [-1 if i < exit_index else 0 for i in range(n)]
    conf = [0.58 if s else 0.0 for s in signal]
    stren = [0.45 if s else 0.0 for s in signal]
    cu = basket(COPPER, times, 76_770.0, signal=signal, confidence=conf, strength=stren)
    return run(packages(cu), "execution.fill=close", *overrides)


def test_close_on_the_entry_trading_day_pays_the_close_today_rate():
    times = day_bars(MON)[4:12]
    r = copper_round_trip(times, 6)
    assert list(r.fills["close_today"]) == [False, True]
    assert list(r.fills["fee"]) == [38.39, 76.77]  # 767,700 * 0.0001


def test_close_on_a_later_trading_day_pays_the_close_rate():
    times = [*day_bars(MON)[11:13], *day_bars(TUE)[:3]]
    r = copper_round_trip(times, 3)
    assert list(r.fills["close_today"]) == [False, False]
    assert list(r.fills["fee"]) == [38.39, 38.39]


def test_night_fill_belongs_to_the_next_trading_day_for_close_today():
    """Opened Friday 21:00 (Monday's trading day), closed Monday 09:30: close-today."""
    times = [*night_bars(FRI)[:2], *day_bars(NEXT_MON)[:3]]
    r = copper_round_trip(times, 4)
    assert [str(d) for d in r.fills["trading_day"]] == [NEXT_MON, NEXT_MON]
    assert list(r.fills["close_today"]) == [False, True]
    assert r.fills["fee"].iloc[1] == 76.77


def test_close_in_the_night_after_a_day_entry_is_not_close_today():
    """Opened Friday 10:00, closed Friday 21:00 (Monday's trading day)."""
    times = [*day_bars(FRI)[4:6], *night_bars(FRI)[:1]]
    r = copper_round_trip(times, 2)
    assert r.fills["time"].iloc[1] == at(FRI, "21:00")
    assert list(r.fills["close_today"]) == [False, False]
    assert r.fills["fee"].iloc[1] == 38.39


def test_soybean_meal_close_today_is_free_in_a_run():
    times = day_bars(MON)[:3]
    meal = basket(
        MEAL, times, 3000.0, signal=[1, 1, 0], confidence=[1.0, 1.0, 0.0], strength=[1.0, 1.0, 0.0]
    )
    r = run(packages(meal), "execution.fill=close")
    assert list(r.fills["contracts"]) == [99, 99]
    assert list(r.fills["fee"]) == [148.5, 0.0]
    assert only_trade(r, 2)["net_pnl"] == -148.5


def test_trade_fees_are_the_entry_fee_plus_the_exit_fee():
    times = day_bars(MON)[4:12]
    r = copper_round_trip(times, 6)
    t = only_trade(r, 1)
    assert t["fees"] == pytest.approx(38.39 + 76.77)
    assert t["net_pnl"] == pytest.approx(t["gross_pnl"] - 115.16)
    assert r.summary["fees"] == pytest.approx(115.16)


def test_fees_switched_off():
    times = day_bars(MON)[4:12]
    r = copper_round_trip(times, 6, "execution.fees=false")
    assert list(r.fills["fee"]) == [0.0, 0.0]
    assert r.summary["fees"] == 0


def test_fees_lower_pv_by_exactly_their_amount():
    times = day_bars(MON)[4:12]
    r = copper_round_trip(times, 6)
    assert r.equity["pv"].iloc[-1] == pytest.approx(1_000_000 - 115.16, abs=1e-9)
    assert r.equity["equity_1"].iloc[0] == pytest.approx(300_000 - 38.39, abs=1e-9)


def test_summary_counts_gross_pnl_and_fees_of_the_same_trades_with_a_position_open():
    times = day_bars(MON)[:4]  # the position opened on bar 1 is still open at the end
    iron = basket(IRON, times, [800.0, 804.0, 810.0, 812.0], signal=1, confidence=0.9, strength=0.8)
    r = run(packages(iron), "execution.fill=close")
    s = r.summary
    assert s["open_positions"] == 1 and s["trades"] == 0
    opened = r.trades[r.trades["reason"] == "open"].iloc[0]
    assert s["open_pnl"] == pytest.approx(opened["gross_pnl"]) and s["open_pnl"] != 0
    assert s["gross_pnl"] == pytest.approx(opened["gross_pnl"])  # counted as the fees are
    assert s["fees"] == pytest.approx(opened["fees"]) and s["fees"] > 0
    assert s["final_pv"] == pytest.approx(s["initial_capital"] + s["gross_pnl"] - s["fees"])
    assert s["baskets"][0]["gross_pnl"] == pytest.approx(s["gross_pnl"])
