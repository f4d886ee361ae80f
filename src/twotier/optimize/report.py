"""The sweep's HTML report, in the run report's style and on its page (``report.page``:
one self-contained file, plotly.js inlined once, fixed chart ids, so the same sweep gives
the same bytes): headline cards, the objective across the parameters, and with
walk-forward the objective of each window in and out of sample, the stability of the
best sets across windows and the stitched out-of-sample curve; else the best set's
equity against the base configuration's. Then the ranking and any failed runs.

Per-window objectives are annualised over short windows, so one window can be far off
the others (a 40-day window's Calmar of 87.9): the window chart keeps its axis to the
bulk of the values and marks the ones beyond it at its edge with their value; its lines
and the table's summary row are medians; the stability chart colours each set by its
rank in the window.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twotier.io import write_text_atomic
from twotier.optimize.space import BASE_SET
from twotier.report import page
from twotier.report.charts import COLORS, chart_layout, line_trace
from twotier.report.tables import table

if TYPE_CHECKING:
    from twotier.optimize.sweep import SweepResult

TOP_SETS = 20
METRIC_COLUMNS = ("total_return", "sharpe", "sortino", "calmar", "max_drawdown", "trades")
OUTLIER_FENCE = 9.0  # median absolute deviations from the median: past it, a value is marked
NAV = [
    ("summary", "summary"),
    ("objective", "objective"),
    ("windows", "walk-forward"),
    ("ranking", "ranking"),
]


def write_report(result: SweepResult, summary: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, report_html(result, summary))
    return Path(path)


def report_html(result: SweepResult, summary: dict[str, Any]) -> str:
    figures = {"chart-objective": objective_figure(result)}
    body = [
        page.section("Summary", "summary", _cards(result, summary), *_notes(result)),
        page.section(
            "Objective across the parameters", "objective", page.chart_div("chart-objective")
        ),
    ]
    if result.walk_forward:
        figures |= {
            "chart-windows": windows_figure(result),
            "chart-stability": stability_figure(result),
            "chart-oos": oos_figure(result),
        }
        body.append(
            page.section(
                "Walk-forward: in sample against out of sample",
                "windows",
                _oos_table(result),
                page.chart_div("chart-windows"),
                page.chart_div("chart-oos"),
                page.chart_div("chart-stability"),
                page.folded("Every window: periods, chosen set, figures", _windows_table(result)),
            )
        )
    else:
        figures["chart-equity"] = equity_figure(result)
        body.append(
            page.section("Best set against the base", "windows", page.chart_div("chart-equity"))
        )
    body.append(page.section(f"Ranking (top {TOP_SETS})", "ranking", _ranking_table(result)))
    body.append(_failures(result))
    subtitle = (
        f"{summary['parameter_sets']} parameter sets ({summary['method']}, seed "
        f"{summary['seed']}) over {', '.join(result.keys)} · objective {summary['objective']} · "
        f"{len(result.plan.windows)} window(s)"
    )
    return page.document("twotier parameter sweep", subtitle, body, figures, NAV)


# --------------------------------------------------------------------------- values


def plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, NaN, infinities and pd.NA as None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def values(column) -> list:
    return [plain(v) for v in column]


def _number(value: Any, digits: int = 4) -> str:
    value = plain(value)
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}g}"


# --------------------------------------------------------------------------- text


def _cards(result: SweepResult, s: dict[str, Any]) -> str:
    name = result.plan.objective.name
    items = [
        ("parameter sets", f"{s['parameter_sets']:,}"),
        ("windows", f"{len(result.plan.windows):,}"),
        ("objective", s["objective"]),
        ("best set", "–" if result.best is None else f"set {result.best}"),
    ]
    best = s.get("best") or {}
    base = s.get("base") or {}
    mean = " (mean of windows)" * result.walk_forward
    items.append((f"best {name}{mean}", _number(best.get("score"))))
    items.append((f"base {name}{mean}", _number(base.get("score"))))
    if result.walk_forward:
        chosen, against = result.oos_metrics or {}, result.oos_base_metrics or {}
        items.append(("out of sample return", _pct(chosen.get("total_return"))))
        items.append(("base, out of sample", _pct(against.get("total_return"))))
    values_text = json.dumps(s["best_values"]) if s.get("best_values") else "–"
    return page.cards(items) + f"<p>Best set's values: <code>{html.escape(values_text)}</code></p>"


def _pct(value: Any) -> str:
    value = plain(value)
    return "–" if value is None else f"{value:+.2%}"


def _notes(result: SweepResult) -> list[str]:
    return [page.note(n) for n in result.notes]


def _oos_table(result: SweepResult) -> str:
    """Out of sample (stitched) for the chosen sets and the base, and the chosen sets'
    training figures: their median over the windows (a mean would be one window's)."""
    name = result.plan.objective.name
    windows = result.windows if result.windows is not None else pd.DataFrame()
    columns = list(dict.fromkeys([name, *METRIC_COLUMNS]))
    rows = []
    for label, figures in (
        ("out of sample, chosen sets", result.oos_metrics or {}),
        ("out of sample, base configuration", result.oos_base_metrics or {}),
    ):
        rows.append([label, *(_number(figures.get(c)) for c in columns)])
    medians = {}
    for c in columns:
        key = f"is_{c}"
        if key in windows:
            medians[c] = pd.to_numeric(windows[key]).median()
    rows.append(
        ["in sample, chosen sets (median of windows)", *(_number(medians.get(c)) for c in columns)]
    )
    return table(["", *columns], rows, "table-oos")


def _windows_table(result: SweepResult) -> str:
    frame = result.windows
    header = list(frame.columns)
    rows = [[_number(v) for v in row] for row in frame.itertuples(index=False)]
    return table(header, rows, "table-windows", numeric_from=6)


def _ranking_table(result: SweepResult) -> str:
    shown = ["rank", "set_id", "score", "feasible", "failed", *METRIC_COLUMNS, *result.keys]
    frame = result.ranked[[c for c in shown if c in result.ranked.columns]].head(TOP_SETS)
    rows = [[_number(v) for v in row] for row in frame.itertuples(index=False)]
    return '<div class="scroll">' + table(list(frame.columns), rows, "table-ranking") + "</div>"


def _failures(result: SweepResult) -> str:
    failed = result.table[result.table["status"] != "ok"]
    if failed.empty:
        return ""
    items = "".join(
        f"<li>set {r.set_id}, window {r.window} ({r.phase}): {html.escape(str(r.error))}</li>"
        for r in failed.itertuples()
    )
    return page.section("Failed runs", "failed", f'<ul class="warn">{items}</ul>')


# --------------------------------------------------------------------------- figures


def _figure(data: list[dict], title: str, height: int = 420, **layout) -> dict:
    base = chart_layout(title, height=height, hovermode="closest")
    base["xaxis"] = {"gridcolor": "#eee"}
    return {"data": data, "layout": base | layout}


def objective_figure(result: SweepResult) -> dict:
    """The objective over the varied keys: a line for one, a heat map for a full grid of
    two (else a scatter), parallel coordinates for more."""
    name = result.plan.objective.name
    sets = result.ranked[~result.ranked["base"] & result.ranked["score"].notna()]
    varied = [k for k in result.keys if sets[k].astype(str).nunique() > 1]
    title = f"{name} by parameter set" + (" (mean of training windows)" * result.walk_forward)
    base = result.ranked.loc[result.ranked["base"], "score"]
    if len(base) and base.notna().all():
        title += f"; base configuration: {base.iloc[0]:.3f}"
    if len(varied) == 1:
        return _one_key(sets, varied[0], name, title)
    if len(varied) == 2 and _full_grid(sets, varied):
        return _heat_map(sets, varied, name, title)
    if len(varied) == 2:
        return _scatter_two(sets, varied, name, title)
    if len(varied) > 2:
        return _parallel(sets, varied, name, title)
    bar = {"type": "bar", "x": [str(s) for s in sets["set_id"]], "y": values(sets["score"])}
    return _figure([bar], title)


def _one_key(sets: pd.DataFrame, key: str, name: str, title: str) -> dict:
    ordered = sets.sort_values(key, kind="stable")
    trace = {
        "type": "scatter",
        "mode": "markers+lines",
        "x": values(ordered[key]),
        "y": values(ordered["score"]),
        "marker": {
            "color": ["#1f77b4" if f else "#bbbbbb" for f in ordered["feasible"]],
            "size": 9,
        },
        "text": [f"set {s}" for s in ordered["set_id"]],
        "name": name,
    }
    figure = _figure([trace], title)
    figure["layout"]["xaxis"]["title"] = {"text": key}
    figure["layout"]["yaxis"]["title"] = {"text": name}
    return figure


def _full_grid(sets: pd.DataFrame, keys: list[str]) -> bool:
    pairs = sets[keys].astype(str).drop_duplicates()
    return len(pairs) == sets[keys[0]].astype(str).nunique() * sets[keys[1]].astype(str).nunique()


def _heat_map(sets: pd.DataFrame, keys: list[str], name: str, title: str) -> dict:
    grid = sets.pivot_table(index=keys[1], columns=keys[0], values="score", aggfunc="mean")
    trace = {
        "type": "heatmap",
        "z": [values(row) for row in grid.to_numpy()],
        "x": [str(v) for v in grid.columns],
        "y": [str(v) for v in grid.index],
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": name}},
    }
    figure = _figure([trace], title)
    figure["layout"]["xaxis"] = {"title": {"text": keys[0]}, "type": "category"}
    figure["layout"]["yaxis"] = {"title": {"text": keys[1]}, "type": "category"}
    return figure


def _scatter_two(sets: pd.DataFrame, keys: list[str], name: str, title: str) -> dict:
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": values(sets[keys[0]]),
        "y": values(sets[keys[1]]),
        "marker": {
            "color": values(sets["score"]),
            "colorscale": "Viridis",
            "size": 10,
            "colorbar": {"title": {"text": name}},
        },
        "text": [f"set {s}" for s in sets["set_id"]],
    }
    figure = _figure([trace], title)
    figure["layout"]["xaxis"]["title"] = {"text": keys[0]}
    figure["layout"]["yaxis"]["title"] = {"text": keys[1]}
    return figure


