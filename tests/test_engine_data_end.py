"""RULES.md 5 (data end), 8.23, 8.33 (open trades) and 8.32 (the start of a run)."""

from __future__ import annotations

import pytest

from helpers.scenario import (
    CLOSE_NO_FEES,
    COPPER,
    IRON,
    MEAL,
    MON,
    TUE,
    assert_same_run,
    at,
    basket,
    config,
    day_bars,
    lines,
    night_bars,
    only_trade,
    packages,
    run,
    trades_of,
)
from twotier.engine.backtest import run_tier2, split_packages

T = day_bars(MON)
STRONG = dict(signal=1, confidence=1.0, strength=1.0)


# -- data end -----------------------------------------------------------------------------


def test_entry_decided_on_the_last_bar_is_dropped_under_next_open():
    iron = basket(
        IRON, T[:3], 800.0, signal=[0, 0, 1], confidence=[0, 0, 1.0], strength=[0, 0, 1.0]
    )
    r = run(packages(iron))
    assert len(lines(r, "ENTRY")) == 1
    assert r.fills.empty and r.trades.empty
    assert r.equity["position_0"].iloc[-1] == 0
    assert r.summary["open_positions"] == 0


def test_open_position_at_data_end_is_listed_with_reason_open():
    iron = basket(IRON, T[:3], [800.0, 805.0, 810.0], **STRONG)
    r = run(packages(iron), "execution.fill=close")
    t = only_trade(r, 0)
    assert t["reason"] == "open"
    assert (t["exit_time"], t["exit_price"]) == (T[2], 810.0)
    assert t["gross_pnl"] == 37 * 100 * 10
    assert t["fees"] == 296.0  # the entry fee; no exit fee
    assert t["net_pnl"] == pytest.approx(37_000 - 296.0)
    assert r.equity["position_0"].iloc[-1] == 37


def test_open_trade_carries_nominal_and_effective_leverage_at_entry():
    iron = basket(IRON, T[:3], [800.0, 805.0, 810.0], **STRONG)
    t = only_trade(run(packages(iron), *CLOSE_NO_FEES), 0)
    assert t["leverage"] == 10.0
    assert t["effective_leverage"] == pytest.approx(37 * 80_000 / 299_400)


def test_open_trades_not_counted_in_summary_trades_or_win_rate():
    iron = basket(
        IRON,
        T[:4],
        [800.0, 856.0, 856.0, 856.0],
        signal=[1, 1, 0, 0],
        confidence=[1.0, 1.0, 0, 0],
        strength=[1.0, 1.0, 0, 0],
    )
    cu = basket(COPPER, T[:4], [70_000.0, 69_900.0, 69_800.0, 69_800.0], **STRONG)
    r = run(packages(iron, cu), *CLOSE_NO_FEES)
    assert list(r.trades["reason"]) == ["profit_target_7pct", "open"]
    assert r.summary["trades"] == 1
    assert r.summary["win_rate"] == 1.0  # the open copper loser is not counted
    assert r.summary["open_positions"] == 1
    assert r.summary["baskets"][1]["trades"] == 0
    assert r.summary["baskets"][1]["win_rate"] is None
    assert len(r.closed_trades) == 1


def test_close_at_end_closes_open_positions_as_end_of_data():
    iron = basket(IRON, T[:3], [800.0, 805.0, 810.0], **STRONG)
    r = run(packages(iron), "execution.fill=close", "execution.close_at_end=true")
    t = only_trade(r, 0)
    assert (t["reason"], t["exit_time"], t["exit_price"]) == ("end_of_data", T[2], 810.0)
    assert t["fees"] == pytest.approx(296.0 + 299.7)  # close-today 0.01% of 2,997,000
    assert r.summary["trades"] == 1
    assert r.summary["open_positions"] == 0
    assert r.equity["position_0"].iloc[-1] == 0
    assert r.equity["pv"].iloc[-1] == pytest.approx(1_000_000 + 37_000 - 296.0 - 299.7)
    assert lines(r, "CLOSE") == [
        "[2024-10-21 09:30] CLOSE basket 0 [end_of_data]: DCE/i, LONG, entry=800.00, "
        "exit=810.00, P&L=+1.25% (+37,000.00)"
    ]


