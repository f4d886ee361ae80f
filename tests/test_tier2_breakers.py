"""RULES.md 4.4 and 8.1, 8.5-8.7, 8.9, 8.16, 8.25-8.27: the drawdown breaker, the daily
loss derisk, and what they do to orders, caps, peak and fees."""

from __future__ import annotations

import pytest

from helpers.scenario import (
    CLOSE_NO_FEES,
    COPPER,
    FRI,
    IRON,
    MEAL,
    MON,
    NEXT_MON,
    NEXT_THU,
    NEXT_TUE,
    NEXT_WED,
    THU,
    TUE,
    WED,
    at,
    basket,
    day_bars,
    lines,
    night_bars,
    only_trade,
    packages,
    reasons,
    row_at,
    run,
    trades_of,
)

T = day_bars(MON)
DAYS = (MON, TUE, WED, THU, FRI, NEXT_MON, NEXT_TUE, NEXT_WED, NEXT_THU)


def on(value: float) -> dict:
    return dict(signal=1 if value else 0, confidence=value, strength=value)


def seq(values: list[float]) -> dict:
    """Signal +1 where the value is non-zero, with that confidence and strength."""
    return dict(
        signal=[1 if v else 0 for v in values],
        confidence=[float(v) for v in values],
        strength=[float(v) for v in values],
    )


def leverage_by_day(result, basket: int) -> dict:
    """Nominal leverage of each entry of the basket, by the trading day it was made."""
    t = trades_of(result, basket)
    days = [time.strftime("%Y-%m-%d") for time in t["entry_time"]]
    return dict(zip(days, t["leverage"], strict=True))


# -- drawdown breaker ---------------------------------------------------------------------


def drawdown_week(*overrides, probe_conf=1.0, probe_strength=1.0):
    """Monday: iron ore (37 contracts at 800) falls to 770, PV 889,000, drawdown 11.1%.
    Soybean meal has a fresh signal on Monday's third bar, and then a one-bar episode at
    09:00 each following day (closed at 09:15 by low_confidence at a flat price)."""
    times = [t for d in DAYS for t in day_bars(d)[:3]]
    n = len(times)
    iron = basket(IRON, times, [800.0, 770.0] + [770.0] * (n - 2), **seq([1, 1] + [0] * (n - 2)))
    probe = [0, 0, 1] + [1, 0, 0] * (len(DAYS) - 1)
    meal = basket(
        MEAL,
        times,
        3000.0,
        signal=probe,
        confidence=[probe_conf * p for p in probe],
        strength=[probe_strength * p for p in probe],
    )
    return run(packages(iron, meal), *CLOSE_NO_FEES, *overrides)


@pytest.fixture(scope="module")
def drawdown_run():
    return drawdown_week()


def test_drawdown_breaker_fires_above_10_pct_and_closes_the_position(drawdown_run):
    r = drawdown_run
    assert lines(r, "BREAKER")[0] == (
        "[2024-10-21 09:15] BREAKER drawdown_breaker: PV=889,000.00, peak=1,000,000.00, "
        "drawdown=11.10%; all positions closed, no entries until the next trading day, "
        "leverage caps x0.5 for 5 trading days"
    )
    t = only_trade(r, 0)
    assert (t["reason"], t["exit_time"], t["gross_pnl"]) == ("drawdown_breaker", T[1], -111_000)


def test_drawdown_breaker_wins_over_a_stop_on_the_same_bar(drawdown_run):
    """770 is -3.75%, beyond the 1.5% stop; the bar closes as drawdown_breaker (8.16)."""
    assert reasons(drawdown_run, "CLOSE")[0] == "drawdown_breaker"


def test_drawdown_breaker_closes_every_position():
    iron = basket(IRON, T[:3], [800.0, 775.0, 775.0], **on(1.0))
    cu = basket(COPPER, T[:3], [70_000.0, 69_000.0, 69_000.0], **on(1.0))
    r = run(packages(iron, cu), *CLOSE_NO_FEES)
    # 37 * 100 * 25 + 8 * 5 * 1000 = 132,500: 13.25% drawdown
    assert list(r.trades["reason"]) == ["drawdown_breaker", "drawdown_breaker"]
    assert row_at(r, T[1])["active_positions"] == 0


