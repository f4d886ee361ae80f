"""The results table, the ranking and the report, from made-up outcomes (no cluster): the
figure that fits the number of varied keys, the walk-forward's window chart on a scale
one short window cannot flatten, ranks in the stability chart, and a report that is the
same bytes every time."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from twotier.config import load_config
from twotier.optimize.outputs import write_outputs
from twotier.optimize.report import (
    objective_figure,
    report_html,
    robust_range,
    stability_figure,
    windows_figure,
)
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
    return [trace["type"] for trace in objective_figure(result)["data"]]


def test_one_varied_key_is_drawn_as_a_line_over_its_values():
    result = sweep_of({"space": {"sizing.min_conviction": [0.3, 0.2, 0.25]}}, lambda v: 1.0)
    assert trace_types(result) == ["scatter"]
    figure = objective_figure(result)
    assert figure["data"][0]["x"] == [0.2, 0.25, 0.3]  # ordered by value


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
    assert [t["type"] for t in figure["data"]] == ["parcoords"]
    mode_axis = figure["data"][0]["dimensions"][2]
    assert mode_axis["ticktext"] == ["fixed", "smart"]
    go.Figure(figure)  # a valid plotly figure


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


# --- walk-forward ------------------------------------------------------------------------

WF_DAYS = pd.bdate_range("2024-01-02", periods=12)
WF_BARS = {
    k: pd.DataFrame({"trading_day": WF_DAYS}, index=WF_DAYS) for k in ("DCE/i", "SHFE/cu", "DCE/m")
}
# Calmar of each set in each training window; window 2 is short and wild (87.9).
CALMAR = {1: [1.0, 1.2, 87.9, 0.8], 2: [0.9, 1.5, 3.0, 1.1], 3: [0.2, 0.1, 0.5, 0.3]}


def walked_sweep() -> SimpleNamespace:
    space = parse_space(
        {"space": {"sizing.min_conviction": [0.2, 0.3, 0.4]}, "objective": {"name": "calmar"}}
    )
    request = SweepRequest(space, WF_BARS, load_config(), walk_forward="rolling", train=3, test=2)
    plan = plan_sweep(request)
    by_value = {0.2: 1, 0.3: 2, 0.4: 3}
    outcomes, choices = [], {}
    for w in plan.windows:
        scores = {}
        for s in plan.sets:
            set_id = s.set_id
            calmar = (
                CALMAR[by_value[s.values["sizing.min_conviction"]]][w.index] if s.values else 0.5
            )
            scores[set_id] = calmar
            outcomes.append(_outcome(set_id, w.index, "train", w.train, dict(s.values), calmar))
        best = max((k for k in scores if k != 0), key=lambda k: scores[k])
        choices[w.index] = best
        for set_id in (best, 0):
            calmar = scores[set_id] / 2
            outcomes.append(_outcome(set_id, w.index, "test", w.test, {}, calmar, steps=True))
    runner = SimpleNamespace(stats=SweepStats(), choices=choices, notes=[])
    return summarize(request, plan, outcomes, runner)


def _outcome(set_id, window, phase, span, values, calmar, steps=False) -> Outcome:
    metrics = {
        "total_return": calmar / 100, "annual_return": 0.0, "volatility": 0.1, "sharpe": calmar,
        "sortino": calmar, "calmar": calmar, "max_drawdown": 0.01, "trading_days": 3,
        "trades": 5, "win_rate": 0.5, "fees": 10.0, "final_pv": 1e6 * (1 + calmar / 100),
        "open_positions": 0, "initial_capital": 1e6,
    }  # fmt: skip
    days = pd.bdate_range(span.start, span.end)
    curve = None
    if steps:
        times = [pd.Timestamp(f"{d:%Y-%m-%d} 09:00", tz="Asia/Shanghai").value for d in days]
        pv = list(np.linspace(1e6, metrics["final_pv"], len(days)))
        curve = {"time_ns": times, "trading_day": [f"{d:%Y-%m-%d}" for d in days], "pv": pv}
    daily = {"day": [f"{d:%Y-%m-%d}" for d in days], "pv": [1e6] * len(days)}
    return Outcome(
        f"{set_id}-{window}-{phase}", set_id, window, phase, str(span.start), str(span.end),
        values, "ok", None, metrics, daily, curve,
    )  # fmt: skip


def test_one_wild_window_does_not_flatten_the_window_chart():
    result = walked_sweep()
    figure = windows_figure(result)
    go.Figure(figure)
    high = figure["layout"]["yaxis"]["range"][1]
    assert high < 10  # the 87.9 does not set the scale
    in_sample = figure["data"][0]
    assert in_sample["customdata"][2] == pytest.approx(87.9)  # the true value, in the hover
    assert in_sample["y"][2] == pytest.approx(high)  # drawn at the edge
    assert in_sample["marker"]["symbol"][2] == "triangle-up"
    assert in_sample["text"][2] == "87.9"
    medians = [t for t in figure["data"] if str(t["name"]).startswith("median")]
    assert medians[0]["y"][0] == pytest.approx(np.median([1.0, 1.5, 87.9, 1.1]))


def test_robust_range_holds_the_bulk_and_zero():
    assert robust_range([1.0, 1.2, 0.9, 87.9]) == pytest.approx((-0.096, 1.296))
    low, high = robust_range([-2.0, -1.0, -1.5])
    assert low < -2.0 and high >= 0.0
    assert robust_range([0.0, 0.0, 0.0, 2.5])[1] > 2.5  # no deviation: nothing is far


def test_stability_shows_each_sets_rank_in_each_window():
    result = walked_sweep()
    figure = stability_figure(result)
    go.Figure(figure)
    rows = dict(zip(figure["data"][0]["y"], figure["data"][0]["z"], strict=True))
    assert rows["set 2"] == [2, 1, 2, 1]  # second in windows 0 and 2, first in 1 and 3
    assert rows["set 3"] == [3, 3, 3, 3]


def test_the_sweep_report_is_the_same_bytes_every_time(tmp_path):
    result = walked_sweep()
    first = write_outputs(result, tmp_path / "a")["report"].read_bytes()
    second = write_outputs(walked_sweep(), tmp_path / "b")["report"].read_bytes()
    assert first == second
    text = first.decode()
    for chart in ("chart-objective", "chart-windows", "chart-oos", "chart-stability"):
        assert f'<div id="{chart}" class="chart"></div>' in text
    assert "median of windows" in text and "twotier run report" not in text
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert report_html(result, summary).encode() == first
