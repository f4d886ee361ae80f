"""A spliced main-contract series as a position held and rolled sees it: no return across
a roll, and buy-and-hold measured on it (issue 12: the raw splice of the real iron ore
file shows +8.25% where holding and rolling made about +40%)."""

from __future__ import annotations

import pandas as pd
import pytest

from twotier.analysis.benchmarks import buy_and_hold, growth, in_run
from twotier.analysis.rolled import roll_points, rolled_closes, scale_factors

TZ = "Asia/Shanghai"


def spliced(opens, closes, contracts, days) -> pd.DataFrame:
    n = len(closes)
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-03-04 09:00", periods=n, freq="15min", tz=TZ),
            "open": [float(v) for v in opens],
            "close": [float(v) for v in closes],
            "contract": contracts,
            "trading_day": pd.to_datetime(days),
        }
    )


# Two days on i2405, then i2409 from the third day's first bar, which opens at 90 where
# i2405 last closed at 120: the roll's ratio is 90 / 120 = 0.75.
BARS = spliced(
    opens=[100, 110, 118, 90, 95],
    closes=[110, 120, 120, 99, 90],
    contracts=["i2405", "i2405", "i2405", "i2409", "i2409"],
    days=["2024-03-04", "2024-03-05", "2024-03-05", "2024-03-06", "2024-03-06"],
)


def equity_of(bars: pd.DataFrame) -> pd.DataFrame:
    return bars[["time", "trading_day"]]


@pytest.mark.parametrize("steps", [slice(None), slice(1, 4)], ids=["all bars", "some bars"])
def test_the_packages_in_a_run_are_a_table_of_their_own(steps):
    """in_run shares the packages' columns when every bar is a step of the run (pandas
    copies on write): changing its table never changes the packages."""
    bars = BARS.copy()
    table = in_run(bars, equity_of(BARS.iloc[steps]))
    assert table["close"].tolist() == BARS["close"].iloc[steps].tolist()
    table.loc[0, "close"] = -1.0
    table["close"] *= 2
    assert bars.equals(BARS)


def test_a_roll_is_found_where_the_contract_changes():
    [(bar, roll)] = roll_points(BARS)
    assert bar == 3
    assert (roll.old_contract, roll.new_contract) == ("i2405", "i2409")
    assert roll.ratio == pytest.approx(0.75)


def test_rolled_closes_keep_every_return_inside_a_contract_and_none_across_a_roll():
    closes = rolled_closes(BARS)
    assert closes.tolist() == pytest.approx([82.5, 90.0, 90.0, 99.0, 90.0])
    assert scale_factors(BARS).tolist() == pytest.approx([0.75, 0.75, 0.75, 1.0, 1.0])
    raw = BARS["close"].pct_change().tolist()
    rolled = closes.pct_change().tolist()
    assert rolled[1:3] == pytest.approx(raw[1:3])
    assert rolled[3] == pytest.approx(99 / 90 - 1)  # not 99 / 120 - 1


def test_without_a_contract_column_the_closes_are_the_raw_ones():
    bars = BARS.drop(columns="contract")
    assert rolled_closes(bars).tolist() == BARS["close"].tolist()
    assert roll_points(bars) == []


def test_buy_and_hold_is_measured_on_the_rolled_position():
    held = buy_and_hold(BARS, equity_of(BARS))
    # bought at 110 (i2405), 120 at the roll is 90 on i2409, ended at 90: +9.09%
    assert held["total_return"] == pytest.approx(120 / 110 - 1)
    assert held["rolls"] == 1
    assert (held["first_close"], held["last_close"]) == (110.0, 90.0)  # raw prices
    held_growth = growth(in_run(BARS, equity_of(BARS)))
    assert held_growth.tolist() == pytest.approx([1.0, 120 / 110, 120 / 110])


def test_real_iron_ore_held_and_rolled_made_about_40_percent(real_bars):
    from test_rolls_engine_realdata import ROLLS
    from twotier.config import load_config
    from twotier.engine.backtest import instrument_signals
    from twotier.market.resample import resample

    loaded = real_bars("DCE.i.HOT.m5.csv")
    bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    packages = instrument_signals("DCE/i", bars, load_config(), ROLLS)
    steps = pd.DataFrame({"time": packages["time"], "trading_day": bars["trading_day"].to_numpy()})
    held = buy_and_hold(packages, steps)
    raw = packages["close"].iloc[-1] / packages["close"].iloc[0] - 1
    assert raw == pytest.approx(0.0825, abs=5e-4)  # the splice as it is
    assert held["total_return"] == pytest.approx(0.4044, abs=5e-4)
    assert held["rolls"] == 3