def test_drawdown_breaker_blocks_entries_until_the_next_trading_day(drawdown_run):
    r = drawdown_run
    assert lines(r, "BLOCK") == [
        "[2024-10-21 09:30] BLOCK basket 2 [drawdown_halt]: DCE/m, LONG, conv=1.00 (conf=1.00, "
        "str=1.00), drawdown breaker fired today: no entries until the next trading day"
    ]
    first = trades_of(r, 2).iloc[0]
    assert first["entry_time"] == at(TUE, "09:00")  # the blocked episode, tried again


def test_drawdown_breaker_halves_leverage_caps_for_5_trading_days(drawdown_run):
    assert leverage_by_day(drawdown_run, 2) == {
        TUE: 5.0,
        WED: 5.0,
        THU: 5.0,
        FRI: 5.0,
        NEXT_MON: 5.0,
        NEXT_TUE: 10.0,
        NEXT_WED: 10.0,
        NEXT_THU: 10.0,
    }


def test_drawdown_breaker_resets_the_peak_to_the_next_day_start_pv(drawdown_run):
    e = drawdown_run.equity
    tuesday = e[e["time"] >= at(TUE, "09:00")]
    assert row_at(drawdown_run, at(MON, "09:30"))["peak"] == 1_000_000
    assert (tuesday["peak"] == 889_000).all()
    assert (tuesday["drawdown"] == 0).all()
    assert len(lines(drawdown_run, "BREAKER")) == 2  # Monday's two, none after the reset


def test_drawdown_and_daily_loss_both_fire_on_one_bar_in_that_order(drawdown_run):
    """Code's choice: a bar beyond both limits logs both breakers (drawdown first)."""
    assert reasons(drawdown_run, "BREAKER") == ["drawdown_breaker", "daily_loss_derisk"]


@pytest.mark.parametrize(
    ("conf", "strength", "normal", "halved"),
    [
        (0.4, 0.4, 5.0, 3.0),  # MEDIUM: 1 + 10*0.4 = 5, tier maximum 6 -> 3
        (0.25, 0.25, 3.5, 2.0),  # WEAK: 3.5, tier maximum 4 -> 2
    ],
)
def test_halved_caps_halve_medium_and_weak_tier_maxima(conf, strength, normal, halved):
    r = drawdown_week(probe_conf=conf, probe_strength=strength)
    levs = list(trades_of(r, 2)["leverage"])
    assert levs[:5] == [pytest.approx(halved)] * 5
    assert levs[5:] == [pytest.approx(normal)] * 3


def test_halved_caps_keep_the_tier_minima():
    """STRONG at 1 + 0.5c = 1.5 is raised to its minimum 4.0, halved or not (8.9)."""
    r = drawdown_week("sizing.strong.leverage_multiplier=0.5")
    assert set(trades_of(r, 2)["leverage"]) == {4.0}


def test_halved_caps_include_max_basket_leverage_15():
    """With a STRONG maximum of 20, leverage is 13.86 (below 15); halved: 15 -> 7.5 binds
    before the halved tier maximum 10."""
    r = drawdown_week("sizing.strong.leverage_max=20")
    levs = list(trades_of(r, 2)["leverage"])
    assert levs[:5] == [7.5] * 5
    assert levs[5:] == [13.86] * 3


def test_halved_caps_include_max_leverage_20():
    r = drawdown_week(
        "sizing.strong.leverage_max=30",
        "sizing.max_basket_leverage=30",
        "sizing.strong.leverage_multiplier=25",
    )
    levs = list(trades_of(r, 2)["leverage"])
    assert levs[:5] == [10.0] * 5  # min(15 halved, 30 halved, 20 halved)
    assert levs[5:] == [20.0] * 3


def test_fixed_mode_leverage_1_5_is_not_halved():
    r = drawdown_week("sizing.leverage_mode=fixed", "breakers.max_drawdown=0.01")
    assert reasons(r, "BREAKER")[0] == "drawdown_breaker"
    assert set(trades_of(r, 2)["leverage"]) == {1.5}


