"""From outcomes to answers: the results table (one row per parameter set and run), the
ranking of the sets, and the walk-forward's stitched out-of-sample curve.

The stitched curve chains the test windows' returns: each window starts flat with the
initial capital, so its PV relative to that capital is its growth, and the curve carries
the growth of the windows before it (window k's value = initial * growth of windows
0..k-1 * PV_k / initial).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from twotier.analysis.metrics import headline
from twotier.market.calendar import TIMEZONE
from twotier.optimize.objective import Objective
from twotier.optimize.space import BASE_SET
from twotier.optimize.store import Outcome

METRICS = (
    "total_return",
    "annual_return",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "trading_days",
    "trades",
    "win_rate",
    "fees",
    "final_pv",
)


def results_table(
    outcomes: list[Outcome],
    keys: list[str],
    base_values: Mapping[str, Any],
    objective: Objective,
) -> pd.DataFrame:
    """One row per run: its set, window and period, status, objective score, feasibility,
    every headline metric and the parameter values (the base configuration's own values
    on set 0's rows)."""
    rows = []
    for o in outcomes:
        metrics = o.metrics if o.ok else None
        values = base_values if o.set_id == BASE_SET else o.values
        row = {
            "set_id": o.set_id,
            "base": o.set_id == BASE_SET,
            "window": o.window,
            "phase": o.phase,
            "start": o.start,
            "end": o.end,
            "status": o.status,
            "error": o.error,
            "score": _finite(objective.score(metrics)),
            "feasible": objective.feasible(metrics),
        }
        row.update({m: (metrics or {}).get(m) for m in METRICS})
        row.update({key: values.get(key) for key in keys})
        rows.append(row)
    table = pd.DataFrame(rows)
    for m in METRICS:
        table[m] = pd.to_numeric(table[m]).astype("float64")
    for m in ("trading_days", "trades"):
        table[m] = table[m].astype("Int64")  # counts, missing for a failed run
    for key in keys:
        table[key] = _column(list(table[key]))
    return table


def ranking(table: pd.DataFrame, keys: list[str], objective: Objective) -> pd.DataFrame:
    """One row per set, best first. With walk-forward, a set's figures are the means over
    its training windows, and it is feasible only if it is in every one."""
    runs = table[table["phase"] != "test"]
    grouped = runs.groupby("set_id", sort=True)
    ranked = grouped[["score", *METRICS]].mean().astype("float64")  # NaN, never pd.NA
    ranked["score"] = grouped["score"].apply(lambda s: s.mean() if s.notna().all() else np.nan)
    ranked["feasible"] = grouped["feasible"].all()
    ranked["failed"] = grouped["status"].apply(lambda s: int((s != "ok").sum()))
    ranked["windows"] = grouped.size()
    ranked["base"] = grouped["base"].first()
    for key in keys:
        ranked[key] = grouped[key].first()
    ranked = ranked.reset_index()
    order = sorted(
        range(len(ranked)),
        key=lambda i: (
            ranked["failed"].iat[i] > 0,
            not ranked["feasible"].iat[i],
            -(_score_or_inf(ranked["score"].iat[i])),
            ranked["set_id"].iat[i],
        ),
    )
    ranked = ranked.iloc[order].reset_index(drop=True)
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    return ranked


def best_set(ranked: pd.DataFrame) -> int | None:
    """The best set of the space (the base configuration is a reference, not a
    candidate), or None if every set failed."""
    candidates = ranked[~ranked["base"] & (ranked["failed"] == 0)]
    return None if candidates.empty else int(candidates["set_id"].iloc[0])


def stitch(tests: list[Outcome], initial: float) -> pd.DataFrame:
    """The test windows' step curves chained into one out-of-sample curve."""
    frames, level = [], float(initial)
    for o in sorted(tests, key=lambda o: o.window):
        steps = o.steps or {"time_ns": [], "trading_day": [], "pv": []}
        pv = np.asarray(steps["pv"], dtype=float) / o.metrics["initial_capital"] * level
        frames.append(
            pd.DataFrame(
                {
                    "time": pd.to_datetime(steps["time_ns"], utc=True).tz_convert(TIMEZONE),
                    "trading_day": pd.to_datetime(steps["trading_day"]),
                    "pv": pv,
                    "window": o.window,
                    "set_id": o.set_id,
                }
            )
        )
        level = float(pv[-1]) if len(pv) else level
    if not frames:
        return pd.DataFrame(columns=["time", "trading_day", "pv", "window", "set_id"])
    return pd.concat(frames, ignore_index=True)


def curve_metrics(curve: pd.DataFrame, tests: list[Outcome], initial: float) -> dict[str, Any]:
    """Headline metrics of a stitched curve, and its windows' closed trades."""
    metrics: dict[str, Any] = headline(curve, float(initial)) if len(curve) else {}
    metrics["trades"] = sum(int(o.metrics["trades"]) for o in tests if o.ok)
    return metrics


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.nan


def _score_or_inf(value: float) -> float:
    return value if value == value else -math.inf


def _column(values: list) -> list:
    """Numbers stay numbers, strings strings; anything mixed or nested becomes its JSON
    text, so that the column has one Parquet type."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present):
        return values
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return values
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return [math.nan if v is None else float(v) for v in values]
    if all(isinstance(v, str) for v in present):
        return values
    return [None if v is None else json.dumps(v) for v in values]
