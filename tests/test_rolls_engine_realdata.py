"""Rolls end to end on the real iron ore main-contract series (spliced raw, three rolls
in the file): with roll information no P&L crosses a splice and no roll is suspected;
without it the backtest warns once, naming the dates."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from helpers.scenario import NEVER_LET_GO, check_ledger
from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.resample import resample
from twotier.market.rolls import Roll, RollSchedule

ROLLS = RollSchedule(
    (
        Roll(dt.date(2019, 12, 6), "i2001", "i2005", 654.5, 619.5),
        Roll(dt.date(2020, 3, 31), "i2005", "i2009", 645.5, 576.5),
        Roll(dt.date(2020, 8, 10), "i2009", "i2101", 896.0, 817.0),
    )
)
ONE_BASKET = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'


@pytest.fixture(scope="module")
def iron_bars(real_bars):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    return {"DCE/i": resample(loaded.frame, loaded.instrument, loaded.bar_minutes)}


def test_without_roll_information_the_backtest_warns_once_naming_the_jumps(iron_bars):
    result = run_backtest(iron_bars, load_config(overrides=[ONE_BASKET]))
    assert len(result.warnings) == 1
    assert "DCE/i" in result.warnings[0]
    for day in ("2019-12-06", "2020-03-31", "2020-08-10"):
        assert day in result.warnings[0]


@pytest.mark.parametrize("fill", ["close", "next_open"])
def test_with_a_schedule_positions_held_at_rolls_are_rolled_and_the_ledger_holds(iron_bars, fill):
    # Signals that never let go (a 0.0 exit confidence, no stops) hold positions across
    # the rolls, so each roll with a position shows its two fills.
    config = load_config(overrides=[ONE_BASKET, f"execution.fill={fill}", *NEVER_LET_GO])
    result = run_backtest(iron_bars, config, rolls={"DCE/i": ROLLS})
    assert result.warnings == []
    check_ledger(result)
    rolls = result.fills[result.fills["reason"] == "roll"]
    assert len(rolls) > 0 and len(rolls) % 2 == 0
    for _, pair in rolls.groupby("time"):
        assert list(pair["opens"]) == [False, True]
        assert pair["contract"].iloc[0] != pair["contract"].iloc[1]
    held = result.packages["DCE/i"]
    assert set(held["contract"]) == {"i2001", "i2005", "i2009", "i2101"}
    every = run_backtest(iron_bars, config, rolls={"DCE/i": ROLLS}, every_step=True)
    assert every.trades.equals(result.trades) and every.equity.equals(result.equity)


def test_signals_across_rolls_do_not_depend_on_rolls_still_to_come(iron_bars):
    """Each bar's package is computed on the history as it stood at that bar, adjusted to
    the contract traded then: cutting the data before the last roll changes no package
    before it (the live form, re-adjusting at each roll, computes the same)."""
    from twotier.engine.backtest import instrument_signals

    bars = iron_bars["DCE/i"]
    config = load_config()
    full = instrument_signals("DCE/i", bars, config, ROLLS)
    cut = bars[bars["trading_day"] < "2020-08-10"]
    before = instrument_signals("DCE/i", cut, config, ROLLS)
    pd.testing.assert_frame_equal(full.iloc[: len(before)], before)
    roll_bar = len(before)
    assert full["contract"].iloc[roll_bar - 1] == "i2009"
    assert full["contract"].iloc[roll_bar] == "i2101"
    # From the roll on, the indicators are those of the history back-adjusted by it: the
    # 12-bar EMA moves on from its previous value rescaled by the ratio (817/896), with no
    # jump of the raw splice in it.
    ema = full["ema_12"].to_numpy()
    ratio = ROLLS.rolls[-1].ratio
    assert abs(ema[roll_bar] / (ema[roll_bar - 1] * ratio) - 1) < 0.005
