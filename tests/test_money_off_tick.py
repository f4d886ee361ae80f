"""Prices off the tick (accepted with a warning) give amounts with fractions of a cent.
The files show each amount rounded to the cent half away from zero, as fees are, and the
figures that are sums or differences of others are made of the rounded ones, so that
they add up as printed: a trade's net is its gross less its fees, the summary's totals
the sums of the trades' rows, its final values the equity's last row."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest

from twotier.cli.main import run as cli
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.money import cny, to_cent


def test_to_cent_rounds_half_away_from_zero_like_the_fees():
    import numpy as np

    units = [0, 49, 50, 150, -49, -50, -150, 10**17 + 50]
    expected = [0, 0, 100, 200, 0, -100, -200, 10**17 + 100]
    assert [to_cent(u) for u in units] == expected
    assert to_cent(np.array(units, dtype=np.int64)).tolist() == expected


def test_to_cent_rounds_arrays_whether_or_not_they_are_whole_cents():
    import numpy as np

    whole = np.array([0, 100, -200, 12_345_600], dtype=np.int64)
    assert cny(to_cent(whole)).tolist() == [0.0, 0.01, -0.02, 1234.56]
    off = np.array([0, 49, 50, -50, -150, 12_345_650], dtype=np.int64)
    assert cny(to_cent(off)).tolist() == [0.0, 0.0, 0.01, -0.01, -0.02, 1234.57]


def decimals(path, column):
    with open(path, newline="") as f:
        return [Decimal(row[column]) for row in csv.DictReader(f) if row[column]]


@pytest.fixture(scope="module")
def off_tick_run(tmp_path_factory):
    """A backtest of the sample's bars moved off the tick: its run folder."""
    tmp_path = tmp_path_factory.mktemp("off_tick")
    options = []
    for key in SAMPLE_INSTRUMENTS:
        bars = load_sample(key)
        bars = bars[bars["trading_day"] <= "2023-12-29"]
        prices = ["open", "high", "low", "close"]
        bars = bars.assign(**{c: (bars[c] * 1.0000123).round(4) for c in prices})
        path = tmp_path / f"{key.replace('/', '_')}.csv"
        bars.reset_index()[["time", *prices, "volume"]].to_csv(path, index=False)
        options.append(f"--bars={key}={path}")
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as done:
        cli(["backtest", *options, "--out", str(out), "--quiet", "--no-report"])
    assert done.value.code == 0
    return out


def test_amounts_of_prices_off_the_tick_add_up_as_printed(off_tick_run):
    out = off_tick_run
    summary = json.loads((out / "summary.json").read_text())
    assert any("off the tick" in w for w in summary["warnings"])

    gross, fees = decimals(out / "trades.csv", "gross_pnl"), decimals(out / "trades.csv", "fees")
    net = decimals(out / "trades.csv", "net_pnl")
    assert len(gross) > 50 and any(g % Decimal("0.05") for g in gross)  # sub-tick P&L
    assert net == [g - f for g, f in zip(gross, fees, strict=True)]
    assert Decimal(str(summary["gross_pnl"])) == sum(gross)
    assert Decimal(str(summary["fees"])) == sum(fees)
    pv = decimals(out / "equity.csv", "pv")
    assert Decimal(str(summary["final_pv"])) == pv[-1]
    # The documented identity (docs/run-folder.md), to the cent.
    total = Decimal(str(summary["initial_capital"])) + sum(gross) - sum(fees)
    assert Decimal(str(summary["final_pv"])) == total
    for basket in summary["baskets"]:
        last = decimals(out / "equity.csv", f"equity_{basket['basket']}")[-1]
        assert Decimal(str(basket["final_equity"])) == last


MONEY_TOTALS = ("fees", "slippage", "gross_pnl", "net_pnl", "trade_fees", "day_pnl", "night_pnl")


def money_totals(figures):
    """Every money total in metrics.json, wherever it is nested."""
    if isinstance(figures, dict):
        for key, value in figures.items():
            if key in MONEY_TOTALS and value is not None:
                yield key, value
            yield from money_totals(value)
    elif isinstance(figures, list):
        for value in figures:
            yield from money_totals(value)


def test_the_metrics_money_totals_are_whole_cents_and_add_up(off_tick_run):
    # Added as binary floats, the fees read 16625.649999999998 where trades.csv says
    # 16,625.65, and a position closed at +0.10, +0.20 and -0.30 counted as a win.
    metrics = json.loads((off_tick_run / "metrics.json").read_text())
    totals = list(money_totals(metrics))
    assert len(totals) > 30
    for key, value in totals:
        assert Decimal(str(value)).as_tuple().exponent >= -2, (key, value)
    fees = decimals(off_tick_run / "fills.csv", "fee")
    assert Decimal(str(metrics["portfolio"]["fees"])) == sum(fees)
    day_and_night = metrics["sessions"][0]
    change = Decimal(str(metrics["portfolio"]["final"])) - Decimal(
        str(metrics["portfolio"]["initial"])
    )
    assert (
        Decimal(str(day_and_night["day_pnl"])) + Decimal(str(day_and_night["night_pnl"])) == change
    )


def test_the_decision_log_rounds_amounts_as_the_files_do():
    # format_cny rounded half to even (Decimal's format): a trade's -400.005 CNY was
    # -400.00 in decisions.log's CLOSE line and -400.01 in trades.csv.
    from twotier.money import format_cny

    for units in (8250, -8250, 10253598250, -4000050, 49, -49):
        assert format_cny(units).replace(",", "") == f"{to_cent(units) / 10_000:.2f}".replace(
            "-0.00", "0.00"
        )
