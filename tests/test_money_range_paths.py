"""Money at the extremes: a value past what int64 money units hold is refused, never
wrapped; a position's notional past int64 while PV is within the range is not wrapped; a
stretch whose later steps would pass the range but are never reached is not refused."""

from __future__ import annotations

import pytest

from helpers.scenario import IRON, MON, TUE, assert_same_run, config, day_bars, packages
from helpers.scenario import basket as make_basket
from twotier.engine.backtest import run_tier2, split_packages
from twotier.money import MoneyRangeError

# Iron ore alone at the largest capital, filled at the close, in fixed leverage.
LARGEST = ("execution.fill=close", "portfolio.initial_capital=1e12", "sizing.leverage_mode=fixed")
NO_TAKING_PROFIT = ("exits.profit_target=false", "exits.trailing_stop=false",
                    "exits.profit_protect=false")  # fmt: skip
NO_BREAKERS = ("breakers.daily_loss_breaker=false", "breakers.drawdown_breaker=false")


def iron_ore_only(fraction: float) -> str:
    return f'portfolio.baskets=[{{instrument="DCE/i", capital_fraction={fraction}}}]'


def both_engines(table, cfg):
    split = split_packages(table, cfg, "<range>")
    events = run_tier2(split, cfg)
    steps = run_tier2(split, cfg, every_step=True)
    assert_same_run(events, steps)
    return events


def test_a_notional_past_int64_is_not_wrapped_while_pv_is_within_the_range():
    # Capital 1e12 grows to 1.7e14 CNY (within the range), then a basket at 10x fixed
    # leverage (its fallback: 6x) holds 1e15 CNY of iron ore: the stretch's notional wrapped
    # in int64 and equity.csv's leverage read -4.73 (the step's 6.0).
    times = day_bars(MON)[:8] + day_bars(TUE)[:8]
    closes = [800, 800, 4000, 8000, 16000, 16000, 16000, 16000]
    closes += [16000] * 3 + [16100, 16200, 16300, 16400, 16400]
    signal = [1] * 5 + [0] * 3 + [1] * 8
    confidence = [0.9] * 5 + [0] * 3 + [0.9] * 8
    table = packages(make_basket(IRON, times, closes, signal=signal, confidence=confidence,
                                 strength=0.8, regime=1))  # fmt: skip
    cfg = config(
        *LARGEST, iron_ore_only(0.9), "sizing.fixed_leverage=10", *NO_BREAKERS,
        *NO_TAKING_PROFIT, "exits.stop_loss=false",
    )  # fmt: skip
    result = both_engines(table, cfg)
    held = result.equity[result.equity["position_0"] != 0]
    assert (held["leverage"] > 0).all() and (held["exposure"] > 0).all()


def test_a_stretch_is_not_refused_for_steps_after_a_breaker_closed_the_position():
    # A short at 1e12 CNY loses 10% (the drawdown breaker closes it at that close), and
    # iron ore then trades a thousand times higher: the position never sees it, and
    # stepping runs through. The event engine marked the whole quiet stretch first and
    # stopped with MoneyRangeError.
    times = day_bars(MON)[:8]
    closes = [800, 800, 800, 880, 800_000, 800_000, 800_000, 800_000]
    table = packages(make_basket(IRON, times, closes, signal=-1, confidence=0.9,
                                 strength=0.8, regime=2))  # fmt: skip
    cfg = config(
        *LARGEST,
        iron_ore_only(1.0),
        "limits.exposure_limit=false",
        "limits.cash_reserve_limit=false",
        "market.price_limits=false",
        "exits.stop_loss=false",
    )
    result = both_engines(table, cfg)
    assert list(result.trades["reason"]) == ["drawdown_breaker"]


@pytest.mark.parametrize("every_step", [False, True])
def test_a_value_beyond_the_int64_money_units_is_refused_not_wrapped(every_step):
    """Long iron ore at leverage 15 on the largest capital, then a price a thousand times
    higher (legal: prices go to 1e8): the position's value passes what int64 money units
    hold. The run stops with an error saying so; it wrote a wrapped, negative day-start
    PV, or stopped with an internal OverflowError."""
    times = day_bars(MON)[:6]
    closes = [800, 800, 800, 800_000, 800_000, 800_000]
    table = packages(make_basket(IRON, times, closes, signal=1, confidence=0.9,
                                 strength=0.8, regime=1))  # fmt: skip
    cfg = config(
        *LARGEST, iron_ore_only(1.0), "sizing.fixed_leverage=15", *NO_BREAKERS,
        *NO_TAKING_PROFIT,
    )  # fmt: skip
    with pytest.raises(MoneyRangeError, match="beyond what twotier carries exactly"):
        run_tier2(split_packages(table, cfg, "<range>"), cfg, every_step=every_step)