def _parallel(sets: pd.DataFrame, keys: list[str], name: str, title: str) -> dict:
    dimensions = [_axis(sets[k], k) for k in keys]
    dimensions.append({"label": name, "values": values(sets["score"])})
    trace = {
        "type": "parcoords",
        "line": {"color": values(sets["score"]), "colorscale": "Viridis", "showscale": True},
        "dimensions": dimensions,
    }
    figure = _figure([trace], title)
    figure["layout"]["margin"] = {"l": 70, "r": 70, "t": 100, "b": 40}
    return figure


def _axis(column: pd.Series, label: str) -> dict[str, Any]:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return {"label": label, "values": values(column)}
    text = column.astype(str)
    levels = sorted(text.unique())
    codes = text.map({v: i for i, v in enumerate(levels)})
    return {
        "label": label,
        "values": values(codes),
        "tickvals": list(range(len(levels))),
        "ticktext": levels,
    }


def robust_range(numbers: list[float]) -> tuple[float, float]:
    """An axis range holding the bulk of ``numbers``: those within OUTLIER_FENCE median
    absolute deviations of their median (all of them when that deviation is 0), and 0,
    with some room. The median and its deviation stay put however far one value is."""
    finite = np.array([v for v in numbers if v is not None and math.isfinite(v)], dtype=float)
    if not len(finite):
        return (-1.0, 1.0)
    middle = float(np.median(finite))
    deviation = float(np.median(np.abs(finite - middle)))
    inside = finite
    if deviation > 0:
        inside = finite[np.abs(finite - middle) <= OUTLIER_FENCE * deviation]
    low, high = min(float(inside.min()), 0.0), max(float(inside.max()), 0.0)
    room = 0.08 * max(high - low, 1e-9)
    return (low - room, high + room)


