"""A portfolio driven below zero (a slippage of 10,000 ticks a fill): its risk degree is
infinite from then on (RULES.md 10.6 item 12), and every output stays what its format
allows: JSON without Infinity (null), a report, and a run folder that reads back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import twotier
from helpers.cli import invoke
from twotier.market.sample import load_sample

RUINOUS = [
    'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]',
    "execution.slippage_ticks=10000",
]


def strict_json(path) -> dict:
    def refuse(constant):
        raise AssertionError(f"{path.name}: {constant} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def ruined(tmp_path_factory):
    bars = load_sample("DCE/i")
    bars = bars[bars["trading_day"] <= pd.Timestamp("2023-03-31")]
    out = tmp_path_factory.mktemp("ruin") / "run"
    result = twotier.backtest(bars={"DCE/i": bars}, overrides=RUINOUS, out=out)
    return result, out


def test_the_risk_degree_is_infinite_once_pv_is_below_zero(ruined):
    result, _ = ruined
    below = (result.equity["pv"] <= 0).to_numpy()
    assert below.any()
    assert np.isinf(result.equity["risk_degree"].to_numpy()[below]).all()


def test_summary_and_metrics_are_json_with_null_for_the_infinite_risk_degree(ruined):
    _, out = ruined
    assert strict_json(out / "summary.json")["market"]["max_risk_degree"] is None
    strict_json(out / "metrics.json")
    assert (out / "report.html").stat().st_size > 0


def test_the_folder_reads_back_and_its_report_is_rebuilt(ruined, capsys):
    _, out = ruined
    again = twotier.load_run(out)
    assert np.isinf(again.equity["risk_degree"]).any()
    code, _, err = invoke(["report", out], capsys)
    assert code == 0, err


def test_forced_liquidation_fires_only_while_something_is_held_and_turnover_is_undefined(ruined):
    # Below zero with nothing left to close (the one position's close was decided before
    # the ruinous fill), the risk degree is still infinite; forced liquidation used to
    # "fire" at every such step, closing nothing, and the summary counted each.
    result, out = ruined
    liquidations = int((result.trades["reason"] == "forced_liquidation").sum())
    assert result.summary["market"]["forced_liquidations"] == liquidations
    assert not result.decisions["text"].str.contains("closing ;").any()
    # The turnover of a capital that is negative on average is undefined: null, not 0.
    assert strict_json(out / "metrics.json")["portfolio"]["turnover"] is None
