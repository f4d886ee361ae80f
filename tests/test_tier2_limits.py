"""RULES.md 4.3, 4.5 and 8.5, 8.10, 8.11, 8.17, 8.20: soft limits, the fallback chain and
the cash-reserve target."""

from __future__ import annotations

import pytest

from helpers.scenario import (
    CLOSE_NO_FEES,
    COPPER,
    IRON,
    MEAL,
    MON,
    basket,
    config,
    day_bars,
    lines,
    only_trade,
    packages,
    reasons,
    row_at,
    run,
)
from twotier.tier2.limits import (
    LimitContext,
    cash_reserve,
    exposure,
    margin,
    portfolio_leverage,
)
from twotier.tier2.view import Commitments

T = day_bars(MON)
HOLD_THEN_FADE = dict(signal=1, confidence=[1.0, 0.2, 0.2], strength=[1.0, 0.2, 0.2])


def strong(instrument, close, n=2, **kw):
    """A basket entering STRONG (conviction 1.0) on the first bar."""
    args = dict(signal=1, confidence=1.0, strength=1.0) | kw
    return basket(instrument, T[:n], close, **args)


# -- the fallback chain -------------------------------------------------------------------


def reserve_scenario(meal_conviction: float):
    """Iron ore and copper enter STRONG at 1.0 (299,400 committed each), then fade to
    conviction 0.20 (held: no exit fires); soybean meal enters on the second bar. The
    average conviction (0.2 + 0.2 + c)/3 is below 0.35: the reserve target is 25%."""
    iron = basket(IRON, T[:3], 800.0, **HOLD_THEN_FADE)
    cu = basket(COPPER, T[:3], 70_000.0, **HOLD_THEN_FADE)
    c = meal_conviction
    meal = basket(MEAL, T[:3], 3000.0, signal=[0, 1, 1], confidence=[0, c, c], strength=[0, c, c])
    return run(packages(iron, cu, meal), *CLOSE_NO_FEES)


def test_cash_reserve_fails_and_fallback_1_takes_size_times_0_6():
    r = reserve_scenario(0.6)  # size 0.822: reserve 15.46% < 25%; x0.6: 25.30%
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:15] FALLBACK basket 2 [fallback_1]: DCE/m, original: reserve 15.46% < 25%"
    ]
    t = only_trade(r, 2)
    assert t["size_fraction"] == pytest.approx(0.822 * 0.6)
    assert t["leverage"] == pytest.approx(1 + 12.86 * 0.6)  # the tier's leverage kept
    assert t["committed"] == pytest.approx(147_960)
    assert row_at(r, T[1])["reserve_held"] >= 0.25


def test_fallback_3_after_fallback_1_and_2_fail_the_reserve():
    r = reserve_scenario(0.645)  # size 0.8418: x0.6 leaves 24.97% < 25%
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:15] FALLBACK basket 2 [fallback_3]: DCE/m, original: reserve 14.87% "
        "< 25%; fallback_1: reserve 24.97% < 25%; fallback_2: reserve 24.97% < 25%"
    ]
    t = only_trade(r, 2)
    assert (t["size_fraction"], t["leverage"], t["contracts"]) == (0.2, 1.0, 2)
    assert t["committed"] == pytest.approx(60_000)
    # stops and targets follow the effective leverage of what was executed
    assert (t["stop"], t["target"]) == (0.03, 0.10)


def test_fallback_2_runs_literally_though_it_cannot_help_the_reserve():
    """RULES.md 8.11: fallback 2 has fallback 1's size, so its reserve figure is the same."""
    r = reserve_scenario(0.645)
    line = lines(r, "FALLBACK")[0]
    assert "fallback_1: reserve 24.97% < 25%; fallback_2: reserve 24.97% < 25%" in line


def test_all_fallbacks_failing_skips_with_soft_limits_and_tries_again_next_bar():
    """Copper, entering third, cannot afford a contract at fallback 2 (1.1x) or 3 (1.0x);
    the minimum-contract raise is not applied inside the chain (RULES.md 8.10)."""
    iron = basket(IRON, T[:3], 800.0, **HOLD_THEN_FADE)
    meal = basket(MEAL, T[:3], 3000.0, **HOLD_THEN_FADE)
    cu = basket(
        COPPER,
        T[:3],
        76_770.0,
        signal=[0, 1, 1],
        confidence=[0, 0.645, 0.645],
        strength=[0, 0.645, 0.645],
    )
    r = run(packages(iron, cu, meal), *CLOSE_NO_FEES)
    expected = (
        "SKIP basket 1 [soft_limits]: SHFE/cu, LONG, conv=0.65 (conf=0.65, str=0.65), "
        "original: reserve 14.87% < 25%; fallback_1: reserve 24.97% < 25%; "
        "fallback_2: 0 contracts; fallback_3: 0 contracts"
    )
    assert lines(r, "SKIP") == [f"[2024-10-21 09:15] {expected}", f"[2024-10-21 09:30] {expected}"]
    assert r.trades[r.trades["basket"] == 1].empty


