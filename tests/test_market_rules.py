"""RULES.md 10.2-10.4 in Tier-2 and the simulated broker, on hand-made packages: orders at
locked bars, bars without volume, the participation cap, a roll on a locked day, margin
and forced liquidation. Every scenario also runs every step (the event engine must agree)
and recomputes the ledger (helpers.scenario.run)."""

from __future__ import annotations

import pytest

from helpers.scenario import (
    COPPER,
    IRON,
    MON,
    NO_BREAKERS,
    TUE,
    basket,
    day_bars,
    lines,
    packages,
    reasons,
    run,
    trades_of,
)

T = day_bars(MON)
NEXT_OPEN = ("execution.fill=next_open", *NO_BREAKERS)
AT_CLOSE = ("execution.fill=close", *NO_BREAKERS)


def with_market(frame, high=None, low=None, volume=1000.0, up=840.0, down=760.0):
    """Packages with each bar's high and low (the close +- 1 unless given), volume and
    the day's limits from the data."""
    frame["high"] = frame["close"] + 1 if high is None else high
    frame["low"] = frame["close"] - 1 if low is None else low
    frame["volume"] = volume
    frame["limit_up"] = up
    frame["limit_down"] = down
    return frame


# -- price limits (10.2) ----------------------------------------------------------------


def test_an_exit_at_a_bar_locked_against_it_waits_and_fills_at_the_first_free_bar():
    # Long 37 from T1 (800.5). Confidence falls at T2: the close is decided there; T3 and
    # T4 are locked down at 760 (no buyer), so the sell waits, logged at each try; T5
    # opens at 760 and the sell fills there: 760 - 0.5 slippage would cross the limit
    # down of the data, so it stops at 760.
    closes = [800.0, 800.0, 800.0, 760.0, 760.0, 765.0, 766.0, 767.0]
    opens = [800.0, 800.0, 800.0, 760.0, 760.0, 760.0, 766.0, 767.0]
    confidence = [1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:8], closes, open=opens, signal=1, confidence=confidence, strength=1.0)
    high = [801.0, 801.0, 801.0, 760.0, 760.0, 766.0, 767.0, 768.0]
    low = [799.0, 799.0, 799.0, 760.0, 760.0, 759.0, 765.0, 766.0]
    r = run(packages(with_market(frame, high, low)), *NEXT_OPEN)
    assert [line[:18] for line in lines(r, "WAIT")] == ["[2024-10-21 09:45]", "[2024-10-21 10:00]"]
    assert reasons(r, "WAIT") == ["exit_delayed_limit", "exit_delayed_limit"]
    trade = trades_of(r, 0).iloc[0]
    assert (trade["reason"], trade["exit_time"], trade["exit_price"]) == (
        "low_confidence",
        T[5],
        760.0,
    )
    fills = r.fills.set_index("reason")
    assert (
        fills.loc["low_confidence", "slippage"],
        fills.loc["low_confidence", "bars_waited"],
    ) == (
        0.0,
        2,
    )
    assert fills.loc["entry", "bars_waited"] == 0


def test_an_entry_whose_fill_bar_is_locked_against_it_is_cancelled_its_episode_used():
    # A long decided at T0 would fill at T1's open, but T1 is locked up at 840: cancelled.
    # The signal lingers through T4: no second try in the same episode.
    closes = [800.0, 840.0, 840.0, 830.0, 830.0]
    frame = basket(IRON, T[:5], closes, signal=1, confidence=1.0, strength=1.0)
    high = [801.0, 840.0, 841.0, 831.0, 831.0]
    low = [799.0, 840.0, 839.0, 829.0, 829.0]
    r = run(packages(with_market(frame, high, low, up=840.0)), *NEXT_OPEN)
    assert r.fills.empty
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:15] CANCEL basket 0 [entry_unfilled_limit]: DCE/i, LONG 37 of 37 "
        "cancelled (not filled: locked at its price limit)"
    ]
    assert len(lines(r, "ENTRY")) == 1


def test_under_close_fills_an_entry_decided_on_a_bar_locked_against_it_is_cancelled_at_once():
    # A short decided on a bar locked down (no buyer at the limit): cancelled there.
    frame = basket(IRON, T[:3], [760.0, 761.0, 762.0], signal=-1, confidence=1.0, strength=1.0)
    r = run(packages(with_market(frame, [760.0, 762.0, 763.0], [760.0, 760.0, 761.0])), *AT_CLOSE)
    assert r.fills.empty
    assert reasons(r, "CANCEL") == ["entry_unfilled_limit"]
    assert lines(r, "CANCEL")[0].startswith("[2024-10-21 09:00]")


