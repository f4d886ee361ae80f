"""Rolls in Tier-2 and the broker (RULES.md 9): a position open at a roll is closed on the
old contract and reopened on the new one, each at its own price, with fees (and slippage
under next_open) on both legs; the trade goes on with its basis carried by the roll ratio;
P&L never crosses the splice."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from helpers.scenario import (
    IRON,
    MON,
    TUE,
    WED,
    assert_same_run,
    check_ledger,
    config,
    day_bars,
    lines,
    packages,
)
from helpers.scenario import basket as make_basket
from twotier.engine.backtest import run_tier2, split_packages
from twotier.market.rolls import Roll, RollSchedule

ROLL_DAY = dt.date(2024, 10, 22)  # Tuesday
RATIO = 729.0 / 810.0  # new / old at the roll
NO_BREAKERS = ("breakers.daily_loss_breaker=false", "breakers.drawdown_breaker=false")


def roll_schedule(old=810.0, new=729.0) -> RollSchedule:
    return RollSchedule((Roll(ROLL_DAY, "i2501", "i2505", old, new),))


def iron(monday_closes, tuesday_closes, side=1, wednesday_closes=()):
    """Iron ore on i2501 on Monday and on i2505 from Tuesday (raw prices, spliced), with
    the signal held on ``side`` throughout."""
    times = day_bars(MON) + day_bars(TUE)[: len(tuesday_closes)]
    times += day_bars(WED)[: len(wednesday_closes)]
    closes = [*monday_closes, *tuesday_closes, *wednesday_closes]
    frame = make_basket(IRON, times, closes, signal=side, confidence=0.9, strength=0.8, regime=1)
    monday = len(monday_closes)
    frame["contract"] = ["i2501"] * monday + ["i2505"] * (len(closes) - monday)
    return frame


def run(frame, *overrides, schedule=None):
    table = packages(frame)
    table["contract"] = table["contract"].where(table["contract"].notna(), None)
    cfg = config(*overrides, *NO_BREAKERS)
    split = split_packages(table, cfg, "<rolls>")
    rolls = {IRON: schedule if schedule is not None else roll_schedule()}
    result = run_tier2(split, cfg, rolls=rolls)
    assert_same_run(result, run_tier2(split, cfg, rolls=rolls, every_step=True))
    check_ledger(result)
    return result


MONDAY_UP = [800.0] + [805.0] * 13 + [810.0]
TUESDAY_FLAT = [729.0] * 6


def roll_fills(result):
    return result.fills[result.fills["reason"] == "roll"]


def test_a_position_open_at_a_roll_is_closed_on_the_old_contract_and_reopened_on_the_new():
    r = run(iron(MONDAY_UP, TUESDAY_FLAT), "execution.fill=close")
    fills = roll_fills(r)
    assert list(fills["side"]) == ["SELL", "BUY"]
    assert list(fills["contract"]) == ["i2501", "i2505"]
    assert list(fills["price"]) == [810.0, 729.0]
    assert (fills["time"] == pd.Timestamp(f"{TUE} 09:00", tz="Asia/Shanghai")).all()
    assert fills["contracts"].nunique() == 1
    assert any(line.startswith("[2024-10-22 09:00] ROLL basket 0") for line in r.decisions.text)


def test_the_roll_makes_no_pnl_from_the_price_gap_only_fees():
    r = run(iron(MONDAY_UP, TUESDAY_FLAT), "execution.fill=close")
    fees = roll_fills(r)["fee"].sum()
    assert fees > 0
    equity = r.equity.set_index("time")["equity_0"]
    before = equity[pd.Timestamp(f"{MON} 14:45", tz="Asia/Shanghai")]
    after = equity[pd.Timestamp(f"{TUE} 09:00", tz="Asia/Shanghai")]
    assert after == pytest.approx(before - fees, abs=1e-9)


def test_fees_are_charged_on_both_legs_of_the_roll():
    r = run(iron(MONDAY_UP, TUESDAY_FLAT), "execution.fill=close")
    fills = roll_fills(r)
    contracts = int(fills["contracts"].iloc[0])
    # DCE/i: 0.01% of turnover (multiplier 100) on the close and on the open.
    assert fills["fee"].round(2).tolist() == [
        round(contracts * 100 * 810.0 * 0.0001, 2),
        round(contracts * 100 * 729.0 * 0.0001, 2),
    ]


def test_the_trade_continues_as_one_trade_whose_pnl_sums_both_contracts():
    # Target 7% on the carried basis: 800 * RATIO * 1.07 = 770.4.
    r = run(iron(MONDAY_UP, [729.0, 740.0, 771.0]), "execution.fill=close", "execution.fees=false")
    trades = r.trades[r.trades["reason"] != "open"]
    assert len(trades) == 1
    t = trades.iloc[0]
    assert t["reason"] == "profit_target_7pct"
    assert (t["entry_contract"], t["contract"]) == ("i2501", "i2505")
    assert (t["entry_price"], t["exit_price"]) == (800.0, 771.0)
    n = int(t["contracts"])
    expected = n * 100 * ((810.0 - 800.0) + (771.0 - 729.0))
    assert t["gross_pnl"] == pytest.approx(expected)
    assert t["return_pct"] == pytest.approx((771.0 - 800.0 * RATIO) / (800.0 * RATIO))


def test_targets_and_stops_see_the_basis_carried_by_the_roll_ratio():
    # 770.0 is +6.94% on the carried basis 720.0 (800 * 0.9): below the 7% target.
    r = run(iron(MONDAY_UP, [729.0, 770.0, 770.0]), "execution.fill=close", "execution.fees=false")
    assert (r.trades["reason"] == "open").all()
    # A raw comparison with the first entry price (800) would see a 9.9% loss and stop out.
    r = run(iron(MONDAY_UP, [729.0, 712.0]), "execution.fill=close", "execution.fees=false")
    assert (r.trades["reason"] == "open").all()  # -1.1% on the carried basis
    r = run(iron(MONDAY_UP, [729.0, 705.0]), "execution.fill=close", "execution.fees=false")
    assert r.trades.iloc[0]["reason"] == "stop_loss_1.5pct"  # -2.1%
    # The log's P&L is the exit rules' (and return_pct's): against the carried basis.
    assert lines(r, "CLOSE") == [
        "[2024-10-22 09:15] CLOSE basket 0 [stop_loss_1.5pct]: DCE/i, LONG, basis=720.00 "
        "(the entry carried by rolls), exit=705.00, P&L=-2.08% (-84,000.00)"
    ]


def test_an_exit_decided_at_the_roll_bars_close_fills_on_the_new_contract():
    # Under close fills the roll fills at Tuesday's first bar, then the stop loss fires at
    # that bar's close (705.0, -2.1% on the carried basis 720.0): the position is on i2505
    # by then, so it closes at the bar's close, not at the old contract's price.
    r = run(iron(MONDAY_UP, [705.0, 706.0]), "execution.fill=close", "execution.fees=false")
    t = r.trades.iloc[0]
    assert (t["reason"], t["contract"], t["exit_price"]) == ("stop_loss_1.5pct", "i2505", 705.0)
    assert t["exit_time"] == day_bars(TUE)[0]


def test_a_short_position_is_rolled_the_same_way():
    monday = [800.0] + [795.0] * 13 + [790.0]
    r = run(iron(monday, [711.0, 700.0], side=-1), "execution.fill=close",
            "execution.fees=false", schedule=roll_schedule(old=790.0, new=711.0))  # fmt: skip
    fills = roll_fills(r)
    assert list(fills["side"]) == ["BUY", "SELL"]
    assert list(fills["price"]) == [790.0, 711.0]
    t = r.trades.iloc[0]
    n = int(t["contracts"])
    assert t["reason"] == "open"
    assert t["gross_pnl"] == pytest.approx(n * 100 * ((800.0 - 790.0) + (711.0 - 700.0)))


def test_under_next_open_both_legs_pay_a_tick_of_slippage_against_them():
    r = run(iron(MONDAY_UP, TUESDAY_FLAT), "execution.fill=next_open", "execution.fees=false")
    fills = roll_fills(r)
    assert list(fills["price"]) == [809.5, 729.5]
    assert list(fills["price_kind"]) == ["open", "open"]


def test_a_close_waiting_at_the_roll_fills_on_the_old_contract():
    # The signal turns on Monday's last bar; the exit fills at Tuesday's first bar, which
    # is on the new contract in the spliced series: the old contract's price is used.
    frame = iron(MONDAY_UP, TUESDAY_FLAT)
    frame.loc[14, ["signal", "confidence", "signal_strength"]] = [0, 0.0, 0.0]
    frame.loc[15:, ["signal", "confidence", "signal_strength"]] = [0, 0.0, 0.0]
    r = run(frame, "execution.fill=next_open", "execution.fees=false")
    assert roll_fills(r).empty
    t = r.trades.iloc[0]
    assert (t["reason"], t["contract"], t["exit_price"]) == ("low_confidence", "i2501", 809.5)


def test_a_position_entered_after_the_roll_is_on_the_new_contract():
    frame = iron(MONDAY_UP, [729.0, 730.0, 731.0])
    frame.loc[:14, ["signal", "confidence", "signal_strength"]] = [0, 0.0, 0.0]
    r = run(frame, "execution.fill=close")
    assert roll_fills(r).empty
    assert r.trades.iloc[0]["entry_contract"] == "i2505"


def test_a_derisk_cut_after_a_roll_carries_its_share_of_the_old_contract_pnl():
    frame = iron(MONDAY_UP, [729.0, 715.0, 715.0])
    table = packages(frame)
    cfg = config("execution.fill=close", "execution.fees=false", "exits.stop_loss=false")
    split = split_packages(table, cfg, "<rolls>")
    rolls = {IRON: roll_schedule()}
    r = run_tier2(split, cfg, rolls=rolls)
    assert_same_run(r, run_tier2(split, cfg, rolls=rolls, every_step=True))
    check_ledger(r)
    cut = r.trades[r.trades["reason"] == "daily_loss_derisk"]
    assert len(cut) == 1
    n_cut = int(cut["contracts"].iloc[0])
    assert cut["gross_pnl"].iloc[0] == pytest.approx(n_cut * 100 * ((810 - 800) + (715 - 729)))
