"""The sweep's HTML report: one self-contained file (plotly.js inlined once, no network),
with the objective across the parameters, its stability across walk-forward windows,
the best set's equity against the base configuration's, and the out-of-sample curve."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from twotier.io import write_text_atomic
from twotier.optimize.space import BASE_SET

if TYPE_CHECKING:
    from twotier.optimize.sweep import SweepResult

TOP_SETS = 20
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; white-space: nowrap; }
.wide { overflow-x: auto; }
th { background: #f3f3f3; } .note { color: #555; } .failed { color: #b00; }
"""


def write_report(result: SweepResult, summary: dict[str, Any], path: str | Path) -> Path:
    figures = [objective_figure(result)]
    if result.walk_forward:
        figures += [stability_figure(result), in_out_figure(result), oos_figure(result)]
    else:
        figures.append(equity_figure(result))
    charts = [
        f.to_html(full_html=False, include_plotlyjs=i == 0, config={"displaylogo": False})
        for i, f in enumerate(figures)
    ]
    body = "\n".join([_header(result, summary), *charts, _failures(result)])
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>twotier sweep</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )
    write_text_atomic(path, page)
    return Path(path)


# --------------------------------------------------------------------------- text


def _header(result: SweepResult, s: dict[str, Any]) -> str:
    parts = [
        "<h1>Parameter sweep</h1>",
        f"<p>{s['parameter_sets']} parameter sets ({s['method']}, seed {s['seed']}) over "
        f"{', '.join(map(html.escape, result.keys))}; objective: "
        f"{html.escape(s['objective'])}; {len(result.plan.windows)} window(s).</p>",
        f"<p>Best set{' (mean of training windows)' * result.walk_forward}: {result.best} "
        f"<code>{html.escape(json.dumps(s['best_values']))}</code></p>",
    ]
    if result.walk_forward:
        parts.append("<h2>Out of sample (stitched test windows) against in sample</h2>")
        parts.append(_oos_table(result))
        parts.append(_frame_html(result.windows))
    parts.append(f"<h2>Ranking (top {TOP_SETS})</h2>")
    shown = ["rank", "set_id", "score", "feasible", "failed", *_metric_columns(), *result.keys]
    parts.append(_frame_html(result.ranked[shown].head(TOP_SETS)))
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in result.notes]
    return "\n".join(parts)


def _metric_columns() -> list[str]:
    return ["total_return", "sharpe", "sortino", "calmar", "max_drawdown", "trades"]


def _oos_table(result: SweepResult) -> str:
    rows = {
        "out of sample, chosen sets": result.oos_metrics or {},
        "out of sample, base configuration": result.oos_base_metrics or {},
        "in sample, chosen sets (mean of windows)": result.in_sample or {},
    }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return _frame_html(frame[[c for c in _metric_columns() if c in frame.columns]], index=True)


def _frame_html(frame: pd.DataFrame, index: bool = False) -> str:
    text = frame.to_html(index=index, float_format=lambda v: f"{v:.4g}", na_rep="-", border=0)
    return f'<div class="wide">{text}</div>'


def _failures(result: SweepResult) -> str:
    failed = result.table[result.table["status"] != "ok"]
    if failed.empty:
        return ""
    items = "".join(
        f"<li>set {r.set_id}, window {r.window} ({r.phase}): {html.escape(str(r.error))}</li>"
        for r in failed.itertuples()
    )
    return f'<h2 class="failed">Failed runs</h2><ul class="failed">{items}</ul>'


# --------------------------------------------------------------------------- figures


def objective_figure(result: SweepResult) -> go.Figure:
    """The objective over the varied keys: a line for one, a heat map for a full grid of
    two (else a scatter), parallel coordinates for more."""
    name = result.plan.objective.name
    sets = result.ranked[~result.ranked["base"] & result.ranked["score"].notna()]
    varied = [k for k in result.keys if sets[k].astype(str).nunique() > 1]
    title = f"{name} by parameter set" + (" (mean of training windows)" * result.walk_forward)
    if len(varied) == 1:
        fig = _one_key(sets, varied[0], name)
    elif len(varied) == 2 and _full_grid(sets, varied):
        fig = _heat_map(sets, varied, name)
    elif len(varied) == 2:
        fig = _scatter_two(sets, varied, name)
    elif len(varied) > 2:
        fig = _parallel(sets, varied, name)
    else:
        fig = go.Figure(go.Bar(x=sets["set_id"].astype(str), y=sets["score"]))
    base = result.ranked.loc[result.ranked["base"], "score"]
    if len(base) and base.notna().all():
        title += f"; base configuration: {base.iloc[0]:.3f}"
    return fig.update_layout(title=title, height=480)


def _one_key(sets: pd.DataFrame, key: str, name: str) -> go.Figure:
    ordered = sets.sort_values(key, kind="stable")
    colours = ordered["feasible"].map({True: "#1f77b4", False: "#bbbbbb"})
    return go.Figure(
        go.Scatter(
            x=ordered[key],
            y=ordered["score"],
            mode="markers+lines",
            marker={"color": colours, "size": 9},
            text=ordered["set_id"].map("set {}".format),
        )
    ).update_layout(xaxis_title=key, yaxis_title=name)