def test_a_lock_blocks_only_the_side_without_a_counterparty():
    # Locked down at T1: a buy (closing a short) fills there; a sell would not.
    closes = [800.0, 760.0, 760.0, 760.0]
    confidence = [1.0, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:4], closes, signal=-1, confidence=confidence, strength=1.0)
    high, low = [801.0, 760.0, 761.0, 761.0], [799.0, 760.0, 759.0, 759.0]
    r = run(packages(with_market(frame, high, low)), *AT_CLOSE)
    trade = trades_of(r, 0).iloc[0]
    assert (trade["exit_time"], trade["exit_price"]) == (T[1], 760.0)  # at once, at the lock
    assert lines(r, "WAIT") == []


# -- volume (10.3) ---------------------------------------------------------------------


def test_no_volume_cancels_an_entry_and_makes_an_exit_wait():
    closes = [800.0] * 7
    confidence = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:7], closes, signal=1, confidence=confidence, strength=1.0)
    # No trade at T1 (the first entry's fill bar) nor at T4 (the exit's first try).
    volume = [1000.0, 0.0, 1000.0, 1000.0, 0.0, 1000.0, 1000.0]
    r = run(packages(with_market(frame, volume=volume)), *NEXT_OPEN, "exits.low_confidence=false")
    assert reasons(r, "CANCEL") == ["entry_unfilled_volume"]
    assert r.fills.empty  # the episode was used: nothing else to trade
    frame = basket(IRON, T[:7], closes, signal=1, confidence=confidence, strength=1.0)
    volume = [1000.0, 1000.0, 1000.0, 1000.0, 0.0, 1000.0, 1000.0]
    r = run(packages(with_market(frame, volume=volume)), *NEXT_OPEN)
    assert reasons(r, "WAIT") == ["exit_delayed_volume"]
    assert trades_of(r, 0).iloc[0]["exit_time"] == T[5]


def test_an_exit_still_waiting_at_the_data_end_counts_as_delayed():
    # The close decided at T3 finds no volume on T4 and T5, the last bars: it never
    # fills. The summary counted only delayed closes that filled in the end (0 here).
    confidence = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:6], 800.0, signal=1, confidence=confidence, strength=1.0)
    volume = [1000.0, 1000.0, 1000.0, 1000.0, 0.0, 0.0]
    r = run(packages(with_market(frame, volume=volume)), *NEXT_OPEN)
    assert reasons(r, "WAIT") == ["exit_delayed_volume", "exit_delayed_volume"]
    assert trades_of(r, 0).iloc[0]["reason"] == "open"
    assert (r.summary["market"]["exits_delayed"], r.summary["market"]["bars_waited"]) == (1, 2)


def test_the_participation_cap_cuts_an_entry_and_splits_an_exit():
    # Cap 1% of a bar's volume. T1: 2,000 lots -> 20 of the 37 decided fill (the entry
    # is cut; committed 299,400 x 20/37 = 161,837.84). The close decided at T3 tries T4:
    # 1,000 lots -> 10 fill; the other 10 wait for T5 (1,500 lots -> 15 may fill).
    closes = [800.0] * 7
    confidence = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:7], closes, signal=1, confidence=confidence, strength=1.0)
    volume = [1000.0, 2000.0, 1000.0, 1000.0, 1000.0, 1500.0, 1000.0]
    r = run(
        packages(with_market(frame, volume=volume)), *NEXT_OPEN, "market.max_participation=0.01"
    )
    assert "contracts=37" in lines(r, "ENTRY")[0]
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:15] CANCEL basket 0 [entry_cut_volume]: DCE/i, LONG 17 of 37 "
        "cancelled (filled 20 of 37: not enough volume)"
    ]
    trades = trades_of(r, 0)
    assert list(trades["contracts"]) == [10, 10]
    assert list(trades["exit_time"]) == [T[4], T[5]]
    assert trades["committed"].iloc[0] == pytest.approx(299_400.0 * 20 / 37)
    assert reasons(r, "WAIT") == ["exit_delayed_volume"]
    assert list(r.fills["bars_waited"]) == [0, 0, 1]


