"""Fewer instruments than the default three: with the default baskets, a run trades the
instruments it has data for, each basket keeping its 30%, and says so; baskets a
configuration names must all have data; data no basket trades is a warning. The CLI, the
Python API and paper trading apply the one rule (``twotier.config.baskets``) and agree."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import twotier
from helpers.cli import invoke, one_line_error
from test_live_parity import assert_same_run_folders, paper, write_bar_csv
from twotier.config import load_config
from twotier.config.baskets import fit_baskets
from twotier.errors import ConfigError
from twotier.market.sample import load_sample

COPPER_ONLY = 'portfolio.baskets=[{instrument="SHFE/cu", capital_fraction=0.5}]'


def test_default_baskets_fit_the_instruments_given_each_keeping_its_share():
    fitted = fit_baskets(load_config(), ["DCE/m", "DCE/i"])
    baskets = fitted.config.portfolio.baskets
    assert [(b.instrument, b.capital_fraction) for b in baskets] == [
        ("DCE/i", 0.30),
        ("DCE/m", 0.30),
    ]  # in the configuration's order, whatever the order given
    assert fitted.warnings == [
        "bars for DCE/i and DCE/m only: trading 2 of the default baskets of 30% (without "
        "SHFE/cu); 40% of the capital stays in the reserve"
    ]


def test_all_three_given_change_nothing_and_say_nothing():
    config = load_config()
    fitted = fit_baskets(config, ["DCE/i", "SHFE/cu", "DCE/m"])
    assert fitted.config is config and fitted.warnings == []


def test_a_named_basket_without_data_is_an_error_naming_it_and_the_fix():
    config = load_config(None, [COPPER_ONLY])
    with pytest.raises(ConfigError) as info:
        fit_baskets(config, ["DCE/i"])
    assert str(info.value) == (
        "no bars for SHFE/cu, the instrument of basket portfolio.baskets.0: give --bars "
        "SHFE/cu=FILE, or remove that basket from the configuration"
    )


def test_paper_trading_lets_a_named_basket_wait_for_its_bars():
    config = load_config(None, [COPPER_ONLY])
    fitted = fit_baskets(config, ["DCE/i"], complete=False)
    assert fitted.config is config
    assert fitted.warnings == [
        "bars given for DCE/i, which no basket trades: not used (add a basket for it in "
        "portfolio.baskets to trade it)"
    ]


def test_data_of_no_default_instrument_is_an_error():
    with pytest.raises(ConfigError, match="no packages for any instrument of the default"):
        fit_baskets(load_config(), ["SHFE/al"], what="packages")


def test_generator_sections_of_instruments_left_out_go_with_them():
    config = load_config(None, ['generators."SHFE/cu".params.min_confidence=0.3'])
    fitted = fit_baskets(config, ["DCE/i"])
    assert list(fitted.config.generators) == []


@pytest.fixture(scope="module")
def two_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bars")
    files = {}
    for key in ("DCE/i", "DCE/m"):
        bars = load_sample(key)
        bars = bars[bars["trading_day"] <= pd.Timestamp("2023-02-15")]
        files[key] = folder / f"{key.replace('/', '_')}.csv"
        write_bar_csv(bars, files[key])
    return files


def test_backtest_on_two_files_trades_two_baskets_and_says_so(two_files, tmp_path, capsys):
    args = ["backtest", "--quiet", "--out", tmp_path / "run"]
    args += [f"--bars={k}={v}" for k, v in two_files.items()]
    code, _, err = invoke(args, capsys)
    assert code == 0, err
    assert err.strip() == (
        "warning: bars for DCE/i and DCE/m only: trading 2 of the default baskets of 30% "
        "(without SHFE/cu); 40% of the capital stays in the reserve"
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [(b["instrument"], b["initial_equity"]) for b in summary["baskets"]] == [
        ("DCE/i", 300_000.0),
        ("DCE/m", 300_000.0),
    ]
    assert summary["warnings"][0].startswith("bars for DCE/i and DCE/m only")


def test_backtest_of_a_copper_configuration_on_iron_ore_is_one_line(two_files, tmp_path, capsys):
    args = ["backtest", "--bars", f"DCE/i={two_files['DCE/i']}", "--set", COPPER_ONLY]
    code, _, err = invoke([*args, "--out", tmp_path / "run"], capsys)
    assert code == 1
    assert "no bars for SHFE/cu, the instrument of basket portfolio.baskets.0" in one_line_error(
        err
    )


def test_packages_of_an_instrument_no_basket_trades_are_a_warning(two_files, tmp_path, capsys):
    config = load_config(None, ['portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'])
    result = twotier.backtest(bars={"DCE/i": two_files["DCE/i"]}, config=config)
    packages = pd.concat(
        [
            result.packages["DCE/i"],
            twotier.signals({"DCE/m": two_files["DCE/m"]})["DCE/m"],
        ]
    )
    table = tmp_path / "packages.csv"
    packages.to_csv(table, index=False)
    cfg = tmp_path / "iron.toml"
    cfg.write_text('[[portfolio.baskets]]\ninstrument = "DCE/i"\ncapital_fraction = 0.9\n')
    args = ["backtest", "--signals", table, "--config", cfg, "--quiet"]
    code, _, err = invoke([*args, "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    assert "warning: packages given for DCE/m, which no basket trades: not used" in err


def test_instruments_sharing_no_trading_day_warn(tmp_path, capsys):
    files = {}
    for key, (first, last) in {
        "DCE/i": ("2023-01-03", "2023-01-31"),
        "DCE/m": ("2023-02-01", "2023-02-28"),
    }.items():
        bars = load_sample(key)
        days = bars["trading_day"]
        bars = bars[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))]
        files[key] = tmp_path / f"{key.replace('/', '_')}.csv"
        write_bar_csv(bars, files[key])
    result = twotier.backtest(bars=files)
    assert (
        "the bars of DCE/i (2023-01-03 to 2023-01-31) and DCE/m (2023-02-01 to 2023-02-28) "
        "share no trading day: their baskets never trade in the same period"
    ) in result.warnings


@pytest.mark.parametrize(
    ("days_b", "warned"),
    [(["2023-01-05", "2023-01-06"], False), (["2023-01-06", "2023-01-09"], True)],
)
def test_instruments_sharing_one_trading_day_are_not_warned_of(days_b, warned):
    """One shared day is enough; the warning names each side's first and last day."""
    from twotier.engine.inputs import shared_days_warnings

    def bars(days):  # two bars a day, as sorted bars come
        return pd.DataFrame({"trading_day": pd.to_datetime([d for d in days for _ in "ab"])})

    a = bars(["2023-01-04", "2023-01-05"])
    warnings = shared_days_warnings({"DCE/i": a, "DCE/m": bars(days_b), "SHFE/cu": a[:0]})
    assert warnings == (
        [
            "the bars of DCE/i (2023-01-04 to 2023-01-05) and DCE/m (2023-01-06 to "
            "2023-01-09) share no trading day: their baskets never trade in the same period"
        ]
        if warned
        else []
    )


def test_api_with_one_instrument_trades_its_basket(two_files):
    result = twotier.backtest(bars={"DCE/i": two_files["DCE/i"]})
    assert result.config.instruments == ["DCE/i"]
    assert result.warnings[0].startswith("bars for DCE/i only: trading 1 of the default baskets")


def test_paper_on_a_subset_agrees_with_the_backtest(two_files, tmp_path):
    expected = tmp_path / "backtest"
    twotier.backtest(bars=two_files, out=expected)
    feed = two_files["DCE/i"].parent
    got = paper(f"folder:{feed}", tmp_path / "state")
    assert_same_run_folders(expected, got)
    assert load_config(tmp_path / "state" / "config.toml").instruments == ["DCE/i", "DCE/m"]
