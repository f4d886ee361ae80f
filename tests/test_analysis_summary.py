"""All metrics of a real run (one year of the sample): complete, consistent with the run
summary, strict JSON, and the same from a run folder read back as from memory."""

from __future__ import annotations

import json

import pytest

from test_report_run import shared_run
from twotier.analysis.summary import compute_metrics
from twotier.api import load_run


@pytest.fixture(scope="module")
def run():
    return shared_run()


def test_metrics_are_strict_json_and_written_beside_the_report(run):
    on_disk = json.loads((run.folder / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(run.result.metrics, allow_nan=False))


def test_portfolio_and_baskets_agree_with_the_run_summary(run):
    m, s = run.result.metrics, run.result.summary
    assert m["portfolio"]["total_return"] == pytest.approx(s["total_return"])
    assert m["portfolio"]["fees"] == pytest.approx(s["fees"])
    for basket, summary in zip(m["baskets"], s["baskets"], strict=True):
        assert basket["instrument"] == summary["instrument"]
        assert basket["total_return"] == pytest.approx(summary["return"])
        assert basket["trades"] == summary["trades"]


def test_every_metric_of_the_issue_is_there(run):
    p = run.result.metrics["portfolio"]
    for key in (
        "total_return",
        "annual_return",
        "volatility",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_details",
        "win_rate",
        "profit_factor",
        "average_win",
        "average_loss",
        "expectancy",
        "longest_winning_streak",
        "longest_losing_streak",
        "time_in_market",
        "average_effective_leverage",
        "max_effective_leverage",
        "average_exposure",
        "turnover",
        "fees",
        "slippage",
    ):
        assert p[key] is not None, key
    m = run.result.metrics
    assert {b["instrument"] for b in m["benchmarks"]} == {"DCE/i", "SHFE/cu", "DCE/m"}
    assert len(m["monthly_returns"]) == 12 and list(m["annual_returns"]) == ["2023"]
    assert sum(r["count"] for r in m["exit_reasons"]) == int(
        (run.result.trades["reason"] != "open").sum()
    )
    assert all(q["triggers"] > 0 for q in m["signals"])


def test_monthly_returns_compound_to_the_total_return(run):
    m = run.result.metrics
    growth = 1.0
    for row in m["monthly_returns"]:
        growth *= 1 + row["return"]
    assert growth - 1 == pytest.approx(m["portfolio"]["total_return"])


def assert_close(a, b, path="metrics"):
    """Equal, numbers to 9 significant digits (the run folder's CSV files keep 10)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{k}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9), path
    else:
        assert a == b, path


def test_a_run_folder_read_back_gives_the_same_metrics(run):
    again = load_run(run.folder)
    assert_close(compute_metrics(again), run.result.metrics)
    assert len(again.decisions) == len(run.result.decisions)
    assert again.decisions["kind"].tolist() == run.result.decisions["kind"].tolist()
    assert again.decisions["reason"].tolist() == run.result.decisions["reason"].tolist()


def test_a_risk_free_rate_lowers_sharpe_and_is_recorded(run):
    at_rate = run.result.compute_metrics(0.05)
    assert at_rate["risk_free"] == 0.05
    assert at_rate["portfolio"]["sharpe"] < run.result.metrics["portfolio"]["sharpe"]
    assert at_rate["portfolio"]["total_return"] == run.result.metrics["portfolio"]["total_return"]