def test_second_drawdown_breaker_restarts_the_window_without_halving_again():
    """Breaker on Monday, another on Wednesday: caps are x0.5 (not x0.25) through the 5
    trading days after Wednesday."""
    times = [t for d in DAYS for t in day_bars(d)[:3]]
    n = len(times)
    closes = [800.0, 770.0, 770.0, 770.0, 770.0, 770.0, 770.0, 690.0] + [690.0] * (n - 8)
    iron_sig = [1, 1, 0, 0, 0, 0, 1, 1] + [0] * (n - 8)
    iron = basket(IRON, times, closes, **seq(iron_sig))
    probe = [0, 0, 0] + [1, 0, 0] * (len(DAYS) - 1)
    probe[6] = 0  # Wednesday: iron ore's turn
    meal = basket(MEAL, times, 3000.0, **seq(probe))
    r = run(packages(iron, meal), *CLOSE_NO_FEES)
    assert [x[:18] for x in lines(r, "BREAKER")][::2] == [
        "[2024-10-21 09:15]",
        "[2024-10-23 09:15]",
    ]
    assert trades_of(r, 0).iloc[1]["leverage"] == 5.0  # Wednesday's entry, caps halved
    assert leverage_by_day(r, 2) == {
        TUE: 5.0,
        THU: 5.0,
        FRI: 5.0,
        NEXT_MON: 5.0,
        NEXT_TUE: 5.0,
        NEXT_WED: 5.0,
        NEXT_THU: 10.0,
    }


# -- daily loss derisk --------------------------------------------------------------------


def test_daily_loss_derisk_cuts_to_40_pct_rounded_down():
    iron = basket(IRON, T[:3], [800.0, 790.0, 790.0], **on(1.0))  # 37,000: 3.7%
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert lines(r, "BREAKER") == [
        "[2024-10-21 09:15] BREAKER daily_loss_derisk: PV=963,000.00, day start=1,000,000.00, "
        "loss=3.70%; positions cut to 40%, no entries for the rest of the trading day"
    ]
    cut = trades_of(r, 0).iloc[0]
    assert (cut["reason"], cut["contracts"], cut["exit_time"]) == ("daily_loss_derisk", 23, T[1])
    assert row_at(r, T[1])["position_0"] == 14  # floor(37 * 0.4)
    assert lines(r, "CLOSE")[0] == (
        "[2024-10-21 09:15] CLOSE basket 0 [daily_loss_derisk]: DCE/i, LONG, contracts=23 of "
        "37, entry=800.00, exit=790.00, P&L=-1.25% (-23,000.00)"
    )


def test_daily_loss_derisk_scales_committed_capital_with_the_cut():
    iron = basket(IRON, T[:3], [800.0, 790.0, 790.0], **on(1.0))
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert trades_of(r, 0)["committed"].tolist() == pytest.approx([299_400 * 14 / 37] * 2)
    assert row_at(r, T[1])["exposure"] == pytest.approx(299_400 * 14 / 37 / 963_000)


def test_daily_loss_remaining_contracts_keep_their_stop_in_the_same_step():
    """RULES.md 8.6: derisk to 14, then the exit tree runs on the 14 on the same bar."""
    iron = basket(IRON, T[:2], [800.0, 788.0], **on(1.0))
    r = run(packages(iron), *CLOSE_NO_FEES)
    t = trades_of(r, 0)
    assert list(t["reason"]) == ["daily_loss_derisk", "stop_loss_1.5pct"]
    assert list(t["contracts"]) == [23, 14]
    assert list(t["exit_time"]) == [T[1], T[1]]
    assert set(t["trade_id"]) == {1}


def test_daily_loss_cut_to_zero_closes_the_position():
    iron = basket(IRON, T[:3], [800.0, 790.0, 790.0], **on(1.0))
    cu = basket(COPPER, T[:3], 76_770.0, signal=-1, confidence=0.58, strength=0.45)  # 2 lots
    r = run(packages(iron, cu), *CLOSE_NO_FEES)
    t = only_trade(r, 1)
    assert (t["reason"], t["contracts"], t["exit_time"]) == ("daily_loss_derisk", 2, T[1])
    assert lines(r, "CLOSE", basket=1)[0].startswith(
        "[2024-10-21 09:15] CLOSE basket 1 [daily_loss_derisk]: SHFE/cu, SHORT, entry="
    )


def test_daily_loss_exactly_3_pct_does_not_fire():
    iron = basket(IRON, T[:3], [998.0, 988.0, 987.5], **on(1.0))  # 30 lots: 30,000 then 31,500
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert [x[:18] for x in lines(r, "BREAKER")] == ["[2024-10-21 09:30]"]


