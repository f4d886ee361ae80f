"""The Python API takes what a researcher gives it as the CLI takes files and options: a
DataFrame is read as its file would be (the data.* keys, the bar-length check), roll
schedules are checked as ``--rolls`` is, a mistake is twotier's own error naming it, and
what a run keeps is its own (the configuration it ran with, metrics handed out as
copies). Found by an independent check of the API against the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import twotier
from twotier.config import load_config
from twotier.errors import BadBarsError, ConfigError, DataError
from twotier.market.instruments import get_instrument
from twotier.market.resample import resample
from twotier.market.rolls import Roll, RollSchedule
from twotier.market.sample import load_sample


def weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """Five weeks of sample bars, as a DataFrame indexed by time."""
    return frame[frame["trading_day"] <= pd.Timestamp("2023-02-10")].copy()


@pytest.fixture(scope="module")
def iron() -> pd.DataFrame:
    return weeks(load_sample("DCE/i"))


@pytest.fixture(scope="module")
def run(iron) -> twotier.api.BacktestResult:
    return twotier.backtest(bars={"DCE/i": iron})


def test_a_dataframe_is_read_with_the_configurations_auction_rule(iron):
    # An 08:59 auction bar: folded in by default, refused with data.auction = "refuse"
    # (the DataFrame was always folded in, whatever the configuration said).
    auction = iron.iloc[:1].copy()
    auction.index = auction.index - pd.Timedelta(minutes=1)
    frame = pd.concat([auction, iron])
    assert twotier.backtest(bars={"DCE/i": frame}).summary["merged_bars"]
    with pytest.raises(BadBarsError, match=r"08:59:00.* is outside the sessions"):
        twotier.backtest(bars={"DCE/i": frame}, overrides=['data.auction="refuse"'])


def test_a_dataframe_of_longer_bars_than_15_minutes_is_one_error(iron):
    thirty = resample(iron, get_instrument("DCE/i"), 15, 30)
    with pytest.raises(DataError, match="its bars are 30 minutes apart"):
        twotier.backtest(bars={"DCE/i": thirty})


def test_a_frame_read_from_a_bar_file_runs_as_the_file(iron, run, tmp_path: Path):
    # pd.read_csv of a file with a `datetime` column: a numbered index, the times a column.
    path = tmp_path / "i.csv"
    iron.drop(columns="trading_day").to_csv(path, index_label="datetime")
    frame = pd.read_csv(path)
    got = twotier.backtest(bars={"DCE/i": frame})
    assert got.summary["final_pv"] == twotier.backtest(bars={"DCE/i": path}).summary["final_pv"]
    assert got.summary["final_pv"] == run.summary["final_pv"]
    # Rows left out by a filter leave row numbers, not a RangeIndex: still numbers.
    assert twotier.backtest(bars={"DCE/i": frame.drop(index=[5, 6])}).summary["steps"]


def test_an_empty_frame_is_refused_as_an_empty_file_is(iron):
    with pytest.raises(DataError, match="no rows"):
        twotier.backtest(bars={"DCE/i": iron.iloc[:0]})


def test_a_roll_schedule_of_another_product_is_refused_by_signals_too(iron):
    iron_rolls = RollSchedule([Roll(pd.Timestamp("2023-01-16").date(), "i2305", "i2309", 800, 790)])
    meal = weeks(load_sample("DCE/m"))
    with pytest.raises(DataError, match="not a product 'm' contract"):
        twotier.signals(bars={"DCE/m": meal}, rolls={"DCE/m": iron_rolls})


@pytest.mark.parametrize("start", [20230301, 2023.5, True])
def test_a_number_is_not_taken_as_a_day(iron, start):
    # 20230301 was read as nanoseconds after 1970: the whole data set ran, silently.
    with pytest.raises(ConfigError, match=f"start {start!r} is not a day"):
        twotier.backtest(bars={"DCE/i": iron}, start=start)


def test_a_run_keeps_the_configuration_it_ran_with(iron):
    # With the three default baskets nothing is fitted: the run held the caller's object.
    config = load_config(overrides=['generators."DCE/i".params.min_confidence=0.3'])
    bars = {key: weeks(load_sample(key)) for key in ("DCE/i", "SHFE/cu", "DCE/m")}
    result = twotier.backtest(bars=bars, config=config)
    config.generators["DCE/i"].params["min_confidence"] = 0.9  # a dict inside a frozen model
    assert result.config.generators["DCE/i"].params["min_confidence"] == 0.3


def test_metrics_are_handed_out_as_copies(run):
    sharpe = run.metrics["portfolio"]["sharpe"]
    run.metrics["portfolio"]["sharpe"] = 99.0
    run.compute_metrics(0.0)["portfolio"]["sharpe"] = 98.0
    assert run.metrics["portfolio"]["sharpe"] == sharpe


@pytest.mark.parametrize("rate", [math.nan, math.inf, 2, "0.02", None, True])
def test_a_risk_free_rate_that_is_no_yearly_fraction_is_refused(run, rate, tmp_path):
    with pytest.raises(ConfigError, match=r"is not a yearly rate; give a fraction, 0\.02 for 2%"):
        run.compute_metrics(rate)
    with pytest.raises(ConfigError, match="is not a yearly rate"):
        run.report(tmp_path / "report.html", risk_free=rate)
    assert run.compute_metrics(0.02)["portfolio"]["sharpe"] != run.metrics["portfolio"]["sharpe"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"bars": {}}, r"bars is \{instrument: file or DataFrame\}, with at least one"),
        ({"bars": {"DCE/i": None}}, r"bars\['DCE/i'\] must be a file path or a DataFrame"),
        ({"bars": {"DCE/i": 3}}, r"must be a file path or a DataFrame, not int"),
        ({"config": {"sizing": {}}}, "config must be a Config, a file path or None, not dict"),
        ({"overrides": "execution.fill=close"}, 'overrides is a list of "KEY=VALUE" strings'),
        ({"rolls": {"DCE/I": "rolls.csv"}}, r"rolls\['DCE/I'\]: DCE/I is not one of DCE/i"),
        ({"bars": None}, "give either bars="),
    ],
)
def test_a_slip_is_twotiers_error_naming_it(iron, given, message):
    arguments = {"bars": {"DCE/i": iron}, **given}
    with pytest.raises(ConfigError, match=message):
        twotier.backtest(**arguments)


@pytest.mark.parametrize("option", ["label", "on_bad_bar", "contract_column"])
def test_a_bar_file_option_with_packages_is_refused(iron, option):
    packages = twotier.signals(bars={"DCE/i": iron})
    with pytest.raises(ConfigError, match=f"{option}= is about bar files"):
        twotier.backtest(signals=packages["DCE/i"], **{option: "end"})


def test_signals_output_is_taken_by_backtest_as_it_comes(iron):
    packages = twotier.signals(bars={"DCE/i": iron})
    as_dict = twotier.backtest(signals=packages)
    as_table = twotier.backtest(signals=packages["DCE/i"])
    pd.testing.assert_frame_equal(as_dict.trades, as_table.trades)
    pd.testing.assert_frame_equal(as_dict.equity, as_table.equity)