def test_exposure_limit_binds_above_90_pct():
    """Soybean meal's basket holds 35% of capital: a third STRONG entry commits 94.81%."""
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), *CLOSE_NO_FEES, "portfolio.baskets.2.capital_fraction=0.35")
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:00] FALLBACK basket 2 [fallback_1]: DCE/m, original: exposure 94.81% "
        "exceeds limit 90%"
    ]
    assert only_trade(r, 2)["committed"] == pytest.approx(350_000 * 0.998 * 0.6)
    assert row_at(r, T[0])["exposure"] <= 0.90


def test_margin_limit_binds_when_margin_exceeds_pv():
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), *CLOSE_NO_FEES, "sizing.strong.leverage_max=15")
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:00] FALLBACK basket 2 [fallback_1]: DCE/m, original: margin "
        "1,085,100.00 exceeds PV 1,000,000.00"
    ]
    # the margin actually held after the entry
    held = 51 * 80_000 * 0.11 + 11 * 350_000 * 0.09 + 82 * 30_000 * 0.07
    assert held <= 1_000_000


def test_portfolio_leverage_limit_binds_and_fallback_2_takes_leverage_1_1():
    frames = [strong(IRON, 800.0), strong(COPPER, 76_770.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), *CLOSE_NO_FEES, "portfolio.baskets.2.sizing.max_leverage=6.5")
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:00] FALLBACK basket 2 [fallback_2]: DCE/m, original: leverage 7.57x "
        "exceeds cap 6.50x; fallback_1: leverage 6.79x exceeds cap 6.50x"
    ]
    t = only_trade(r, 2)
    assert (t["leverage"], t["contracts"]) == (1.1, 6)
    assert t["size_fraction"] == pytest.approx(0.998 * 0.6)
    assert row_at(r, T[0])["leverage"] <= 6.5


def test_soft_limits_first_come_first_served_in_basket_order():
    """RULES.md 8.17: baskets 0 and 1 take their full size; the last one falls back."""
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), *CLOSE_NO_FEES, "portfolio.baskets.2.capital_fraction=0.35")
    assert reasons(r, "FALLBACK") == ["fallback_1"]
    assert [d for d in r.decisions["basket"]] == [0, 1, 2, 2]
    assert list(r.trades["size_fraction"]) == [0.998, 0.998, pytest.approx(0.5988)]


def test_fallback_chain_switched_off_skips_at_once():
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0, n=1)]
    r = run(
        packages(*frames),
        *CLOSE_NO_FEES,
        "portfolio.baskets.2.capital_fraction=0.35",
        "limits.fallback_chain=false",
    )
    assert reasons(r, "SKIP") == ["soft_limits"]
    assert lines(r, "SKIP")[0].endswith("original: exposure 94.81% exceeds limit 90%")


def test_unfilled_entries_count_toward_the_limits_under_next_open():
    """RULES.md 8.5: iron ore's and copper's entries wait for the next open; soybean meal's
    decision on the same bar counts them."""
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), "execution.fees=false", "portfolio.baskets.2.capital_fraction=0.35")
    assert reasons(r, "FALLBACK") == ["fallback_1"]


def test_positions_whose_exit_is_decided_do_not_count_toward_the_limits():
    """Under next_open iron ore's exit is decided on bar 2 and fills on bar 3; soybean
    meal's entry on bar 2 no longer counts iron ore's 299,400."""
    iron = basket(
        IRON, T[:4], 800.0, signal=[1, 1, 0, 0], confidence=[1, 1, 0, 0], strength=[1, 1, 0, 0]
    )
    cu = strong(COPPER, 70_000.0, n=4)
    meal = basket(
        MEAL, T[:4], 3000.0, signal=[0, 0, 1, 1], confidence=[0, 0, 1, 1], strength=[0, 0, 1, 1]
    )
    r = run(
        packages(iron, cu, meal),
        "execution.fees=false",
        "portfolio.baskets.2.capital_fraction=0.35",
    )
    assert lines(r, "FALLBACK") == []
    assert only_trade(r, 2)["size_fraction"] == 0.998


# -- soft-limit thresholds are inclusive (8.24) -------------------------------------------


def context(**kw) -> LimitContext:
    defaults = dict(
        pv=1_000_000.0,
        before=Commitments(),
        margin_rate=0.1,
        reserve_target=0.25,
        max_leverage=20.0,
        limits=config().limits,
    )
    return LimitContext(**(defaults | kw))


