"""The two ways a backtest starts, as the CLI and the Python API both start them: from
validated bar inputs (Tier-1 then Tier-2) or from a table of packages (Tier-2 alone),
once the caller has fitted the baskets to the data (``twotier.config.baskets``); the
fitting's warnings come first in the result's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from twotier.config.baskets import FittedBaskets, in_basket_order
from twotier.engine.backtest import (
    Progress,
    SignalsHook,
    run_backtest,
    run_tier2,
    split_packages,
)
from twotier.engine.continuous import delivery_warnings
from twotier.engine.inputs import (
    BarInput,
    Environment,
    loading_records,
    shared_days_warnings,
)
from twotier.market.calendar import place_bars
from twotier.market.rolls import RollSchedule
from twotier.run.result import BacktestResult
from twotier.tier1.package import package_origins


def backtest_bar_inputs(
    inputs: Mapping[str, BarInput],
    fitted: FittedBaskets,
    env: Environment,
    *,
    start,
    end,
    rolls: Mapping[str, RollSchedule],
    progress: Progress | None = None,
    on_signals: SignalsHook | None = None,
) -> BacktestResult:
    """Tier-1 and Tier-2 on loaded bars, with the configuration fitted to them. What the
    loader dropped or repaired goes into the summary. ``on_signals``: ``run_backtest``'s."""
    inputs = in_basket_order(inputs, fitted.config)
    frames = {k: v.bars for k, v in inputs.items()}
    result = run_backtest(
        frames,
        fitted.config,
        instruments=env.instruments,
        calendar=env.calendar,
        start=start,
        end=end,
        rolls=rolls,
        progress=progress,
        on_signals=on_signals,
    )
    result.warnings[:0] = [*fitted.warnings, *shared_days_warnings(frames)]
    result.summary.update(loading_records({k: v.loaded for k, v in inputs.items()}))
    return result


def tier2_on_table(
    table: pd.DataFrame,
    fitted: FittedBaskets,
    env: Environment,
    *,
    start,
    end,
    source: str,
    rolls: Mapping[str, RollSchedule] | None,
    paths: Sequence[str | Path] = (),
) -> BacktestResult:
    """Tier-2 alone on a validated package table, with the configuration fitted to its
    instruments; warned, as a backtest on bars is, about roll information that keeps a
    contract past its delivery deadline (RULES.md 11). ``paths``: the files or folders
    the table was read from, whose metadata says what made the packages."""
    split = split_packages(table, fitted.config, source)
    result = run_tier2(
        split,
        fitted.config,
        instruments=env.instruments,
        calendar=env.calendar,
        start=start,
        end=end,
        source=source,
        rolls=rolls,
    )
    result.warnings[:0] = fitted.warnings
    days = {k: _with_days(p, env.instruments[k], env.calendar) for k, p in split.items()}
    schedules = {k: (rolls or {}).get(k) for k in split}
    result.warnings.extend(delivery_warnings(days, schedules, fitted.config, env.calendar))
    result.package_origins = package_origins(paths, result.packages)
    return result


def _with_days(packages: pd.DataFrame, spec, calendar) -> pd.DataFrame:
    """A basket's packages as the delivery warnings read bars: each one's trading day, and
    its contract where every package names one."""
    times = pd.DatetimeIndex(packages["time"])
    day, _ = place_bars(times, spec, calendar, length=15)
    frame = pd.DataFrame({"trading_day": day}, index=times)
    if "contract" in packages.columns and packages["contract"].notna().all():
        frame["contract"] = packages["contract"].astype(str).to_numpy()
    return frame