def windows_figure(result: SweepResult) -> dict:
    """Each window's objective: the chosen set in sample (training) and out of sample
    (test), and the base configuration out of sample; medians as dashed lines. Values
    beyond the axis are drawn at its edge as triangles, labelled with their value."""
    name = result.plan.objective.name
    w = result.windows
    labels = [f"window {i}: set {s}" for i, s in zip(w["window"], w["set_id"], strict=True)]
    series = [  # column, name, colour, symbol, where an off-axis value's label goes
        (f"is_{name}", "chosen set, in sample", COLORS[0], "circle", "middle left"),
        (f"oos_{name}", "chosen set, out of sample", COLORS[1], "diamond", "middle right"),
        (f"base_oos_{name}", "base, out of sample", "#777", "square", "bottom center"),
    ]
    columns = {column: values(pd.to_numeric(w[column])) for column, *_ in series}
    low, high = robust_range([v for c in columns.values() for v in c])
    data = []
    for column, label, color, symbol, place in series:
        y = columns[column]
        shown = [None if v is None else min(max(v, low), high) for v in y]
        outside = [v is not None and not (low <= v <= high) for v in y]
        data.append(
            {
                "type": "scatter",
                "mode": "markers+lines",
                "name": label,
                "x": labels,
                "y": shown,
                "customdata": y,
                "hovertemplate": "%{x}: %{customdata:.3f}<extra>" + label + "</extra>",
                "line": {"color": color, "width": 1, "dash": "dot"},
                "marker": {
                    "color": color,
                    "size": [13 if o else 9 for o in outside],
                    "symbol": [
                        ("triangle-up" if (v or 0) > high else "triangle-down") if o else symbol
                        for v, o in zip(y, outside, strict=True)
                    ],
                },
                "text": [f"{v:.1f}" if o else "" for v, o in zip(y, outside, strict=True)],
                "textposition": place,
                "textfont": {"color": color},
                "cliponaxis": False,
                "legendgroup": column,
            }
        )
        present = [v for v in y if v is not None]
        if present:
            median = float(np.median(present))
            data.append(
                line_trace(
                    [labels[0], labels[-1]],
                    [median] * 2,
                    f"median {median:.3f}",
                    color,
                    line={"color": color, "width": 1.5, "dash": "dash"},
                    legendgroup=column,
                    hoverinfo="skip",
                )
            )
    for trace in data:
        if trace.get("text") and any(trace["text"]):
            trace["mode"] = "markers+lines+text"
    figure = _figure(
        data,
        f"{name} by window: in sample against out of sample (dashed: medians; "
        "triangles: beyond the axis, with their value)",
        height=460,
    )
    figure["layout"]["xaxis"] = {"type": "category", "gridcolor": "#eee"}
    figure["layout"]["yaxis"].update(
        {"range": [low, high], "title": {"text": name}, "zerolinecolor": "#999"}
    )
    return figure


