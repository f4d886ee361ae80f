"""Objectives and constraints: what ranks first, and why."""

from __future__ import annotations

import math

import pytest

from twotier.errors import ConfigError
from twotier.optimize.objective import Objective, objective_from


def metrics(sharpe: float, max_drawdown: float = 0.05, trades: int = 10, **more) -> dict:
    return {"sharpe": sharpe, "max_drawdown": max_drawdown, "trades": trades, **more}


def ranked(objective: Objective, results: dict[int, dict | None]) -> list[int]:
    return sorted(results, key=lambda i: objective.sort_key(i, results[i]))


def test_higher_objective_ranks_first_and_ties_go_to_the_lower_set_id():
    results = {3: metrics(1.0), 1: metrics(2.0), 2: metrics(1.0)}
    assert ranked(Objective("sharpe"), results) == [1, 2, 3]


def test_a_set_breaking_a_constraint_ranks_below_every_set_that_keeps_them():
    objective = Objective("sharpe", max_drawdown=0.10, min_trades=5)
    results = {
        1: metrics(3.0, max_drawdown=0.12),  # best score, too deep a drawdown
        2: metrics(2.5, trades=4),  # too few trades
        3: metrics(0.1),
        4: metrics(-0.5),
    }
    assert ranked(objective, results) == [3, 4, 1, 2]
    assert objective.violations(results[1]) == ["max_drawdown 12.00% > 10.00%"]
    assert objective.violations(results[2]) == ["trades 4 < 5"]


def test_failed_runs_rank_last_and_nan_scores_below_real_ones():
    results = {1: None, 2: metrics(math.nan), 3: metrics(-3.0)}
    assert ranked(Objective("sharpe"), results) == [3, 2, 1]


@pytest.mark.parametrize("name", ["sortino", "calmar", "total_return"])
def test_each_objective_scores_its_own_metric(name):
    results = {1: metrics(5.0, **{name: 0.1}), 2: metrics(0.0, **{name: 0.2})}
    assert ranked(Objective(name), results) == [2, 1]


def test_command_line_values_take_precedence_over_the_space_file():
    table = {"name": "calmar", "max_drawdown": 0.2, "min_trades": 3}
    objective = objective_from(table, name="sortino", min_trades=10)
    assert objective == Objective("sortino", max_drawdown=0.2, min_trades=10)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"name": "profit"}, "unknown objective 'profit'"),
        ({"max_drawdown": 1.5}, "max_drawdown must be in (0, 1]"),
        ({"min_trades": -1}, "min_trades must be a whole number >= 0"),
        ({"min_trades": 2.5}, "min_trades must be a whole number >= 0, not 2.5"),
        ({"min_trades": True}, "min_trades must be a whole number >= 0, not True"),
        ({"max_drawdown": "ten"}, "max_drawdown must be in (0, 1], not 'ten'"),
        ({"target": 1}, "unknown field(s) target"),
    ],
)
def test_bad_objective_settings_are_refused(table, words):
    with pytest.raises(ConfigError) as info:
        objective_from(table)
    assert words in str(info.value)


def test_a_bad_command_line_value_is_blamed_on_the_command_line_not_the_file():
    with pytest.raises(ConfigError) as info:
        objective_from({"max_drawdown": 0.2}, max_drawdown=float("nan"), source="space.toml")
    assert str(info.value).startswith("the command line's objective (--objective, --max-dr")
    assert "max_drawdown must be in (0, 1]" in str(info.value)
    with pytest.raises(ConfigError, match=r"^space\.toml: \[objective\]: max_drawdown"):
        objective_from({"max_drawdown": 1.5}, max_drawdown=None, source="space.toml")
