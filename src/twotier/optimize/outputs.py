"""The output folder of a sweep (beside DIR/results/, one file per finished run):

results.parquet     one row per parameter set and run
oos_equity.parquet  walk-forward: the stitched out-of-sample curves
summary.json        objective, best set, base, windows, failures
report.html         the report (self-contained, works offline)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from twotier.io import atomic_path, write_text_atomic
from twotier.json_text import json_text
from twotier.optimize.report import write_report
from twotier.optimize.space import BASE_SET, ParameterSet
from twotier.optimize.sweep import SweepResult
from twotier.optimize.windows import Window


def summary_of(result: SweepResult) -> dict[str, Any]:
    """What summary.json holds: the objective, the best set and the base configuration
    with their figures, the windows and chosen sets, out- and in-sample figures, failures
    and task counts."""
    plan, table = result.plan, result.table
    failed = table[table["status"] != "ok"]
    summary: dict[str, Any] = {
        "objective": plan.objective.describe(),
        "method": plan.space.method,
        "seed": plan.space.seed,
        "keys": result.keys,
        "parameter_sets": len(plan.sets) - 1,
        "windows": [_window_dict(w) for w in plan.windows],
        "best_set": result.best,
        "best_values": _values_of(plan.sets, result.best),
        "best": _ranked_row(result.ranked, result.best),
        "base": _ranked_row(result.ranked, BASE_SET),
        "failed": [
            {k: _plain(r[k]) for k in ("set_id", "window", "phase", "start", "end", "error")}
            | {"values": _values_of(plan.sets, int(r["set_id"]))}
            for _, r in failed.iterrows()
        ],
        "stats": vars(result.stats),
        "notes": result.notes,
    }
    if result.walk_forward:
        summary["chosen"] = {str(k): v for k, v in result.choices.items()}
        summary["oos"] = result.oos_metrics
        summary["oos_base"] = result.oos_base_metrics
        summary["in_sample_mean"] = {k: _plain(v) for k, v in result.in_sample.items()}
    return summary


def _window_dict(w: Window) -> dict[str, Any]:
    out = {"index": w.index, "train": [str(w.train.start), str(w.train.end)]}
    if w.test is not None:
        out["test"] = [str(w.test.start), str(w.test.end)]
    return out


def _values_of(sets: list[ParameterSet], set_id: int | None) -> dict[str, Any] | None:
    return next((dict(s.values) for s in sets if s.set_id == set_id), None)


def _ranked_row(ranked: pd.DataFrame, set_id: int | None) -> dict[str, Any] | None:
    rows = ranked[ranked["set_id"] == set_id]
    return None if rows.empty else {k: _plain(v) for k, v in rows.iloc[0].items()}


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN and pd.NA to None."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def write_outputs(result: SweepResult, out_dir: str | Path) -> dict[str, Path]:
    """The results table, the summary, the out-of-sample curves and the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.parquet", "summary": out / "summary.json"}
    _write_parquet(result.table, paths["results"])
    if result.walk_forward:
        paths["oos"] = out / "oos_equity.parquet"
        curves = [result.oos.assign(line="chosen"), result.oos_base.assign(line="base")]
        _write_parquet(pd.concat(curves, ignore_index=True), paths["oos"])
    summary = summary_of(result)
    write_text_atomic(paths["summary"], json_text(summary, indent=2, default=_plain) + "\n")
    paths["report"] = write_report(result, summary, out / "report.html")
    return paths


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