def test_close_at_end_uses_each_basket_last_bar():
    """Iron ore's last bar is 22:45; copper trades on to 00:45: iron ore closes at its own
    last bar and close."""
    night = night_bars(MON, copper=True)
    iron = basket(IRON, night[:8], [800.0] * 7 + [801.0], **STRONG)
    cu = basket(COPPER, night, 70_000.0)
    r = run(packages(iron, cu), *CLOSE_NO_FEES, "execution.close_at_end=true")
    t = only_trade(r, 0)
    assert (t["reason"], t["exit_time"], t["exit_price"]) == ("end_of_data", night[7], 801.0)
    assert r.equity["time"].iloc[-1] == night[-1]
    assert r.equity["equity_0"].iloc[-1] == 300_000 + 3_700


def test_close_at_end_under_next_open_closes_at_the_last_close():
    iron = basket(IRON, T[:3], [800.0, 805.0, 810.0], **STRONG)
    r = run(packages(iron), "execution.fees=false", "execution.close_at_end=true")
    t = only_trade(r, 0)
    assert (t["entry_price"], t["exit_price"], t["exit_price_kind"]) == (805.5, 810.0, "close")
    assert t["reason"] == "end_of_data"


def test_close_at_end_that_cannot_fill_says_so_and_leaves_the_rest_open():
    # The last bar has no volume: the close at the data's end cannot fill. The log said
    # CLOSE and nothing more, as if the position were closed; it stays open, and says so.
    iron = basket(IRON, T[:3], [800.0, 805.0, 810.0], **STRONG)
    iron["high"], iron["low"] = iron["close"] + 1, iron["close"] - 1
    iron["volume"] = [1000.0, 1000.0, 0.0]
    r = run(packages(iron), "execution.fill=close", "execution.close_at_end=true")
    assert only_trade(r, 0)["reason"] == "open"
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:30] CANCEL basket 0 [end_of_data_unfilled]: DCE/i, SELL 37 of 37 "
        "(end_of_data) not filled: not enough volume; open at the data's end"
    ]


# -- the start of a run (8.32) ------------------------------------------------------------


def start_scenario():
    """Monday afternoon and Tuesday morning. Iron ore's episode runs from Monday 14:00 into
    Tuesday; copper's starts on Tuesday 09:15; soybean meal's Monday episode ends at 14:45
    and a fresh one starts on Tuesday 09:15."""
    times = [*T[11:], *day_bars(TUE)[:4]]
    iron = basket(IRON, times, 800.0, **STRONG)
    cu = basket(
        COPPER,
        times,
        70_000.0,
        signal=[0] * 5 + [1] * 3,
        confidence=[0] * 5 + [1.0] * 3,
        strength=[0] * 5 + [1.0] * 3,
    )
    meal = basket(
        MEAL,
        times,
        3000.0,
        signal=[1] * 4 + [0] + [1] * 3,
        confidence=[1.0] * 4 + [0] + [1.0] * 3,
        strength=[1.0] * 4 + [0] + [1.0] * 3,
    )
    return packages(iron, cu, meal)


def test_start_skips_an_episode_already_running_at_the_first_traded_bar():
    r = run(start_scenario(), *CLOSE_NO_FEES, start=TUE)
    assert trades_of(r, 0).empty
    assert r.equity["time"].iloc[0] == at(TUE, "09:00")


def test_start_trades_a_fresh_episode():
    r = run(start_scenario(), *CLOSE_NO_FEES, start=TUE)
    assert only_trade(r, 1)["entry_time"] == at(TUE, "09:15")
    assert only_trade(r, 2)["entry_time"] == at(TUE, "09:15")


