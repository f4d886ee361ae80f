"""Money at the extremes beyond PV: a position's notional past int64 while PV is within
the range, and a stretch whose later steps would pass the range but are never reached."""

from __future__ import annotations

from helpers.scenario import IRON, MON, TUE, assert_same_run, config, day_bars, packages
from helpers.scenario import basket as make_basket
from twotier.engine.backtest import run_tier2, split_packages


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
        "execution.fill=close",
        "portfolio.initial_capital=1e12",
        'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]',
        "sizing.leverage_mode=fixed",
        "sizing.fixed_leverage=10",
        "breakers.daily_loss_breaker=false",
        "breakers.drawdown_breaker=false",
        "exits.profit_target=false",
        "exits.trailing_stop=false",
        "exits.profit_protect=false",
        "exits.stop_loss=false",
    )
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
        "execution.fill=close",
        "portfolio.initial_capital=1e12",
        'portfolio.baskets=[{instrument="DCE/i", capital_fraction=1.0}]',
        "sizing.leverage_mode=fixed",
        "limits.exposure_limit=false",
        "limits.cash_reserve_limit=false",
        "market.price_limits=false",
        "exits.stop_loss=false",
    )
    result = both_engines(table, cfg)
    assert list(result.trades["reason"]) == ["drawdown_breaker"]
