"""RULES.md 11 and 10.6 item 16 in Tier-2: no position is held into its contract's delivery
month. i2411 (delivery November 2024): the last trading day before November is
2024-10-31, less one trading day, 2024-10-30 (NEXT_WED). Each scenario also runs every
step: the event engine must find the deadline too."""

from __future__ import annotations

from helpers.scenario import (
    IRON,
    NEXT_TUE,
    NEXT_WED,
    TWO_WEEKS,
    basket,
    day_bars,
    lines,
    packages,
    reasons,
    run,
    trades_of,
)
from twotier.market.calendar import default_calendar
from twotier.market.delivery import deadline_of

OVERRIDES = ("execution.fill=next_open", "breakers.daily_loss_breaker=false",
             "breakers.drawdown_breaker=false")  # fmt: skip


def iron(days, signal, contracts, confidence=1.0):
    times = [t for d in days for t in day_bars(d)]
    frame = basket(IRON, times, 800.0, signal=signal, confidence=confidence, strength=1.0)
    frame["contract"] = contracts if isinstance(contracts, list) else [contracts] * len(times)
    table = packages(frame)
    table["contract"] = table["contract"].where(table["contract"].notna(), None)
    return table


def test_the_deadline_of_i2411_is_the_day_before_the_last_trading_day_of_october():
    assert str(deadline_of("i2411", default_calendar(), 1)) == NEXT_WED


def test_a_position_is_closed_at_the_first_bar_of_its_contracts_deadline_day():
    # Long on i2411 from MON; on NEXT_WED the signal pauses at 10:30 and a new episode
    # starts at 10:45.
    signal = [1] * (15 * 7 + 5) + [0] + [1] * (9 + 15)
    r = run(iron(TWO_WEEKS, signal, "i2411"), *OVERRIDES)
    trade = trades_of(r, 0).iloc[0]
    assert trade["reason"] == "delivery_deadline"
    assert str(trade["exit_decided_at"]) == f"{NEXT_WED} 09:00:00+08:00"
    assert str(trade["exit_time"]) == f"{NEXT_WED} 09:15:00+08:00"  # next open
    # No entry on i2411 from its deadline on, logged at each bar of the new episode: a
    # blocked entry does not use its episode, so it is tried again at the next bar.
    blocks = [x for x in lines(r, "BLOCK") if "[delivery_deadline_block]" in x]
    assert len(blocks) == 9 + 15  # NEXT_WED from 10:45, then NEXT_THU
    assert blocks[0].startswith(f"[{NEXT_WED} 10:45]")
    assert "i2411: delivery deadline 2024-10-30" in blocks[0]
    assert len(trades_of(r, 0)) == 1


def test_an_entry_whose_fill_bar_falls_on_the_deadline_is_cancelled():
    # A new episode starts at NEXT_TUE's last bar: decided there, it would fill at
    # NEXT_WED 09:00, the deadline: cancelled, its episode used.
    days = (NEXT_TUE, NEXT_WED)
    signal = [0] * 14 + [1] + [1] * 15
    r = run(iron(days, signal, "i2411"), *OVERRIDES)
    assert r.fills.empty
    assert reasons(r, "CANCEL") == ["delivery_deadline_block"]
    assert lines(r, "CANCEL")[0].startswith(f"[{NEXT_WED} 09:00]")
    assert not [x for x in lines(r, "BLOCK") if "delivery_deadline" in x]  # episode used


def test_a_roll_before_the_deadline_moves_the_position_and_it_is_not_closed():
    # i2411 until NEXT_TUE, i2501 from NEXT_WED: the roll on the deadline's first bar
    # moves the position (RULES.md 10.6 item 16); it is held on.
    contracts = ["i2411"] * (15 * 7) + ["i2501"] * (15 * 2)
    r = run(iron(TWO_WEEKS, 1, contracts), *OVERRIDES)
    assert "delivery_deadline" not in set(r.fills["reason"])
    assert set(r.fills["reason"]) == {"entry", "roll"}
    assert trades_of(r, 0).iloc[0]["reason"] == "open"


def test_the_deadline_can_be_switched_off():
    r = run(iron(TWO_WEEKS, 1, "i2411"), *OVERRIDES, "contracts.delivery_deadline=false")
    assert trades_of(r, 0).iloc[0]["reason"] == "open"
