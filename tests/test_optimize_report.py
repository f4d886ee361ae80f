"""The results table, the ranking and the report, from made-up outcomes (no cluster): the
figure that fits the number of varied keys, and the outputs written."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from twotier.config import load_config
from twotier.optimize.outputs import write_outputs
from twotier.optimize.report import objective_figure
from twotier.optimize.runner import SweepStats
from twotier.optimize.space import parse_space
from twotier.optimize.store import Outcome
from twotier.optimize.sweep import SweepRequest, plan_sweep, summarize

DAYS = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
BARS = {k: pd.DataFrame({"trading_day": DAYS}, index=DAYS) for k in ("DCE/i", "SHFE/cu", "DCE/m")}


def sweep_of(space: dict, score_of) -> SimpleNamespace:
    """A finished sweep whose set ``i`` has sharpe ``score_of(values)``."""
    request = SweepRequest(parse_space(space), BARS, load_config())
    plan = plan_sweep(request)
    outcomes = []
    for s in plan.sets:
        sharpe = score_of(s.values) if s.values else 0.0
        pv = [1_000_000.0, 1_000_000.0 + 1000 * sharpe, 1_000_000.0 + 2000 * sharpe]
        metrics = {
            "total_return": pv[-1] / 1e6 - 1, "annual_return": 0.0, "volatility": 0.1,
            "sharpe": sharpe, "sortino": sharpe, "calmar": sharpe, "max_drawdown": 0.01,
            "trading_days": 3, "trades": 5, "win_rate": 0.5, "fees": 10.0, "final_pv": pv[-1],
            "open_positions": 0, "initial_capital": 1e6,
        }  # fmt: skip
        daily = {"day": [f"{d:%Y-%m-%d}" for d in DAYS], "pv": pv}
        outcome = Outcome(f"k{s.set_id}", s.set_id, 0, "full", "2024-01-02", "2024-01-04",
                          dict(s.values), "ok", None, metrics, daily)  # fmt: skip
        outcomes.append(outcome)
    runner = SimpleNamespace(stats=SweepStats(), choices={}, notes=[])
    return summarize(request, plan, outcomes, runner)


def trace_types(result) -> list[str]:
    return [trace.type for trace in objective_figure(result).data]


def test_one_varied_key_is_drawn_as_a_line_over_its_values():
    result = sweep_of({"space": {"sizing.min_conviction": [0.3, 0.2, 0.25]}}, lambda v: 1.0)
    assert trace_types(result) == ["scatter"]
    figure = objective_figure(result)
    assert list(figure.data[0].x) == [0.2, 0.25, 0.3]  # ordered by value


def test_a_full_grid_of_two_keys_is_a_heat_map_and_a_random_pair_a_scatter():
    grid = {"space": {"sizing.min_conviction": [0.2, 0.3], "exits.stop_loss_above": [0.01, 0.02]}}
    assert trace_types(sweep_of(grid, lambda v: 1.0)) == ["heatmap"]
    drawn = {
        "search": {"method": "random", "samples": 5, "seed": 2},
        "space": {
            "sizing.min_conviction": {"random": {"low": 0.2, "high": 0.3}},
            "exits.stop_loss_above": {"random": {"low": 0.01, "high": 0.02}},
        },
    }
    assert trace_types(sweep_of(drawn, lambda v: 1.0)) == ["scatter"]


def test_three_or_more_keys_are_parallel_coordinates_with_text_values_as_ticks():
    space = {
        "space": {
            "sizing.min_conviction": [0.2, 0.3],
            "exits.stop_loss_above": [0.01, 0.02],
            "sizing.leverage_mode": ["smart", "fixed"],
        }
    }
    figure = objective_figure(sweep_of(space, lambda v: v["sizing.min_conviction"]))
    assert [t.type for t in figure.data] == ["parcoords"]
    mode_axis = figure.data[0].dimensions[2]
    assert list(mode_axis.ticktext) == ["fixed", "smart"]


def test_the_best_set_is_the_best_candidate_never_the_base(tmp_path):
    result = sweep_of(
        {"space": {"sizing.min_conviction": [0.2, 0.3, 0.4]}},
        lambda v: -abs(v["sizing.min_conviction"] - 0.3),  # every set scores below the base
    )
    assert result.ranked["set_id"].tolist() == [0, 2, 1, 3]
    assert result.best == 2
    paths = write_outputs(result, tmp_path)
    summary = json.loads(paths["summary"].read_text())
    assert summary["best_values"] == {"sizing.min_conviction": 0.3}
    assert summary["base"]["sizing.min_conviction"] == 0.2  # the base's own value
    table = pd.read_parquet(paths["results"])
    assert table["set_id"].tolist() == [0, 1, 2, 3]
    assert table["sharpe"].tolist() == pytest.approx([0.0, -0.1, 0.0, -0.1])
    report = paths["report"].read_text()
    assert "Best set against the base configuration" in report
