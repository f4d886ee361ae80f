"""A whole sweep: plan it (every set validated before anything runs), run it on a Dask
client, and turn the outcomes into the results table, the ranking and the walk-forward's
in- and out-of-sample figures (written out by outputs.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic_core import to_jsonable_python

from twotier.config.load import load_config, plain
from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.errors import ConfigError
from twotier.optimize.objective import Objective, objective_from
from twotier.optimize.results import (
    best_set,
    curve_metrics,
    ranking,
    results_table,
    stitch,
)
from twotier.optimize.runner import Progress, SweepRunner, SweepStats
from twotier.optimize.space import (
    BASE_SET,
    ParameterSet,
    SearchSpace,
    parameter_sets,
    validate,
)
from twotier.optimize.store import Outcome, ResultStore
from twotier.optimize.tasks import backtest_window
from twotier.optimize.windows import (
    Window,
    trading_days,
    untested_days,
    walk_forward,
    whole_period,
)


@dataclass
class SweepRequest:
    space: SearchSpace
    bars: dict[str, pd.DataFrame]  # 15-minute bars by instrument
    base: Config = field(default_factory=Config)
    objective: Objective | None = None  # default: the space file's [objective]
    start: str | None = None  # first trading day to trade (bars before only warm up)
    end: str | None = None
    walk_forward: str | None = None  # "rolling" or "anchored"
    train: int | None = None  # trading days
    test: int | None = None


@dataclass
class SweepPlan:
    sets: list[ParameterSet]  # set 0 is the base configuration
    configs: dict[int, Config]
    windows: list[Window]
    days: list[dt.date]
    bars: dict[str, pd.DataFrame]
    objective: Objective
    space: SearchSpace
    notes: list[str] = field(default_factory=list)


@dataclass
class SweepResult:
    plan: SweepPlan
    keys: list[str]
    outcomes: list[Outcome]
    table: pd.DataFrame
    ranked: pd.DataFrame
    best: int | None
    stats: SweepStats
    choices: dict[int, int] = field(default_factory=dict)
    oos: pd.DataFrame | None = None  # stitched curve of the chosen sets
    oos_base: pd.DataFrame | None = None  # ... and of the base configuration
    oos_metrics: dict[str, Any] | None = None
    oos_base_metrics: dict[str, Any] | None = None
    windows: pd.DataFrame | None = None  # per window: chosen set, in- and out-of-sample
    in_sample: dict[str, Any] | None = None  # the chosen sets' training figures, mean
    notes: list[str] = field(default_factory=list)

    @property
    def walk_forward(self) -> bool:
        return self.plan.windows[0].test is not None


def prepare_sets(space: SearchSpace, base: Config) -> tuple[list[ParameterSet], dict[int, Config]]:
    """The base configuration (set 0) and the space's sets, each validated as a whole:
    an error names the key and value, or the set, and why."""
    drawn = parameter_sets(space)
    validate(space, base, drawn)
    sets = [ParameterSet(BASE_SET, {}), *drawn]
    return sets, {s.set_id: load_config(base, s.overrides) for s in sets}


def plan_sweep(
    request: SweepRequest, prepared: tuple[list[ParameterSet], dict[int, Config]] | None = None
) -> SweepPlan:
    """Every parameter set and window, checked against the bars."""
    objective = request.objective or objective_from(
        request.space.objective, source=request.space.source
    )
    sets, configs = prepared or prepare_sets(request.space, request.base)
    _check_bars(configs, request.bars)
    days = trading_days(request.bars, request.start, request.end)
    notes = _unused_settings(configs) + _idle_instruments(request.bars, configs, days)
    if request.walk_forward:
        if request.train is None or request.test is None:
            raise ConfigError("--walk-forward needs --train DAYS and --test DAYS")
        windows = walk_forward(days, request.walk_forward, request.train, request.test)
        left = untested_days(days, windows)
        if left:
            notes.append(f"the last {left} trading day(s) are too few for a test window")
    else:
        windows = whole_period(days)
    last = (windows[-1].test or windows[-1].train).end
    used = {k for config in configs.values() for k in config.instruments}
    # Later bars cannot change a causal Tier-1; earlier ones are the warm-up.
    bars = {k: v[v["trading_day"].dt.date <= last] for k, v in request.bars.items() if k in used}
    return SweepPlan(sets, configs, windows, days, bars, objective, request.space, notes)


def _unused_settings(configs: dict[int, Config]) -> list[str]:
    """A note for each warning of ``MarketParams.unused`` and the parameter sets it holds
    for (the base configuration's is warned about as any run's, ``fit_baskets``)."""
    sets: dict[str, list[int]] = {}
    for set_id, config in configs.items():
        for warning in config.market.unused() if set_id != BASE_SET else []:
            sets.setdefault(warning, []).append(set_id)
    return [f"{w} (parameter set(s) {', '.join(map(str, ids))})" for w, ids in sets.items()]


def _idle_instruments(
    bars: dict[str, pd.DataFrame], configs: dict[int, Config], days: list
) -> list[str]:
    """A note for each traded instrument without a bar in the sweep's period: its basket
    trades nothing in any set (a backtest warns of it as ``idle_basket_warnings``)."""
    used = dict.fromkeys(k for config in configs.values() for k in config.instruments)
    first, last = pd.Timestamp(days[0]), pd.Timestamp(days[-1])
    return [
        f"{k}: no bar from {days[0]} to {days[-1]}: its basket trades nothing"
        for k in used
        if not bars[k]["trading_day"].between(first, last).any()
    ]


def _check_bars(configs: dict[int, Config], bars: dict[str, pd.DataFrame]) -> None:
    for set_id, config in configs.items():
        missing = [k for k in config.instruments if k not in bars]
        if missing:
            which = "the base configuration" if set_id == BASE_SET else f"parameter set {set_id}"
            raise ConfigError(f"no bars given for {', '.join(missing)} (baskets of {which})")


def run_sweep(
    request: SweepRequest,
    client,
    out_dir: str | Path,
    *,
    progress: Progress | None = None,
    share_tier1: bool = True,
    window_task: Callable = backtest_window,
    plan: SweepPlan | None = None,
) -> SweepResult:
    plan = plan or plan_sweep(request)
    runner = SweepRunner(
        client=client,
        sets=plan.sets,
        configs=plan.configs,
        windows=plan.windows,
        objective=plan.objective,
        bars=plan.bars,
        env=Environment.from_config(request.base),
        store=ResultStore(out_dir),
        share_tier1=share_tier1,
        window_task=window_task,
    )
    if progress is not None:
        runner.progress = progress
    outcomes = runner.run()
    return summarize(request, plan, outcomes, runner)


def summarize(
    request: SweepRequest, plan: SweepPlan, outcomes: list[Outcome], runner: SweepRunner
) -> SweepResult:
    keys = request.space.keys
    base_values = {k: config_value(request.base, k) for k in keys}
    table = results_table(outcomes, keys, base_values, plan.objective)
    ranked = ranking(table, keys, plan.objective)
    result = SweepResult(
        plan,
        keys,
        outcomes,
        table,
        ranked,
        best_set(ranked),
        runner.stats,
        dict(sorted(runner.choices.items())),
        notes=[*plan.notes, *runner.notes],
    )
    if result.walk_forward:
        _walk_forward_figures(result, float(request.base.portfolio.initial_capital))
    return result


def _walk_forward_figures(result: SweepResult, initial: float) -> None:
    tests = [o for o in result.outcomes if o.phase == "test" and o.ok]
    chosen = [o for o in tests if o.set_id == result.choices.get(o.window)]
    base = [o for o in tests if o.set_id == BASE_SET]
    result.oos = stitch(chosen, initial)
    result.oos_base = stitch(base, initial)
    result.oos_metrics = curve_metrics(result.oos, chosen, initial)
    result.oos_base_metrics = curve_metrics(result.oos_base, base, initial)
    result.windows = window_table(result)
    result.in_sample = {
        c.removeprefix("is_"): pd.to_numeric(result.windows[c]).mean()
        for c in result.windows.columns
        if c.startswith("is_")
    }


def window_table(result: SweepResult) -> pd.DataFrame:
    """Per walk-forward window: the periods, the chosen set, its in-sample (training)
    and out-of-sample (test) figures, and the base configuration's out-of-sample ones."""
    table = result.table.set_index(["set_id", "window", "phase"])
    objective = result.plan.objective.name
    rows = []
    for w in result.plan.windows:
        chosen = result.choices.get(w.index)
        row = {
            "window": w.index,
            "train_start": str(w.train.start),
            "train_end": str(w.train.end),
            "test_start": str(w.test.start),
            "test_end": str(w.test.end),
            "set_id": chosen,
        }
        for label, set_id, phase in (
            ("is", chosen, "train"),
            ("oos", chosen, "test"),
            ("base_oos", BASE_SET, "test"),
        ):
            found = (set_id, w.index, phase) in table.index
            figures = table.loc[(set_id, w.index, phase)] if found else None
            for metric in (objective, "total_return", "max_drawdown", "trades"):
                row[f"{label}_{metric}"] = None if figures is None else figures[metric]
        rows.append(row)
    return pd.DataFrame(rows)


def config_value(config: Config, key: str) -> Any:
    """The value of a dotted key in a configuration, or None. A generator's or a basket's
    own key that the configuration leaves unset has the shared section's value. As a
    configuration file holds it (``plain``: an amount of money as a number, as the space
    gives it, so that the results table's column has one type), dates as text."""
    parts = key.split(".")
    tree: Any = config.model_dump()
    if parts[:1] == ["generators"] and len(parts) > 3 and parts[2] == "params":
        tree, parts = config.tier1_params(parts[1]).model_dump(), parts[3:]
    elif parts[:2] == ["portfolio", "baskets"] and len(parts) > 4 and parts[2].isdigit():
        section = {"sizing": config.basket_sizing, "exits": config.basket_exits}.get(parts[3])
        if section is not None and int(parts[2]) < len(config.portfolio.baskets):
            tree, parts = section(int(parts[2])).model_dump(), parts[4:]
    for part in parts:
        if isinstance(tree, list | tuple) and part.isdigit() and int(part) < len(tree):
            tree = tree[int(part)]
        elif isinstance(tree, dict) and part in tree:
            tree = tree[part]
        else:
            return None
    return to_jsonable_python(plain(tree))