def test_the_cap_is_shared_by_every_fill_on_the_instruments_bar():
    # Under close fills, a daily-loss cut and the exit tree's close of what it keeps share
    # the bar's capped volume (RULES.md 10.6 item 10): cap 10% of 200 = 20 lots. At T2
    # (770) the loss is 11% of PV: 37 -> keep floor(37 x 0.4) = 14, cut 23; 20 fill, 3
    # wait. The exit tree still runs on the 14 kept (RULES.md 8.6): stop loss (-3.75%),
    # but the cap is used up, so they wait too. At T3 both fill (3 + 14 <= 100).
    closes = [800.0, 800.0, 770.0, 770.0, 770.0]
    confidence = [1.0, 1.0, 0.1, 0.1, 0.1]
    frame = basket(IRON, T[:5], closes, signal=1, confidence=confidence, strength=1.0)
    volume = [1000.0, 1000.0, 200.0, 1000.0, 1000.0]
    r = run(packages(with_market(frame, volume=volume)), "execution.fill=close",
            "breakers.drawdown_breaker=false", "market.max_participation=0.1")  # fmt: skip
    assert reasons(r, "BREAKER") == ["daily_loss_derisk"]
    assert reasons(r, "WAIT") == ["exit_delayed_volume", "exit_delayed_volume"]
    fills = r.fills[~r.fills["opens"]]
    assert list(
        zip(fills["time"], fills["contracts"], fills["reason"], fills["bars_waited"], strict=True)
    ) == [
        (T[2], 20, "daily_loss_derisk", 0),
        (T[3], 3, "daily_loss_derisk", 1),
        (T[3], 14, "stop_loss_1.5pct", 1),
    ]


# -- a roll on a locked day (10.6 item 14) -------------------------------------------------


def test_a_roll_on_a_locked_day_waits_whole_and_fills_both_legs_on_a_later_bar():
    # i2501 on Monday (held long from T1), i2505 from Tuesday; the schedule's ratio is
    # 729/810. Tuesday 09:00 is locked down at 700 (the limit of the data): the roll's
    # sell leg cannot fill, so neither does the buy: the roll waits, the old contract
    # priced at 700 / ratio = 777.78 -> 778.0 (to the tick). At 09:15 (open 701, free)
    # both legs fill: the old at 701 / ratio = 778.88... -> 779.0 less 0.5 slippage,
    # the new at 701 + 0.5.
    monday = [800.0] * 14 + [810.0]
    tuesday = [700.0, 702.0, 703.0, 703.0]
    times = T + day_bars(TUE)[:4]
    frame = basket(IRON, times, monday + tuesday, open=[*monday, 700.0, 701.0, 702.0, 703.0],
                   signal=1, confidence=0.9, strength=0.8)  # fmt: skip
    frame["contract"] = ["i2501"] * 15 + ["i2505"] * 4
    high = [c + 1 for c in monday] + [700.0, 703.0, 704.0, 704.0]
    low = [c - 1 for c in monday] + [700.0, 700.5, 702.0, 702.0]
    down = [700.0] * 19
    table = packages(with_market(frame, high, low, up=900.0, down=down))
    table["contract"] = table["contract"].where(table["contract"].notna(), None)
    from helpers.scenario import assert_same_run, config
    from twotier.engine.backtest import run_tier2, split_packages
    from twotier.market.rolls import Roll, RollSchedule

    cfg = config(*NEXT_OPEN, "exits.stop_loss=false")
    rolls = {IRON: RollSchedule((Roll(day_bars(TUE)[0].date(), "i2501", "i2505", 810.0, 729.0),))}
    split = split_packages(table, cfg, "<roll>")
    r = run_tier2(split, cfg, rolls=rolls)
    assert_same_run(r, run_tier2(split, cfg, rolls=rolls, every_step=True))
    assert reasons(r, "WAIT") == ["exit_delayed_limit"]
    rolled = r.fills[r.fills["reason"] == "roll"]
    assert list(zip(rolled["time"], rolled["side"], rolled["contract"], rolled["price"],
                    rolled["bars_waited"], strict=True)) == [
        (day_bars(TUE)[1], "SELL", "i2501", 778.5, 1),
        (day_bars(TUE)[1], "BUY", "i2505", 701.5, 1),
    ]  # fmt: skip
    # While it waited, the position was marked on the old contract at 778.0.
    tuesday_open = r.equity.set_index("time").loc[day_bars(TUE)[0], "equity_0"]
    monday_close = r.equity.set_index("time").loc[T[14], "equity_0"]
    contracts = int(rolled["contracts"].iloc[0])
    assert tuesday_open - monday_close == pytest.approx(contracts * 100 * (778.0 - 810.0))
    # (The ledger identity is checked by the engine at every record; helpers' check_ledger
    # marks at the package's close, not at the waiting old contract's price.)


# -- margin and forced liquidation (10.4) ------------------------------------------------------


def test_margin_is_the_fill_price_on_the_opening_day_and_the_settlement_after():
    # Long 37 filled at 800.5 on Monday: margin 37 x 100 x 800.5 x 11% = 325,803.50.
    # Tuesday: Monday's settlement (volume-weighted typical price: the bars are 800
    # +- 1 with equal volume, so 800.0) -> 37 x 100 x 800 x 11% = 325,600.00.
    times = T + day_bars(TUE)[:2]
    frame = basket(IRON, times, [800.0] * 17, signal=1, confidence=1.0, strength=1.0)
    r = run(packages(with_market(frame)), *NEXT_OPEN)
    margin = r.equity.set_index("time")["margin"]
    assert margin[T[1]] == pytest.approx(325_803.50)
    assert margin[day_bars(TUE)[0]] == pytest.approx(325_600.00)
    pv = r.equity.set_index("time")["pv"]
    assert r.equity.set_index("time")["risk_degree"][T[1]] == pytest.approx(325_803.50 / pv[T[1]])


