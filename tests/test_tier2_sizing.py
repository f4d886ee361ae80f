"""RULES.md 4.2 and 8.2, 8.10, 8.12, 8.18, 8.28, 8.30: entries, tiers, size, leverage,
contracts, chaos caution, fixed mode."""

from __future__ import annotations

import pytest

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
    reasons,
    run,
    runs,
)

T = day_bars(MON)


def enter(instrument, close, conf, strength, *overrides, bars=2, regime_others=None):
    """One basket entering on the first bar at a flat close (others flat, optionally in a
    regime); returns the run."""
    frames = [basket(instrument, T[:bars], close, signal=1, confidence=conf, strength=strength)]
    if regime_others is not None:
        for k, regime in regime_others.items():
            frames.append(
                basket(k, T[:bars], {COPPER: 70000, MEAL: 3000, IRON: 800}[k], regime=regime)
            )
    return run(packages(*frames), *CLOSE_NO_FEES, *overrides)


def basket_of(instrument):
    return {IRON: 0, COPPER: 1, MEAL: 2}[instrument]


# -- tiers and formulas -------------------------------------------------------------------


def test_strong_tier_size_0_80_plus_0_44_per_conviction_and_leverage_1_plus_12_86c():
    t = only_trade(enter(IRON, 800.0, 0.6, 0.6), 0)  # conviction 0.60
    assert t["tier"] == "STRONG"
    assert t["size_fraction"] == pytest.approx(0.80 + 0.05 * 0.44)
    assert t["leverage"] == pytest.approx(1 + 12.86 * 0.6)
    assert t["committed"] == pytest.approx(300_000 * 0.822)
    assert t["contracts"] == int(300_000 * 0.822 * (1 + 12.86 * 0.6) // 80_000)


def test_medium_tier_size_0_40_plus_c_minus_0_35_and_leverage_1_plus_10c():
    t = only_trade(enter(IRON, 800.0, 0.4, 0.4), 0)
    assert t["tier"] == "MEDIUM"
    assert t["size_fraction"] == pytest.approx(0.45)
    assert t["leverage"] == pytest.approx(5.0)
    assert t["contracts"] == int(135_000 * 5.0 // 80_000)  # 8


def test_weak_tier_size_0_20_plus_two_thirds_of_excess_and_leverage_1_plus_10c():
    t = only_trade(enter(IRON, 800.0, 0.25, 0.25), 0)
    assert t["tier"] == "WEAK"
    assert t["size_fraction"] == pytest.approx(0.20 + 0.05 * 0.10 / 0.15)
    assert t["leverage"] == pytest.approx(3.5)
    assert t["contracts"] == 3  # 70,000 * 3.5 / 80,000 = 3.06


def test_conviction_exactly_0_55_is_strong_on_exact_decimals():
    """0.6*0.75 + 0.4*0.25 is 0.55 in decimals (RULES.md 8.28)."""
    t = only_trade(enter(IRON, 800.0, 0.75, 0.25), 0)
    assert t["tier"] == "STRONG"
    assert t["size_fraction"] == pytest.approx(0.80)


def test_conviction_exactly_0_35_is_medium():
    t = only_trade(enter(IRON, 800.0, 0.45, 0.2), 0)  # 0.27 + 0.08
    assert t["tier"] == "MEDIUM"
    assert t["size_fraction"] == pytest.approx(0.40)


def test_conviction_exactly_0_20_is_weak_and_enters():
    t = only_trade(enter(IRON, 800.0, 0.2, 0.2), 0)
    assert t["tier"] == "WEAK"
    assert t["size_fraction"] == pytest.approx(0.20)
    assert t["leverage"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("conf", "strength", "why"),
    [
        (0.19, 0.9, "confidence below 0.20"),
        (0.9, 0.14, "strength below 0.15"),
        (0.2, 0.15, "conviction 0.18 below 0.20"),
    ],
)
def test_no_entry_below_entry_thresholds(conf, strength, why):
    r = enter(IRON, 800.0, conf, strength)
    assert r.trades.empty, why
    assert lines(r) == []


def test_strong_leverage_clamped_at_tier_maximum_10():
    t = only_trade(enter(IRON, 800.0, 0.9, 0.9), 0)  # 1 + 12.86*0.9 = 12.57
    assert t["leverage"] == 10.0


def test_medium_leverage_clamped_at_tier_maximum_6():
    t = only_trade(enter(IRON, 800.0, 0.54, 0.54), 0)  # 6.4
    assert t["leverage"] == 6.0


def test_weak_leverage_clamped_at_tier_maximum_4():
    t = only_trade(enter(IRON, 800.0, 0.34, 0.34), 0)  # 4.4
    assert t["leverage"] == 4.0


def test_weak_leverage_raised_to_tier_minimum_1_5():
    t = only_trade(enter(IRON, 800.0, 0.25, 0.25, "sizing.weak.leverage_multiplier=1"), 0)
    assert t["leverage"] == 1.5  # 1 + 0.25 = 1.25 -> 1.5


def test_max_basket_leverage_caps_the_tier_leverage():
    t = only_trade(enter(IRON, 800.0, 1.0, 1.0, "sizing.max_basket_leverage=8"), 0)
    assert t["leverage"] == 8.0


def test_max_leverage_caps_a_basket_leverage():
    t = only_trade(enter(IRON, 800.0, 1.0, 1.0, "sizing.max_leverage=7"), 0)
    assert t["leverage"] == 7.0


def test_max_basket_leverage_15_caps_a_raised_tier_maximum():
    t = only_trade(enter(IRON, 800.0, 1.0, 1.0, "sizing.strong.leverage_max=20"), 0)
    assert t["leverage"] == 13.86  # 1 + 12.86 below 15
    t = only_trade(
        enter(
            IRON,
            800.0,
            1.0,
            1.0,
            "sizing.strong.leverage_multiplier=20",
            "sizing.strong.leverage_max=20",
        ),
        0,
    )
    assert t["leverage"] == 15.0


def test_contracts_floor_of_target_notional_over_one_contract():
    t = only_trade(enter(IRON, 800.0, 1.0, 1.0), 0)
    # committed 299,400 * 10 = 2,994,000 / 80,000 = 37.4
    assert t["committed"] == pytest.approx(299_400)
    assert t["contracts"] == 37
    assert t["effective_leverage"] == pytest.approx(37 * 80_000 / 299_400)


def test_sizing_uses_the_decision_close_under_next_open():
    t2 = T[:3]
    iron = basket(
        IRON,
        t2,
        close=[800.0, 800.0, 800.0],
        open=[800.0, 700.0, 800.0],
        signal=1,
        confidence=1.0,
        strength=1.0,
    )
    t = only_trade(run(packages(iron), "execution.fees=false"), 0)
    assert t["contracts"] == 37  # from 800 (the decision close), not 700.5 (the fill)
    assert t["entry_price"] == 700.5


def test_sizing_uses_the_basket_current_equity():
    """After a winning trade the next entry sizes on the grown equity."""
    t2 = T[:6]
    iron = basket(
        IRON,
        t2,
        [800, 856, 856, 856, 856, 856],
        signal=runs((1, 2), (0, 1), (1, 3)),
        confidence=1.0,
        strength=1.0,
    )
    r = run(packages(iron), *CLOSE_NO_FEES)
    first, second = r.trades.iloc[0], r.trades.iloc[1]
    assert first["reason"] == "profit_target_7pct"
    equity = 300_000 + first["gross_pnl"]
    assert second["committed"] == pytest.approx(equity * 0.998)


# -- the minimum contract -----------------------------------------------------------------


def test_min_contract_raise_takes_one_contract_at_the_leverage_it_needs():
    # MEDIUM 0.35: committed 120,000 at 4.5x = 540,000 < one contract 600,000 (copper 120,000)
    t = only_trade(enter(COPPER, 120_000.0, 0.35, 0.35), 1)
    assert t["contracts"] == 1
    assert t["leverage"] == pytest.approx(5.0)
    assert t["effective_leverage"] == pytest.approx(5.0)
    assert (t["stop"], t["target"]) == (0.02, 0.07)


def test_min_contract_raise_up_to_exactly_the_tier_maximum():
    t = only_trade(enter(COPPER, 144_000.0, 0.35, 0.35), 1)  # needs 6.0x, MEDIUM max 6
    assert t["contracts"] == 1
    assert t["leverage"] == pytest.approx(6.0)


def test_below_min_contract_when_one_contract_needs_more_than_the_tier_maximum():
    r = enter(COPPER, 150_000.0, 0.35, 0.35)  # needs 6.25x > 6
    assert r.trades.empty
    assert reasons(r, "BLOCK") == ["below_min_contract", "below_min_contract"]


def test_below_min_contract_block_line_as_in_rules_section_7():
    r = enter(COPPER, 76_770.0, 0.25, 0.20, bars=1)
    assert lines(r) == [
        "[2024-10-21 09:00] BLOCK basket 1 [below_min_contract]: SHFE/cu, LONG, conv=0.23 "
        "(conf=0.25, str=0.20), one contract 383,850.00 needs lev 5.82x > cap 4.00x"
    ]


def test_a_tier_sized_zero_at_its_threshold_commits_nothing_and_blocks():
    # size_base 0: at conviction exactly the threshold the size is 0 (it divided by 0).
    r = enter(IRON, 800.0, 0.20, 0.20, "sizing.weak.size_base=0", bars=1)
    assert r.trades.empty
    assert lines(r)[0].endswith(
        "[below_min_contract]: DCE/i, LONG, conv=0.20 "
        "(conf=0.20, str=0.20), size 0% commits nothing"
    )


def test_min_contract_raise_can_be_switched_off():
    r = enter(COPPER, 120_000.0, 0.35, 0.35, "sizing.min_contract_raise=false")
    assert r.trades.empty
    assert reasons(r, "BLOCK")[0] == "below_min_contract"


def test_blocked_entry_does_not_use_up_its_episode_and_is_retried_each_bar():
    """RULES.md 8.8: below_min_contract on two bars, then the same episode enters once its
    conviction has grown."""
    cu = basket(
        COPPER,
        T[:4],
        76_770.0,
        signal=1,
        confidence=[0.25, 0.25, 0.9, 0.9],
        strength=[0.2, 0.2, 0.9, 0.9],
    )
    r = run(packages(cu), *CLOSE_NO_FEES)
    assert reasons(r, "BLOCK") == ["below_min_contract", "below_min_contract"]
    t = only_trade(r, 1)
    assert t["entry_time"] == T[2]
    assert t["tier"] == "STRONG"


# -- chaos caution (4.2, 8.2, 8.12) -------------------------------------------------------


def test_chaos_count_one_makes_a_strong_entry_weak_at_most():
    r = enter(IRON, 1300.0, 0.68, 0.72, regime_others={MEAL: 4})  # conviction 0.696
    t = only_trade(r, 0)
    assert t["tier"] == "WEAK"
    assert t["size_fraction"] == pytest.approx(0.30)  # WEAK formula at min(c, 0.35)
    assert t["leverage"] == pytest.approx(4.0)
    assert t["contracts"] == 2  # 90,000 * 4 = 360,000 / 130,000
    assert t["conviction"] == pytest.approx(0.696)


def test_chaos_entry_target_capped_at_8_pct_where_leverage_gives_10():
    t = only_trade(enter(IRON, 1300.0, 0.68, 0.72, regime_others={MEAL: 4}), 0)
    assert t["effective_leverage"] == pytest.approx(260_000 / 90_000)  # < 3x: 10% target
    assert t["target"] == 0.08
    assert t["stop"] == 0.025  # its effective leverage's stop, not a flat 3%


def test_chaos_entry_with_low_conviction_uses_its_own_weak_size():
    t = only_trade(enter(IRON, 800.0, 0.25, 0.25, regime_others={COPPER: 4}), 0)
    assert t["tier"] == "WEAK"
    assert t["size_fraction"] == pytest.approx(0.20 + 0.05 * 0.10 / 0.15)
    assert t["leverage"] == pytest.approx(3.5)


def test_chaos_target_cap_is_fixed_at_entry_when_chaos_ends():
    """RULES.md 8.12: the entry made in chaos keeps its 8% target after the chaos ends."""
    t4 = T[:4]
    iron = basket(
        IRON, t4, [1300.0, 1300.0, 1390.0, 1404.0], signal=1, confidence=0.68, strength=0.72
    )
    meal = basket(MEAL, t4, 3000.0, regime=[4, 3, 3, 3])
    r = run(packages(iron, meal), *CLOSE_NO_FEES)
    t = only_trade(r, 0)
    assert t["reason"] == "profit_target_8pct"  # 1404 / 1300 = +8%, not the 10% of 2.89x
    assert t["exit_time"] == T[3]


def test_no_chaos_no_caution_same_entry_is_strong():
    t = only_trade(enter(IRON, 1300.0, 0.68, 0.72), 0)
    assert t["tier"] == "STRONG"


# -- fixed mode (4.2, 8.18, 8.30) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("conf", "strength", "tier", "stop", "target"),
    [
        (0.68, 0.72, "STRONG", 0.02, 0.08),
        (0.4, 0.4, "MEDIUM", 0.025, 0.10),
        (0.25, 0.25, "WEAK", 0.03, 0.10),
    ],
)
def test_fixed_mode_stop_and_target_by_tier(conf, strength, tier, stop, target):
    t = only_trade(enter(IRON, 780.0, conf, strength, "sizing.leverage_mode=fixed"), 0)
    assert (t["tier"], t["stop"], t["target"]) == (tier, stop, target)
    assert (t["size_fraction"], t["leverage"], t["contracts"]) == (1.0, 1.5, 5)


def test_fixed_mode_in_chaos_takes_weak_stop_and_target_capped_at_8_pct():
    r = enter(IRON, 780.0, 0.68, 0.72, "sizing.leverage_mode=fixed", regime_others={MEAL: 4})
    t = only_trade(r, 0)
    assert (t["stop"], t["target"]) == (0.03, 0.08)
    assert (t["size_fraction"], t["leverage"], t["contracts"]) == (1.0, 1.5, 5)


def test_fixed_mode_buying_power_is_current_equity_times_1_5():
    t2 = T[:6]
    iron = basket(
        IRON,
        t2,
        [780, 842.5, 842.5, 842.5, 842.5, 842.5],
        signal=runs((1, 2), (0, 1), (1, 3)),
        confidence=0.68,
        strength=0.72,
    )
    r = run(packages(iron), *CLOSE_NO_FEES, "sizing.leverage_mode=fixed")
    first, second = r.trades.iloc[0], r.trades.iloc[1]
    assert first["reason"] == "profit_target_8pct"  # 842.4 is +8%
    equity = 300_000 + first["gross_pnl"]  # 5 * 100 * 62.5 = 31,250
    assert second["committed"] == equity
    assert second["contracts"] == int(equity * 1.5 // 84_250)


def test_fixed_mode_below_min_contract_skips():
    r = enter(COPPER, 100_000.0, 0.68, 0.72, "sizing.leverage_mode=fixed", bars=1)
    assert reasons(r, "BLOCK") == ["below_min_contract"]
    assert "needs lev 1.67x > fixed 1.50x" in lines(r)[0]