def _full_grid(sets: pd.DataFrame, keys: list[str]) -> bool:
    pairs = sets[keys].astype(str).drop_duplicates()
    return len(pairs) == sets[keys[0]].astype(str).nunique() * sets[keys[1]].astype(str).nunique()


def _heat_map(sets: pd.DataFrame, keys: list[str], name: str) -> go.Figure:
    grid = sets.pivot_table(index=keys[1], columns=keys[0], values="score", aggfunc="mean")
    return go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[str(v) for v in grid.columns],
            y=[str(v) for v in grid.index],
            colorscale="Viridis",
            colorbar={"title": name},
        )
    ).update_layout(xaxis_title=keys[0], yaxis_title=keys[1])


def _scatter_two(sets: pd.DataFrame, keys: list[str], name: str) -> go.Figure:
    return go.Figure(
        go.Scatter(
            x=sets[keys[0]],
            y=sets[keys[1]],
            mode="markers",
            marker={
                "color": sets["score"],
                "colorscale": "Viridis",
                "size": 10,
                "colorbar": {"title": name},
            },
            text=sets["set_id"].map("set {}".format),
        )
    ).update_layout(xaxis_title=keys[0], yaxis_title=keys[1])


def _parallel(sets: pd.DataFrame, keys: list[str], name: str) -> go.Figure:
    dimensions = [_axis(sets[k], k) for k in keys]
    dimensions.append({"label": name, "values": sets["score"]})
    return go.Figure(
        go.Parcoords(
            line={"color": sets["score"], "colorscale": "Viridis", "showscale": True},
            dimensions=dimensions,
        )
    )


def _axis(values: pd.Series, label: str) -> dict[str, Any]:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return {"label": label, "values": values}
    text = values.astype(str)
    levels = sorted(text.unique())
    codes = text.map({v: i for i, v in enumerate(levels)})
    return {
        "label": label,
        "values": codes,
        "tickvals": list(range(len(levels))),
        "ticktext": levels,
    }


def stability_figure(result: SweepResult) -> go.Figure:
    """Each of the best sets' training objective in every window: a set that is good in
    one window only is a fit to noise."""
    name = result.plan.objective.name
    top = result.ranked[~result.ranked["base"]]["set_id"].head(TOP_SETS).tolist()
    train = result.table[(result.table["phase"] == "train") & result.table["set_id"].isin(top)]
    grid = train.pivot_table(index="set_id", columns="window", values="score", aggfunc="first")
    grid = grid.reindex(top)
    return go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[f"window {w}" for w in grid.columns],
            y=[f"set {s}" for s in grid.index],
            colorscale="Viridis",
            colorbar={"title": name},
        )
    ).update_layout(
        title=f"Stability: training {name} of the top {len(top)} sets in each window",
        yaxis={"autorange": "reversed"},
        height=max(360, 22 * len(top) + 160),
    )


def in_out_figure(result: SweepResult) -> go.Figure:
    """The chosen set's objective in its training window against its test window."""
    name = result.plan.objective.name
    w = result.windows
    labels = [f"window {i}: set {s}" for i, s in zip(w["window"], w["set_id"], strict=True)]
    fig = go.Figure()
    for column, label in (
        (f"is_{name}", "in sample"),
        (f"oos_{name}", "out of sample"),
        (f"base_oos_{name}", "base, out of sample"),
    ):
        fig.add_trace(go.Bar(x=labels, y=pd.to_numeric(w[column]), name=label))
    return fig.update_layout(title=f"{name}: in sample against out of sample", barmode="group")


def equity_figure(result: SweepResult) -> go.Figure:
    """The best set's equity against the base configuration's over the whole period."""
    fig = go.Figure()
    for set_id, label in ((result.best, f"best (set {result.best})"), (BASE_SET, "base")):
        outcome = next((o for o in result.outcomes if o.set_id == set_id and o.ok), None)
        if outcome is not None:
            daily = outcome.daily
            fig.add_trace(go.Scatter(x=daily["day"], y=daily["pv"], mode="lines", name=label))
    return fig.update_layout(
        title="Best set against the base configuration (PV at each day's close)",
        yaxis_title="PV",
    )


def oos_figure(result: SweepResult) -> go.Figure:
    """The stitched out-of-sample curve, each test window marked with its chosen set,
    against the base configuration's stitched curve."""
    fig = go.Figure()
    for curve, label in ((result.oos, "chosen sets"), (result.oos_base, "base configuration")):
        if curve is not None and len(curve):
            x = curve["time"].dt.tz_localize(None)
            fig.add_trace(go.Scatter(x=x, y=curve["pv"], mode="lines", name=label))
    for w in result.plan.windows:
        fig.add_vrect(
            x0=str(w.test.start),
            x1=str(w.test.end),
            line_width=0,
            fillcolor="#888" if w.index % 2 else "#bbb",
            opacity=0.12,
            annotation_text=f"set {result.choices.get(w.index)}",
            annotation_position="top left",
        )
    return fig.update_layout(
        title="Out of sample: test windows chained (each starts flat)", yaxis_title="PV"
    )
