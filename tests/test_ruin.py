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


def test_forced_liquidations_are_counted_when_they_close_something(ruined):
    # Below zero with nothing left to close (the one position's close was decided before
    # the ruinous fill), the risk degree is infinite and forced liquidation fires at every
    # step (RULES.md 10.6 item 12), closing nothing; the summary counted each of them.
    result, _ = ruined
    fired = result.decisions[result.decisions["reason"] == "forced_liquidation"]
    assert (fired["kind"] == "BREAKER").sum() > 1
    assert fired["text"].str.endswith("nothing left to close; no entries for the rest of "
                                      "the trading day").all()  # fmt: skip
    liquidations = int((result.trades["reason"] == "forced_liquidation").sum())
    assert result.summary["market"]["forced_liquidations"] == liquidations == 0


def test_the_turnover_of_a_capital_negative_on_average_is_undefined(ruined):
    _, out = ruined
    assert strict_json(out / "metrics.json")["portfolio"]["turnover"] is None