def test_without_start_the_running_episode_was_traded_from_its_beginning():
    r = run(start_scenario(), *CLOSE_NO_FEES)
    assert only_trade(r, 0)["entry_time"] == at(MON, "14:00")


def test_start_begins_flat_at_the_initial_capital():
    r = run(start_scenario(), *CLOSE_NO_FEES, start=TUE)
    first = r.equity.iloc[0]
    assert (first["pv"], first["day_start"], first["peak"]) == (1_000_000, 1_000_000, 1_000_000)


def test_baskets_take_their_capital_to_the_cent_below_and_the_reserve_the_rest():
    # Rounded half up, 1,000.05 split 0.5 + 0.5 gave each basket 500.03: the baskets held
    # more than the capital, and the reserve was -0.01.
    from decimal import Decimal

    from twotier.config.model import BasketConfig, PortfolioParams

    halves = PortfolioParams(
        initial_capital=Decimal("1000.05"),
        baskets=[BasketConfig(instrument=k, capital_fraction=0.5) for k in ("DCE/i", "DCE/m")],
    )
    assert [halves.basket_capital(i) for i in (0, 1)] == [Decimal("500.02")] * 2
    r = run(start_scenario(), *CLOSE_NO_FEES, "portfolio.initial_capital=1000000.05", start=TUE)
    first = r.equity.iloc[0]
    assert [first[f"equity_{i}"] for i in range(3)] == [300_000.01] * 3
    assert first["pv"] == 1_000_000.05  # the reserve keeps 100,000.02


def test_start_includes_the_night_session_of_the_first_trading_day():
    """The Monday 21:00 bar belongs to Tuesday: with start=Tuesday it is the first step, and
    an episode starting there is fresh."""
    times = [*T[13:], *night_bars(MON)[:2], *day_bars(TUE)[:2]]
    iron = basket(
        IRON,
        times,
        800.0,
        signal=[0, 0, 1, 1, 1, 1],
        confidence=[0, 0, 1, 1, 1, 1],
        strength=[0, 0, 1, 1, 1, 1],
    )
    r = run(packages(iron), *CLOSE_NO_FEES, start=TUE)
    assert r.equity["time"].iloc[0] == at(MON, "21:00")
    assert only_trade(r, 0)["entry_time"] == at(MON, "21:00")


def test_end_stops_trading_after_that_trading_day():
    times = [*T[13:], *day_bars(TUE)[:2]]
    iron = basket(IRON, times, 800.0, **STRONG)
    r = run(packages(iron), *CLOSE_NO_FEES, end=MON)
    assert r.equity["time"].iloc[-1] == T[14]
    assert only_trade(r, 0)["reason"] == "open"


def test_start_regimes_before_the_start_count_in_both_engines():
    """RULES.md 8.32: bars before the start warm up regimes. Soybean meal's last bar before
    the start is in chaos and it has no bar until Tuesday 09:30; iron ore's fresh episode at
    09:15 sees chaos count 1 (WEAK at most) under both engines. (Regression: every_step
    used to leave the basket's latest package unset until its first bar after the start.)"""
    u = day_bars(TUE)
    times = [T[13], T[14], u[0], u[1], u[2]]
    iron = basket(
        IRON,
        times,
        800.0,
        signal=[0, 0, 0, 1, 1],
        confidence=[0, 0, 0, 1, 1],
        strength=[0, 0, 0, 1, 1],
    )
    meal = basket(MEAL, [T[13], T[14], u[2]], 3000.0, regime=[4, 4, 3])
    table = packages(iron, meal)
    cfg = config(*CLOSE_NO_FEES)
    split = split_packages(table, cfg, "<scenario>")
    events = run_tier2(split, cfg, start=TUE)
    steps = run_tier2(split, cfg, start=TUE, every_step=True)
    assert only_trade(events, 0)["tier"] == "WEAK"
    assert only_trade(steps, 0)["tier"] == "WEAK"
    assert_same_run(events, steps)
