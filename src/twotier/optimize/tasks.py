"""The work a Dask worker does: Tier-1 packages of one instrument, and Tier-2 backtests of
a batch of parameter sets over one period (one at a time, sharing the tapes), each boiled
down to what a sweep keeps (metrics and the equity curve). Plain functions of their
arguments, so any worker gives the same answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from twotier.analysis.metrics import daily_values, headline
from twotier.config.model import Config
from twotier.engine.backtest import SharedTapes, instrument_signals, run_tier2
from twotier.engine.inputs import Environment
from twotier.report.series import day_text


def compute_packages(bars: pd.DataFrame, instrument: str, config: Config) -> pd.DataFrame:
    """Tier-1 on the whole series, as a backtest computes it (``instrument_signals``:
    causal across the rolls of a contract column, with the bars' market columns when the
    market rules are on)."""
    return instrument_signals(instrument, bars, config)


def backtest_window(
    config: Config,
    packages: Mapping[str, pd.DataFrame],
    env: Environment,
    start: str,
    end: str,
    keep_steps: bool,
    shared: SharedTapes | None = None,
) -> dict[str, Any]:
    """Tier-2 from trading day ``start`` to ``end``: starts flat with the initial capital
    (RULES.md 8.32). Returns metrics, the daily PV and, with ``keep_steps``, the PV of
    every step (what stitching out-of-sample windows needs). ``shared``: the tapes of
    the batch's earlier sets."""
    result = run_tier2(
        packages,
        config,
        instruments=env.instruments,
        calendar=env.calendar,
        start=start,
        end=end,
        shared=shared,
        decision_log=False,  # a sweep keeps metrics and the equity curve
    )
    return summarize_run(result.equity, result.summary, keep_steps)


def backtest_batch(
    window_task: Callable,
    configs: list[Config],
    packages: Mapping[str, pd.DataFrame],
    env: Environment,
    start: str,
    end: str,
    keep_steps: bool,
) -> list[dict[str, Any]]:
    """``window_task`` for each configuration in turn over the same packages and period,
    sharing the tapes their configurations shape alike. Each run's payload, or its
    failure as ``status``/``error``: one failing set does not fail the others."""
    shared = SharedTapes()
    outcomes = []
    for config in configs:
        try:
            payload = window_task(config, packages, env, start, end, keep_steps, shared=shared)
            outcomes.append({"status": "ok", "error": None, **payload})
        except Exception as exc:  # any error of the run itself, reported per set
            outcomes.append(failure(exc))
    return outcomes


def failure(exc: BaseException) -> dict[str, Any]:
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}


def summarize_run(equity: pd.DataFrame, summary: dict, keep_steps: bool) -> dict[str, Any]:
    initial = float(summary["initial_capital"])
    metrics = headline(equity, initial)
    metrics.update(
        trades=int(summary["trades"]),
        win_rate=summary["win_rate"],
        fees=float(summary["fees"]),
        open_positions=int(summary["open_positions"]),
        final_pv=float(summary["final_pv"]),
        initial_capital=initial,
    )
    daily = daily_values(equity)
    payload: dict[str, Any] = {
        "metrics": metrics,
        "daily": {"day": day_text(daily.index), "pv": daily.to_numpy(dtype=float).tolist()},
    }
    if keep_steps:
        payload["steps"] = {
            "time_ns": equity["time"].dt.as_unit("ns").astype("int64").tolist(),
            "trading_day": day_text(equity["trading_day"]),
            "pv": equity["pv"].to_numpy(dtype=float).tolist(),
        }
    return payload