def stability_figure(result: SweepResult) -> dict:
    """The best sets' rank among all sets in each training window (1 = best there): a set
    that is good in one window only is a fit to noise. The objective is in the hover."""
    name = result.plan.objective.name
    top = result.ranked[~result.ranked["base"]]["set_id"].head(TOP_SETS).tolist()
    train = result.table[(result.table["phase"] == "train") & ~result.table["base"]]
    ranks = train.assign(rank=train.groupby("window")["score"].rank(ascending=False, method="min"))
    mine = ranks[ranks["set_id"].isin(top)]
    rank = mine.pivot_table(index="set_id", columns="window", values="rank", aggfunc="first")
    score = mine.pivot_table(index="set_id", columns="window", values="score", aggfunc="first")
    rank, score = rank.reindex(top), score.reindex(index=top, columns=rank.columns)
    trace = {
        "type": "heatmap",
        "z": [values(row) for row in rank.to_numpy()],
        "customdata": [values(row) for row in score.to_numpy()],
        "x": [f"window {c}" for c in rank.columns],
        "y": [f"set {s}" for s in rank.index],
        "colorscale": "Viridis",
        "reversescale": True,
        "zmin": 1,
        "colorbar": {"title": {"text": "rank"}},
        "hovertemplate": "%{y}, %{x}: rank %{z} (" + name + " %{customdata:.3f})<extra></extra>",
    }
    figure = _figure(
        [trace],
        f"Stability: rank of the top {len(top)} sets in each training window (1 = best)",
        height=max(360, 22 * len(top) + 160),
    )
    figure["layout"]["xaxis"] = {"type": "category"}
    figure["layout"]["yaxis"] = {"type": "category", "autorange": "reversed"}
    return figure


def equity_figure(result: SweepResult) -> dict:
    """The best set's equity against the base configuration's over the whole period."""
    data = []
    for k, (set_id, label) in enumerate(
        ((result.best, f"best (set {result.best})"), (BASE_SET, "base"))
    ):
        outcome = next((o for o in result.outcomes if o.set_id == set_id and o.ok), None)
        if outcome is not None and outcome.daily:
            daily = outcome.daily
            data.append(line_trace(list(daily["day"]), values(daily["pv"]), label, COLORS[k]))
    figure = _figure(data, "Best set against the base configuration (PV at each day's end)")
    figure["layout"]["xaxis"]["type"] = "date"
    figure["layout"]["yaxis"]["title"] = {"text": "PV"}
    return figure


def oos_figure(result: SweepResult) -> dict:
    """The stitched out-of-sample curve, each test window shaded and labelled with its
    chosen set, against the base configuration's stitched curve."""
    data = []
    for k, (curve, label) in enumerate(
        ((result.oos, "chosen sets"), (result.oos_base, "base configuration"))
    ):
        if curve is not None and len(curve):
            x = list(pd.DatetimeIndex(curve["time"]).strftime("%Y-%m-%d %H:%M"))
            data.append(line_trace(x, values(curve["pv"].round(2)), label, COLORS[k]))
    shapes, notes = [], []
    for w in result.plan.windows:
        start, end = f"{w.test.start:%Y-%m-%d}", f"{w.test.end:%Y-%m-%d} 23:59"
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": start,
                "x1": end,
                "y0": 0,
                "y1": 1,
                "fillcolor": "#888" if w.index % 2 else "#bbb",
                "opacity": 0.12,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "x": start,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "text": f"set {result.choices.get(w.index)}",
                "font": {"size": 10, "color": "#555"},
            }
        )
    figure = _figure(data, "Out of sample: test windows chained (each starts flat)")
    figure["layout"].update({"shapes": shapes, "annotations": notes})
    figure["layout"]["xaxis"]["type"] = "date"
    figure["layout"]["yaxis"]["title"] = {"text": "PV"}
    return figure