def test_daily_loss_fires_at_most_once_per_trading_day_and_blocks_entries():
    iron = basket(IRON, T[:5], [800.0, 790.0, 789.0, 789.0, 789.0], **on(1.0))
    meal = basket(MEAL, T[:5], 3000.0, **seq([0, 0, 0, 1, 1]))
    r = run(packages(iron, meal), *CLOSE_NO_FEES)
    assert reasons(r, "BREAKER") == ["daily_loss_derisk"]
    assert reasons(r, "BLOCK") == ["daily_loss_halt", "daily_loss_halt"]
    assert lines(r, "BLOCK")[0].endswith(
        "daily loss limit hit today: no entries until the next trading day"
    )
    assert trades_of(r, 2).empty


def test_daily_loss_halt_lifts_on_the_next_trading_day():
    times = [*T[:3], *day_bars(TUE)[:2]]
    iron = basket(IRON, times, [800.0, 790.0, 790.0, 790.0, 790.0], **on(1.0))
    meal = basket(MEAL, times, 3000.0, **seq([0, 0, 1, 1, 1]))
    r = run(packages(iron, meal), *CLOSE_NO_FEES)
    assert reasons(r, "BLOCK") == ["daily_loss_halt"]
    assert only_trade(r, 2)["entry_time"] == at(TUE, "09:00")


def test_day_start_pv_is_the_last_pv_of_the_previous_trading_day_overnight_gap_counts():
    """Monday ends at PV 1,037,000; the 21:00 bar (Tuesday's trading day) gaps back to 800:
    3.57% below Tuesday's day-start PV, though flat on the initial capital."""
    mon = T[11:]
    times = [*mon, *night_bars(MON)[:2]]
    iron = basket(IRON, times, [800.0, 810.0, 810.0, 810.0, 800.0, 800.0], **on(1.0))
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert lines(r, "BREAKER") == [
        "[2024-10-21 21:00] BREAKER daily_loss_derisk: PV=1,000,000.00, day start=1,037,000.00, "
        "loss=3.57%; positions cut to 40%, no entries for the rest of the trading day"
    ]
    night = row_at(r, at(MON, "21:00"))
    assert night["day_start"] == 1_037_000
    assert str(night["trading_day"].date()) == TUE


def test_partial_close_carries_its_share_of_the_entry_fee_and_the_last_close_the_rest():
    """Filled at 800.5 (next open + 1 tick): entry fee 0.01% of 2,961,850 = 296.185 ->
    296.19 (half up). The derisk close of 23 carries 296.19*23/37 = 184.118 -> 184.12; the
    last 14 carry the remaining 112.07 (RULES.md 8.15, 8.27)."""
    iron = basket(
        IRON, T[:4], [800.0, 790.0, 788.0, 788.0], open=[800.0, 800.0, 790.0, 788.0], **on(1.0)
    )
    r = run(packages(iron))
    t = trades_of(r, 0)
    assert list(t["reason"]) == ["daily_loss_derisk", "stop_loss_1.5pct"]
    assert list(r.fills["price"]) == [800.5, 789.5, 787.5]
    assert list(r.fills["fee"]) == [296.19, 181.59, 110.25]  # 181.585 -> 181.59
    assert list(t["fees"]) == [pytest.approx(184.12 + 181.59), pytest.approx(112.07 + 110.25)]
    assert t["fees"].sum() == pytest.approx(r.fills["fee"].sum())
    assert list(t["net_pnl"]) == pytest.approx(
        [23 * 100 * (789.5 - 800.5) - 365.71, 14 * 100 * (787.5 - 800.5) - 222.32]
    )


# -- orders around breakers (8.7, 8.26) ---------------------------------------------------


def overnight(*overrides):
    """Iron ore and copper enter on Monday at 14:00 (37 and 8 lots). At 23:30, while only
    copper trades, copper falls to 67,000: drawdown 12% (fees off)."""
    mon = T[11:]
    night = night_bars(MON, copper=True)
    iron_times = [*mon, *night[:8], *day_bars(TUE)[:2]]
    cu_times = [*mon, *night, *day_bars(TUE)[:2]]
    iron = basket(
        IRON,
        iron_times,
        [800.0] * 12 + [805.0, 806.0],
        open=[800.0] * 12 + [804.0, 806.0],
        **on(1.0),
    )
    cu_close = [70_000.0] * 14 + [67_000.0] * 8
    cu = basket(COPPER, cu_times, cu_close, **on(1.0))
    return run(packages(iron, cu), "execution.fees=false", *overrides)