def test_forced_liquidation_closes_the_largest_margin_first_until_the_level_holds():
    # broker.margin_add 0.2 on top of iron ore's 11%: 37 contracts at 800 hold
    # 37 x 100 x 800 x 31% = 917,600 of margin. Copper's entry does not pass the margin
    # soft limit. As iron ore falls the risk degree grows: at T4 (770), PV = 1,000,000 -
    # 37 x 100 x 30 = 889,000 and 917,600 / 889,000 = 103.2% > 100%: iron ore is closed
    # (forced_liquidation), entries are halted for the day.
    closes = [800.0, 800.0, 790.0, 780.0, 770.0, 770.0]
    iron = with_market(basket(IRON, T[:6], closes, signal=1, confidence=1.0, strength=1.0))
    copper = basket(COPPER, T[:6], 70_000.0, signal=1, confidence=1.0, strength=1.0)
    copper = with_market(copper, volume=1000.0, up=80_000.0, down=60_000.0)
    r = run(packages(iron, copper), *AT_CLOSE, "execution.fees=false", "exits.stop_loss=false",
            "broker.margin_add=0.2")  # fmt: skip
    breaker = lines(r, "BREAKER")
    assert breaker == [
        "[2024-10-21 10:00] BREAKER forced_liquidation: PV=889,000.00, margin=917,600.00, "
        "risk degree 103.22% > 100%; closing basket 0 (margin 917,600.00); no entries for "
        "the rest of the trading day"
    ]
    assert trades_of(r, 0).iloc[0]["reason"] == "forced_liquidation"
    assert "forced_liquidation_halt" in reasons(r, "BLOCK", 1)


def test_a_margin_increase_over_a_holiday_shows_at_the_first_step_after_it(tmp_path):
    """Iron ore (37 at 800) and copper (2 at 70,000, MEDIUM) held over the National Day
    holiday (2024-09-30 to 2024-10-08); a schedule raises both margin rates to 30% from
    2024-10-08. On 09-30: 37 x 100 x 800 x 11% = 325,600 and 2 x 5 x 70,000 x 9% =
    63,000, together 388,600 of PV 1,000,000 (38.86%). At the first step after the
    holiday, on 09-30's settlements (800 and 70,000): 888,000 + 210,000 = 1,098,000 >
    PV: forced liquidation closes iron ore, the largest margin, and stops there (copper's
    210,000 alone is 21% of PV)."""
    from helpers.scenario import assert_same_run, config, day_bars
    from twotier.engine.backtest import run_tier2, split_packages
    from twotier.market.instruments import InstrumentRegistry

    user = tmp_path / "instruments.toml"
    user.write_text(
        '[instruments."DCE/i"]\nschedule = [{ from = 2024-10-08, margin_rate = 0.30 }]\n'
        '[instruments."SHFE/cu"]\nschedule = [{ from = 2024-10-08, margin_rate = 0.30 }]\n'
    )
    registry = InstrumentRegistry.load(user)
    times = day_bars("2024-09-30") + day_bars("2024-10-08")[:3]
    iron = with_market(basket(IRON, times, 800.0, signal=1, confidence=1.0, strength=1.0))
    copper = basket(COPPER, times, 70_000.0, signal=1, confidence=0.45, strength=0.45)
    copper = with_market(copper, up=80_000.0, down=60_000.0)
    cfg = config(*AT_CLOSE, "execution.fees=false")
    split = split_packages(packages(iron, copper), cfg, "<holiday>")
    r = run_tier2(split, cfg, instruments=registry)
    assert_same_run(r, run_tier2(split, cfg, instruments=registry, every_step=True))
    equity = r.equity.set_index("time")
    last_before, first_after = times[14], times[15]
    assert list(r.fills.loc[r.fills["opens"], "contracts"]) == [37, 2]
    assert equity.loc[last_before, "margin"] == pytest.approx(388_600.0)
    assert equity.loc[last_before, "risk_degree"] == pytest.approx(0.3886)
    assert lines(r, "BREAKER") == [
        "[2024-10-08 09:00] BREAKER forced_liquidation: PV=1,000,000.00, margin=1,098,000.00,"
        " risk degree 109.80% > 100%; closing basket 0 (margin 888,000.00); no entries for "
        "the rest of the trading day"
    ]
    assert equity.loc[first_after, "margin"] == pytest.approx(210_000.0)  # copper, at 30%
    assert list(r.trades["reason"]) == ["forced_liquidation", "open"]
