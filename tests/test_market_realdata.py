"""RULES.md 10 on the real DCE files: the locked days of iron ore (2020-02-03: every bar at
606.5, 7% under the previous settlement; the next price 570.5 the next morning) and of
soybean meal (2020-03-23, limit up at 2915 from 13:55). Signals are written by hand on the
real bars, so that the orders fall where the tests want them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.scenario import assert_same_run
from twotier.config import load_config
from twotier.engine.backtest import instrument_signals, run_tier2, split_packages
from twotier.engine.market import basket_market
from twotier.market.resample import resample
from twotier.money import price_units_array
from twotier.tier1.package import validate_packages

pytestmark = pytest.mark.realdata
TZ = "Asia/Shanghai"
IRON_FILE, MEAL_FILE = "DCE.i.HOT.m5.csv", "DCE.m.HOT.m5.csv"
HOLD = ("breakers.daily_loss_breaker=false", "breakers.drawdown_breaker=false",
        "exits.stop_loss=false")  # fmt: skip


def bars_15(real_bars, name: str) -> pd.DataFrame:
    loaded = real_bars(name)
    return resample(loaded.frame, loaded.instrument, loaded.bar_minutes)


def one_basket(instrument: str, *overrides: str):
    basket = f'portfolio.baskets=[{{instrument="{instrument}", capital_fraction=0.3}}]'
    return load_config(overrides=[basket, *overrides])


def hand_packages(bars: pd.DataFrame, instrument: str, signal, confidence=1.0) -> pd.DataFrame:
    """The real bars as packages with the signal and confidence given (strength 1)."""
    table = pd.DataFrame(
        {
            "time": bars.index,
            "instrument": instrument,
            "signal": signal,
            "confidence": confidence,
            "signal_strength": 1.0,
            "regime": 3,
            **{c: bars[c].to_numpy() for c in ("open", "close", "high", "low", "volume")},
        }
    )
    return validate_packages(table, "<real, by hand>")


def run_both(table: pd.DataFrame, config):
    split = split_packages(table, config, "<real>")
    result = run_tier2(split, config)
    assert_same_run(result, run_tier2(split, config, every_step=True))
    return result


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def test_the_locked_bars_of_the_real_dce_files_are_exactly_the_one_price_bars_at_the_limit(
    real_bars,
):
    """RULES.md 10: iron ore 2019-09-02 14:30 and 14:45 (630.0, up), all fifteen bars of
    2020-02-03 (606.5, down), soybean meal 2020-03-23 from 14:00 (2915, up); no others."""
    config = load_config()
    found = {}
    for name, instrument in ((IRON_FILE, "DCE/i"), (MEAL_FILE, "DCE/m")):
        bars = bars_15(real_bars, name)
        packages = instrument_signals(instrument, bars, config)
        close = price_units_array(packages["close"].to_numpy())
        day = bars["trading_day"].to_numpy().astype("datetime64[D]")
        from twotier.market.instruments import default_registry

        spec = default_registry()[instrument]
        market = basket_market(packages, spec, day, None, close, config.market, name)
        rows = np.flatnonzero(market.locked != 0)
        found[instrument] = [
            (str(bars.index[i])[:16], int(market.locked[i]), float(bars["close"].iloc[i]))
            for i in rows
        ]
    iron_day = ["09:00", "09:15", "09:30", "09:45", "10:00", "10:30", "10:45", "11:00",
                "11:15", "13:30", "13:45", "14:00", "14:15", "14:30", "14:45"]  # fmt: skip
    assert found["DCE/i"] == [
        ("2019-09-02 14:30", 1, 630.0),
        ("2019-09-02 14:45", 1, 630.0),
        *[(f"2020-02-03 {hhmm}", -1, 606.5) for hhmm in iron_day],
    ]
    assert found["DCE/m"] == [
        (f"2020-03-23 {hhmm}", 1, 2915.0) for hhmm in ("14:00", "14:15", "14:30", "14:45")
    ]


def test_an_exit_decided_on_the_locked_day_fills_the_next_morning_at_the_open(real_bars):
    """A long from 2020-01-23 (44 contracts at 666.0) whose exit is decided at the first
    bar of 2020-02-03 (confidence falls: low_confidence) cannot sell at 606.5 all day:
    it waits at each of the 14 later bars and fills on 2020-02-04 at 09:00, at the open
    570.5 less a tick of slippage, 570.0 (twotier once filled it at 606.5: 36.5 x 100 x
    44 = 160,600 CNY better than the market would give)."""
    bars = bars_15(real_bars, IRON_FILE).loc["2020-01-20":"2020-02-06"]
    signal = np.where(bars.index >= at("2020-01-23 09:00"), 1, 0)
    confidence = np.where(bars.index >= at("2020-02-03 09:00"), 0.1, 1.0)
    result = run_both(hand_packages(bars, "DCE/i", signal, confidence), one_basket("DCE/i", *HOLD))
    waits = result.decisions[result.decisions["kind"] == "WAIT"]
    assert len(waits) == 14
    assert set(waits["reason"]) == {"exit_delayed_limit"}
    assert waits["time"].iloc[0] == at("2020-02-03 09:15")
    assert waits["time"].iloc[-1] == at("2020-02-03 14:45")
    trade = result.trades.iloc[0]
    assert (trade["reason"], trade["exit_decided_at"]) == ("low_confidence", at("2020-02-03 09:00"))
    assert (trade["exit_time"], trade["exit_price"]) == (at("2020-02-04 09:00"), 570.0)
    exit_fill = result.fills[~result.fills["opens"]].iloc[0]
    assert (exit_fill["contracts"], exit_fill["bars_waited"]) == (44, 14)


def test_a_short_entry_decided_on_the_locked_day_is_cancelled(real_bars):
    # The data must hold the day before (2020-01-23, before the holiday): a day without a
    # previous settlement in the data has no estimated limits.
    bars = bars_15(real_bars, IRON_FILE).loc["2020-01-23":"2020-02-05"]
    signal = np.where(bars.index >= at("2020-02-03 09:00"), -1, 0)
    result = run_both(hand_packages(bars, "DCE/i", signal), one_basket("DCE/i"))
    cancels = result.decisions[result.decisions["kind"] == "CANCEL"]
    assert list(cancels["reason"]) == ["entry_unfilled_limit"]
    assert cancels["time"].iloc[0] == at("2020-02-03 09:15")
    assert result.fills.empty  # its episode is used: no later fill


@pytest.mark.parametrize("decided", ["13:45", "14:00", "14:30"])
def test_a_soybean_meal_buy_decided_once_the_limit_holds_does_not_fill_that_day(real_bars, decided):
    """From 13:55 meal traded only at its limit up, 2915: the 15-minute bars from 14:00
    are one-price bars at the limit. A buy decided at 13:45 or later would fill at such a
    bar: cancelled (entry_unfilled_limit)."""
    bars = bars_15(real_bars, MEAL_FILE).loc["2020-03-20":"2020-03-24"]
    signal = np.where(bars.index >= at(f"2020-03-23 {decided}"), 1, 0)
    result = run_both(hand_packages(bars, "DCE/m", signal), one_basket("DCE/m"))
    cancels = result.decisions[result.decisions["kind"] == "CANCEL"]
    assert list(cancels["reason"]) == ["entry_unfilled_limit"]
    assert result.fills.empty


def test_a_soybean_meal_buy_decided_before_the_lock_fills_at_a_bar_that_still_traded(real_bars):
    """RULES.md 10.2 locks one-price bars only: the 13:30 bar touched 2912 under the limit,
    so a buy decided at 11:15 fills at its open (2915, plus a tick: 2916, inside the
    estimated limit up of 2918 = 2806 x 1.04). Issue 14's "a buy decided after 11:05 does
    not fill that day" holds from the 13:45 bar on (see the test above)."""
    bars = bars_15(real_bars, MEAL_FILE).loc["2020-03-20":"2020-03-24"]
    signal = np.where(bars.index >= at("2020-03-23 11:15"), 1, 0)
    result = run_both(hand_packages(bars, "DCE/m", signal), one_basket("DCE/m"))
    entry = result.fills.iloc[0]
    assert (entry["time"], entry["price"]) == (at("2020-03-23 13:30"), 2916.0)