def test_breaker_close_of_a_basket_without_a_bar_fills_at_its_next_bar_close():
    r = overnight("execution.fill=close")
    decided = at(MON, "23:30")
    iron = only_trade(r, 0)
    assert iron["reason"] == "drawdown_breaker"
    assert (iron["exit_decided_at"], iron["exit_time"]) == (decided, at(TUE, "09:00"))
    assert (iron["exit_price"], iron["exit_price_kind"]) == (805.0, "close")
    assert only_trade(r, 1)["exit_time"] == decided
    assert lines(r, "CLOSE", basket=0) == [
        "[2024-10-21 23:30] CLOSE basket 0 [drawdown_breaker]: DCE/i, LONG, entry=800.00, "
        "exit=800.00, P&L=+0.00%"
    ]
    assert lines(r, "FILL", basket=0) == [
        "[2024-10-22 09:00] FILL basket 0: DCE/i, SELL 37 @ 805.00 (close), fee 0.00, "
        "drawdown_breaker"
    ]


def test_breaker_close_of_a_basket_without_a_bar_fills_at_its_next_open_with_slippage():
    r = overnight()
    iron = only_trade(r, 0)
    assert iron["reason"] == "drawdown_breaker"
    assert iron["exit_decided_at"] == at(MON, "23:30")
    assert (iron["exit_time"], iron["exit_price"]) == (at(TUE, "09:00"), 803.5)
    cu = only_trade(r, 1)
    assert (cu["exit_time"], cu["exit_price"]) == (at(MON, "23:45"), 66_990.0)


def test_breaker_cancels_an_entry_not_yet_filled():
    """Soybean meal decides an entry at 22:45 (fill at Tuesday 09:00); copper's loss at
    23:30 derisks: the entry is cancelled, no fill. The halt covers Tuesday; the same
    episode is taken on Wednesday (code's choice: a cancelled entry does not use it up)."""
    mon = T[11:]
    night = night_bars(MON, copper=True)
    tue = day_bars(TUE)[:2]
    wed = day_bars(WED)[:2]
    cu_times = [*mon, *night, *tue, *wed]
    cu = basket(COPPER, cu_times, [70_000.0] * 14 + [69_200.0] * 10, **on(1.0))  # 3.24% loss
    meal_times = [*mon, *night[:8], *tue, *wed]
    meal = basket(MEAL, meal_times, 3000.0, **seq([0] * 11 + [1] * 5))
    r = run(packages(cu, meal), "execution.fees=false")
    assert reasons(r, "BREAKER") == ["daily_loss_derisk"]
    assert lines(r, "ENTRY", basket=2)[0].startswith("[2024-10-21 22:45] LONG basket 2")
    meal_fills = r.fills[r.fills["basket"] == 2]
    assert list(meal_fills["time"]) == [at(WED, "09:15")]
    assert reasons(r, "BLOCK", basket=2) == ["daily_loss_halt", "daily_loss_halt"]
    assert only_trade(r, 2)["entry_time"] == at(WED, "09:15")
    # The log says so (the LONG line was followed by nothing).
    assert lines(r, "CANCEL", basket=2) == [
        "[2024-10-21 23:30] CANCEL basket 2 [entry_cancelled_daily_loss_derisk]: DCE/m, "
        "LONG 99 cancelled before its fill (daily_loss_derisk)"
    ]


# -- hard blocks: chaos and equity --------------------------------------------------------


def test_chaos_count_2_blocks_entries_each_bar_without_using_up_the_episode():
    """RULES.md 4.4, 8.8: blocked (and logged) on every bar while two baskets are in chaos;
    the same episode enters once the count falls."""
    iron = basket(IRON, T[:4], 800.0, **on(1.0))
    cu = basket(COPPER, T[:4], 70_000.0, regime=[4, 4, 3, 3])
    meal = basket(MEAL, T[:4], 3000.0, regime=[4, 4, 4, 4])
    r = run(packages(iron, cu, meal), *CLOSE_NO_FEES)
    assert lines(r, "BLOCK") == [
        f"[2024-10-21 {hhmm}] BLOCK basket 0 [chaos_block]: DCE/i, LONG, conv=1.00 "
        "(conf=1.00, str=1.00), chaos count 2 >= 2"
        for hhmm in ("09:00", "09:15")
    ]
    t = only_trade(r, 0)
    assert t["entry_time"] == T[2]
    assert t["tier"] == "WEAK"  # chaos count 1 still: WEAK at most


