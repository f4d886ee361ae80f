"""A position still on the old contract of a roll (RULES.md 9, 10.6 item 14, 11), whatever
keeps it there: a roll schedule given to Tier-2 alone, a breaker or forced liquidation
replacing a waiting roll, an exit already waiting when the roll's day comes. The old
contract is priced at the new contract's price divided by the roll ratio, to the tick;
the new contract's raw price made the roll's gap a profit or loss (found by an
independent check of rules that meet)."""

from __future__ import annotations

import pytest

from helpers.scenario import (
    IRON,
    MON,
    NO_BREAKERS,
    TUE,
    assert_same_run,
    basket,
    config,
    day_bars,
    lines,
    packages,
    reasons,
    trades_of,
)
from twotier.engine.backtest import run_tier2, split_packages
from twotier.market.rolls import Roll, RollSchedule

T, U = day_bars(MON), day_bars(TUE)
# Held long from Monday's 09:15 (open 800 + 0.5 slippage); i2501 until Monday, i2505 from
# Tuesday, at a ratio of 729 / 810 = 0.9: Tuesday's 700 is the old contract's 777.78,
# 778.0 to the tick; 701 is 778.89, 779.0.
ROLL = Roll(U[0].date(), "i2501", "i2505", 810.0, 729.0)
MONDAY = [800.0] * 14 + [810.0]
TUESDAY = [700.0, 702.0, 703.0, 703.0]  # 09:00 locked down at 700; 09:15 opens free at 701


def rolled_bars(*, confidence=0.9, contracts=True, down=700.0):
    """Monday then Tuesday's first four bars; with ``contracts``, a contract column."""
    frame = basket(IRON, T + U[:4], MONDAY + TUESDAY, open=[*MONDAY, 700.0, 701.0, 702.0, 703.0],
                   signal=1, confidence=confidence, strength=0.8)  # fmt: skip
    frame["high"] = [c + 1 for c in MONDAY] + [700.0, 703.0, 704.0, 704.0]
    frame["low"] = [c - 1 for c in MONDAY] + [700.0, 700.5, 702.0, 702.0]
    frame["volume"], frame["limit_up"], frame["limit_down"] = 1000.0, 900.0, down
    if contracts:
        frame["contract"] = ["i2501"] * 15 + ["i2505"] * 4
    return packages(frame)


def run_with_roll(table, *overrides):
    """Tier-2 with the roll given as a schedule, the event engine and every step
    agreeing."""
    cfg = config("execution.fill=next_open", *NO_BREAKERS, *overrides)
    rolls = {IRON: RollSchedule((ROLL,))}
    split = split_packages(table, cfg, "<roll>")
    result = run_tier2(split, cfg, rolls=rolls)
    assert_same_run(result, run_tier2(split, cfg, rolls=rolls, every_step=True))
    return result


def fills_of(result, reason):
    rows = result.fills[result.fills["reason"] == reason]
    return list(zip(rows["time"], rows["side"], rows["contract"], rows["price"], strict=True))


def equity_at(result, time):
    return result.equity.set_index("time").loc[time, "equity_0"]


def test_a_roll_schedule_names_the_contracts_of_packages_that_have_none():
    # Tier-2 alone on packages without a contract column and a roll schedule: the
    # position is on i2501. The roll waits at the lock and fills its old leg at 779.0 less
    # slippage, not at the new contract's 701 less slippage.
    r = run_with_roll(rolled_bars(contracts=False), "exits.stop_loss=false")
    assert fills_of(r, "roll") == [
        (U[1], "SELL", "i2501", 778.5),
        (U[1], "BUY", "i2505", 701.5),
    ]  # fmt: skip
    assert trades_of(r, 0).iloc[0]["entry_contract"] == "i2501"


def test_with_a_roll_schedule_alone_a_position_is_closed_at_its_delivery_deadline():
    # i2501's deadline is the last trading day before January 2025 less one: 2024-12-30.
    # The schedule rolls it on 2024-12-31, too late: the position is closed on the
    # deadline day, as it is with a contract column.
    days = day_bars("2024-12-27"), day_bars("2024-12-30")
    frame = basket(IRON, days[0] + days[1][:3], 800.0, signal=1, confidence=0.9, strength=0.8)
    late = Roll(day_bars("2024-12-31")[0].date(), "i2501", "i2505", 800.0, 760.0)
    cfg = config("execution.fill=next_open", *NO_BREAKERS)
    split = split_packages(packages(frame), cfg, "<roll>")
    r = run_tier2(split, cfg, rolls={IRON: RollSchedule((late,))})
    trade = trades_of(r, 0).iloc[0]
    assert (trade["reason"], trade["contract"], trade["exit_time"]) == (
        "delivery_deadline", "i2501", days[1][1]
    )  # fmt: skip