def test_exposure_exactly_90_pct_passes():
    assert exposure(Commitments(900_000.0, 0, 0), context()) is None
    assert exposure(Commitments(900_000.01, 0, 0), context()) == (
        "exposure 90.00% exceeds limit 90%"
    )


def test_reserve_exactly_at_target_passes():
    assert cash_reserve(Commitments(750_000.0, 0, 0), context()) is None
    assert cash_reserve(Commitments(750_100.0, 0, 0), context()) == "reserve 24.99% < 25%"


def test_margin_equal_to_pv_passes():
    assert margin(Commitments(0, 0, 1_000_000.0), context()) is None
    assert margin(Commitments(0, 0, 1_000_000.5), context()) is not None


def test_portfolio_leverage_exactly_20_passes():
    assert portfolio_leverage(Commitments(0, 20_000_000.0, 0), context()) is None
    assert portfolio_leverage(Commitments(0, 20_000_100.0, 0), context()) == (
        "leverage 20.00x exceeds cap 20.00x"
    )


# -- the cash-reserve target (4.5, 8.20) --------------------------------------------------


def reserve_target(signals: dict, *overrides, regimes: dict | None = None) -> float:
    """The reserve target recorded on a one-step run where each basket has the given
    (signal, conviction); confidences below 0.20 keep baskets out of positions."""
    frames = []
    regimes = regimes or {}
    for k, price in ((IRON, 800.0), (COPPER, 70_000.0), (MEAL, 3000.0)):
        signal, c = signals.get(k, (0, 0.0))
        frames.append(
            basket(
                k, T[:1], price, signal=signal, confidence=c, strength=c, regime=regimes.get(k, 3)
            )
        )
    r = run(packages(*frames), *CLOSE_NO_FEES, *overrides)
    return float(r.equity["reserve_target"].iloc[0])


def test_reserve_target_balanced_15_pct_with_no_signals():
    assert reserve_target({}) == 0.15


def test_reserve_target_defensive_25_pct_with_no_signals_in_chaos():
    assert reserve_target({}, regimes={MEAL: 4}) == 0.25


def test_reserve_target_aggressive_5_pct_at_average_conviction_0_55():
    assert reserve_target({IRON: (1, 0.55), COPPER: (-1, 0.55)}) == 0.05


def test_reserve_target_balanced_15_pct_between_0_35_and_0_55():
    assert reserve_target({IRON: (1, 0.35), COPPER: (1, 0.54)}) == 0.15


def test_reserve_target_defensive_25_pct_below_average_conviction_0_35():
    assert reserve_target({IRON: (1, 0.1), COPPER: (1, 0.59)}) == 0.25  # average 0.345


def test_average_conviction_counts_only_baskets_with_a_signal():
    assert reserve_target({IRON: (1, 0.6)}) == 0.05


def test_reserve_target_defensive_in_chaos_whatever_the_conviction():
    assert reserve_target({IRON: (1, 0.9)}, regimes={COPPER: 4}) == 0.25


def test_reserve_target_fixed_mode_is_the_composite_reserve_share_10_pct():
    assert reserve_target({IRON: (1, 0.9)}, "sizing.leverage_mode=fixed") == pytest.approx(0.10)
    assert reserve_target({}, "sizing.leverage_mode=fixed", regimes={COPPER: 4}) == (
        pytest.approx(0.10)
    )


def test_fixed_mode_all_three_baskets_hold_positions_at_once():
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), *CLOSE_NO_FEES, "sizing.leverage_mode=fixed")
    assert sorted(r.trades["basket"]) == [0, 1, 2]
    assert lines(r, "FALLBACK") == []
    assert row_at(r, T[0])["exposure"] == pytest.approx(0.90)


def test_reserve_target_aggressive_at_average_conviction_exactly_0_55_in_decimals():
    assert reserve_target({IRON: (1, 0.15), COPPER: (1, 0.95)}) == 0.05


def test_reserve_target_balanced_at_average_conviction_exactly_0_35_in_decimals():
    assert reserve_target({IRON: (1, 0.15), COPPER: (1, 0.2), MEAL: (1, 0.7)}) == 0.15


def test_fixed_mode_with_fees_the_third_basket_falls_back_on_a_hair():
    """Code's choice (the letter of 4.3): the first two entries' fees lower PV, so the third
    full-size entry commits 90.01% of PV and holds 9.99% in reserve; it falls back, though
    4.2 says all three fixed-mode baskets can hold positions at once."""
    frames = [strong(IRON, 800.0), strong(COPPER, 70_000.0), strong(MEAL, 3000.0)]
    r = run(packages(*frames), "execution.fill=close", "sizing.leverage_mode=fixed")
    assert lines(r, "FALLBACK") == [
        "[2024-10-21 09:00] FALLBACK basket 2 [fallback_1]: DCE/m, original: exposure 90.01% "
        "exceeds limit 90%, reserve 9.99% < 10%"
    ]