def test_chaos_count_counts_the_entering_basket_itself():
    iron = basket(IRON, T[:2], 800.0, regime=4, **on(1.0))
    meal = basket(MEAL, T[:2], 3000.0, regime=4)
    r = run(packages(iron, meal), *CLOSE_NO_FEES)
    assert reasons(r, "BLOCK") == ["chaos_block", "chaos_block"]
    assert r.trades.empty


def test_chaos_count_uses_the_latest_regime_of_a_basket_without_a_bar():
    """At 23:00-00:45 only copper trades; the DCE baskets' latest regimes (4) still count."""
    night = night_bars(MON, copper=True)
    dce = night[:8]
    iron = basket(IRON, dce, 800.0, regime=4)
    meal = basket(MEAL, dce, 3000.0, regime=4)
    cu = basket(COPPER, night, 70_000.0, **seq([0] * 8 + [1] * 8))
    r = run(packages(iron, cu, meal), *CLOSE_NO_FEES)
    assert set(reasons(r, "BLOCK")) == {"chaos_block"}
    assert len(lines(r, "BLOCK")) == 8
    assert r.trades.empty


def test_basket_with_no_equity_cannot_enter():
    """Breakers off: iron ore's basket loses more than its 300,000 in one bar (37 lots,
    800 -> 700); its next episode is blocked with no_equity (RULES.md 8.19)."""
    iron = basket(IRON, T[:5], [800.0, 700.0, 700.0, 700.0, 700.0], **seq([1, 1, 0, 1, 1]))
    r = run(
        packages(iron),
        *CLOSE_NO_FEES,
        "breakers.daily_loss_breaker=false",
        "breakers.drawdown_breaker=false",
    )
    assert only_trade(r, 0)["gross_pnl"] == -370_000
    assert lines(r, "BLOCK") == [
        f"[2024-10-21 {hhmm}] BLOCK basket 0 [no_equity]: DCE/i, LONG, conv=1.00 (conf=1.00, "
        "str=1.00), basket equity -70,000.00"
        for hhmm in ("09:45", "10:00")
    ]


def test_drawdown_of_exactly_10_pct_does_not_fire():
    """Copper 8 lots (40 CNY a point) from 70,000: 67,500 is a 100,000 loss, exactly 10%
    (its stop closes it); 67,490 is 10.04%: the breaker (daily loss breaker off)."""
    off = "breakers.daily_loss_breaker=false"
    at_limit = basket(COPPER, T[:2], [70_000.0, 67_500.0], **on(1.0))
    r = run(packages(at_limit), *CLOSE_NO_FEES, off)
    assert lines(r, "BREAKER") == []
    assert only_trade(r, 1)["reason"] == "stop_loss_1.5pct"
    beyond = basket(COPPER, T[:2], [70_000.0, 67_490.0], **on(1.0))
    r = run(packages(beyond), *CLOSE_NO_FEES, off)
    assert reasons(r, "BREAKER") == ["drawdown_breaker"]
    assert only_trade(r, 1)["reason"] == "drawdown_breaker"


def test_summary_counts_a_derisked_position_as_one_trade():
    iron = basket(IRON, T[:2], [800.0, 788.0], **on(1.0))
    r = run(packages(iron), *CLOSE_NO_FEES)
    assert len(r.trades) == 2  # the derisk cut and the stop on the rest
    assert r.summary["win_rate"] == 0.0
    assert r.summary["trades"] == 1
    assert r.summary["baskets"][0]["trades"] == 1


def test_a_loss_made_final_by_a_close_fill_trips_the_daily_loss_breaker_at_the_next_step():
    # 37 contracts at 800 (fee 296.00); closed at 792 by low confidence: -29,600 and a fee
    # of 293.04 take PV from 1,000,000 to 969,810.96, a loss of 3.02% only once the exit's
    # fee is paid, so the breaker fires at the next step, flat (the event engine once
    # skipped that step's check; `run` holds it to the every-step loop).
    t = day_bars(MON)
    confidence = [1.0, 1.0, 0.1, 0.1, 0.1]
    frame = basket(
        IRON,
        t[:5],
        [800.0, 796.0, 792.0, 792.0, 792.0],
        signal=1,
        confidence=confidence,
        strength=1.0,
    )
    r = run(packages(frame), "execution.fill=close")
    breaker = lines(r, "BREAKER")
    assert len(breaker) == 1 and breaker[0].startswith("[2024-10-21 09:45] BREAKER daily_loss")
    assert "loss=3.02%; no open positions to cut" in breaker[0]