def test_forced_liquidation_replacing_a_waiting_roll_closes_the_old_contract_at_its_price():
    # Tuesday 09:00: the roll waits at the lock; the position of 35, marked at 778.0,
    # holds 308,192.50 of margin on a PV of 920,969.82: 33.5%, above a force-close level
    # of 32%. Forced liquidation replaces the roll by a close of i2501, which fills at
    # 09:15 at 779.0 less slippage.
    r = run_with_roll(rolled_bars(), "exits.stop_loss=false", "market.force_close_level=0.32")
    assert reasons(r, "BREAKER") == ["forced_liquidation"]
    assert lines(r, "CLOSE")[0].endswith("entry=800.50, exit=778.00, P&L=-2.81%")
    assert fills_of(r, "forced_liquidation") == [(U[1], "SELL", "i2501", 778.5)]
    assert fills_of(r, "roll") == []
    contracts = int(trades_of(r, 0).iloc[0]["contracts"])
    assert equity_at(r, U[0]) - equity_at(r, T[14]) == pytest.approx(contracts * 100 * -32.0)


def test_an_exit_waiting_when_the_rolls_day_comes_fills_at_the_old_contracts_price():
    # Confidence falls at Monday's 14:45: the close waits for Tuesday, whose 09:00 is
    # locked down; meanwhile the position is marked at 778.0 (not 700), and the close
    # fills at 09:15 at 779.0 less slippage. The roll waits behind it and is never made.
    confidence = [0.9] * 14 + [0.1] * 5
    r = run_with_roll(rolled_bars(confidence=confidence), "exits.stop_loss=false")
    assert fills_of(r, "low_confidence") == [(U[1], "SELL", "i2501", 778.5)]
    assert fills_of(r, "roll") == []
    contracts = int(trades_of(r, 0).iloc[0]["contracts"])
    assert equity_at(r, U[0]) - equity_at(r, T[14]) == pytest.approx(contracts * 100 * -32.0)


def test_what_a_waiting_cut_leaves_on_the_old_contract_is_rolled_once_the_cut_has_filled():
    # Monday's 14:45 falls to 790: the day's loss passes 3% and the daily-loss breaker
    # cuts the 35 to 40% (21 to close). The roll is 790 -> 700, so Tuesday loses nothing
    # more. The cut waits through Tuesday's locked 09:00, and the roll waits behind it; at
    # 09:15 the cut fills at 701 / ratio = 791.13, 791.0 less slippage, then the 14 left
    # are rolled on the same bar, each leg at its own price.
    monday = [800.0] * 14 + [790.0]
    frame = basket(IRON, T + U[:4], monday + TUESDAY, open=[*monday, 700.0, 701.0, 702.0, 703.0],
                   signal=1, confidence=0.9, strength=0.8)  # fmt: skip
    frame["high"] = [c + 1 for c in monday] + [700.0, 703.0, 704.0, 704.0]
    frame["low"] = [c - 1 for c in monday] + [700.0, 700.5, 702.0, 702.0]
    frame["volume"], frame["limit_up"], frame["limit_down"] = 1000.0, 900.0, 700.0
    frame["contract"] = ["i2501"] * 15 + ["i2505"] * 4
    cfg = config("execution.fill=next_open", "exits.stop_loss=false",
                 "breakers.drawdown_breaker=false")  # fmt: skip
    split = split_packages(packages(frame), cfg, "<roll>")
    rolls = {IRON: RollSchedule((Roll(U[0].date(), "i2501", "i2505", 790.0, 700.0),))}
    r = run_tier2(split, cfg, rolls=rolls)
    assert_same_run(r, run_tier2(split, cfg, rolls=rolls, every_step=True))
    assert reasons(r, "BREAKER") == ["daily_loss_derisk"]
    assert fills_of(r, "daily_loss_derisk") == [(U[1], "SELL", "i2501", 790.5)]
    assert fills_of(r, "roll") == [(U[1], "SELL", "i2501", 790.5), (U[1], "BUY", "i2505", 701.5)]
    rolled = r.fills[r.fills["reason"] == "roll"]
    assert rolled["contracts"].tolist() == [14, 14]
    assert rolled["bars_waited"].tolist() == [1, 1]  # due at 09:00, behind the cut


def test_a_position_open_at_the_end_while_its_roll_waits_is_reported_at_the_old_price():
    # The data ends on Tuesday's locked 09:00, the roll waiting: the open trade's row
    # showed the new contract's 700 (and its return) beside a P&L marked at 778.0.
    table = rolled_bars()
    table = table[table["time"] <= U[0]]
    r = run_with_roll(table, "exits.stop_loss=false")
    row = trades_of(r, 0).iloc[0]
    assert (row["reason"], row["contract"], row["exit_price"]) == ("open", "i2501", 778.0)
    assert row["gross_pnl"] == pytest.approx(row["contracts"] * 100 * (778.0 - 800.5))


def test_a_roll_a_forced_liquidation_replaced_is_not_counted_as_an_exit_delayed():
    # The data ends at 09:00, where the roll failed its try and forced liquidation
    # replaced it: the close is what waits, not yet tried. Counted or not, the roll
    # depended on where the data ended (not once the close had filled).
    table = rolled_bars()
    table = table[table["time"] <= U[0]]
    r = run_with_roll(table, "exits.stop_loss=false", "market.force_close_level=0.32")
    assert reasons(r, "BREAKER") == ["forced_liquidation"]
    assert r.summary["market"]["exits_delayed"] == 0
