"""The report's charts as plotly figure dicts ({"data": [...], "layout": {...}}), drawn by
the plotly.js inlined in the page. Built as plain dicts rather than ``plotly.graph_objects``
figures because validation costs more than the rest of the report; the tests check each
one against plotly's schema instead."""

from __future__ import annotations

import pandas as pd

from twotier.analysis.benchmarks import growth
from twotier.analysis.rolled import roll_points
from twotier.analysis.summary import day_ends
from twotier.report import series as s

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
# Losses red, gains green (explicit stops: plotly.js knows fewer scale names than plotly.py).
RETURN_COLORS = [[0.0, "#c62828"], [0.5, "#f5f5f5"], [1.0, "#2e7d32"]]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HORIZON_NAMES = {1: "15 min", 4: "1 h", 16: "4 h", 64: "16 h"}
QUALITY_HORIZON = 16  # the horizon of the by-confidence chart
_QUALITY_HOVER = (
    "%{x}: %{y:+.3%} over %{customdata[0]} triggers, hit rate %{customdata[1]:.0%}<extra></extra>"
)


def _with_drawdown_panel(layout: dict, value_title: str) -> dict:
    """A chart of values above (x, y) and their drawdown below (x2, y2), sharing dates."""
    layout["yaxis"].update({"domain": [0.34, 1.0], "title": {"text": value_title}})
    layout["xaxis"].update({"anchor": "y", "showticklabels": False})
    layout["xaxis2"] = {"type": "date", "matches": "x", "anchor": "y2", "gridcolor": "#eee"}
    layout["yaxis2"] = {
        "domain": [0.0, 0.28],
        "tickformat": ".0%",
        "title": {"text": "drawdown"},
        "gridcolor": "#eee",
    }
    return layout


def chart_layout(title: str, height: int = 380, **extra) -> dict:
    """The title at the top left, the legend on a line of its own below it (clear of the
    tool bar at the top right)."""
    return {
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 1 - 8 / height,
            "yanchor": "top",
        },
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 72, "b": 40},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"type": "date", "gridcolor": "#eee", "linecolor": "#999"},
        "yaxis": {"gridcolor": "#eee", "zerolinecolor": "#bbb"},
        **extra,
    }


def line_trace(x, y, name: str, color: str | None = None, **extra) -> dict:
    trace = {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name}
    if color:
        trace["line"] = {"color": color, "width": 1.5}
    return {**trace, **extra}


def equity_chart(
    run,
    metrics: dict,
    in_run: dict[str, pd.DataFrame],
    closes: dict[str, tuple[float, pd.Series]] | None = None,
) -> dict:
    """PV (with buy-and-hold of each instrument on the same capital, rolled at its rolls
    and hidden until picked in the legend) over its drawdown; rolls marked. ``closes``:
    the bars' ``benchmarks.held_closes`` by instrument, where already made."""
    closes = closes or {}
    equity, initial, ends = run.equity, metrics["portfolio"]["initial"], day_ends(run)
    pv = s.by_day(equity, "pv", ends=ends)
    days = s.day_text(pv.index)
    data = [line_trace(days, s.rounded(pv, 2), "portfolio value", COLORS[0])]
    for k, instrument in enumerate(run.config.instruments):
        if run.packages.get(instrument) is None:
            continue
        bars = in_run.get(instrument)  # None where the packages are empty
        rolled = pd.Series(dtype=float) if bars is None else growth(bars, closes.get(instrument))
        held = rolled * initial
        data.append(
            line_trace(
                s.day_text(held.index),
                s.rounded(held, 2),
                f"buy and hold {instrument}",
                COLORS[(k + 1) % len(COLORS)],
                visible="legendonly",
                line={"dash": "dot", "width": 1, "color": COLORS[(k + 1) % len(COLORS)]},
            )
        )
    dd = s.daily_drawdown(equity, ends=ends)
    data.append(
        line_trace(
            days,
            s.rounded(-dd, 5),
            "drawdown",
            COLORS[3],
            fill="tozeroy",
            xaxis="x2",
            yaxis="y2",
            hovertemplate="%{y:.2%}",
        )
    )
    layout = _with_drawdown_panel(chart_layout("Portfolio value and drawdown", height=520), "CNY")
    marks = roll_marks(run, pv, in_run)
    if marks is not None:
        data.append(marks)
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": "rgba(109,76,65,0.45)", "width": 1, "dash": "dot"},
            }
            for day in dict.fromkeys(marks["x"])
        ]
    return {"data": data, "layout": layout}


def roll_marks(run, pv: pd.Series, in_run: dict[str, pd.DataFrame]) -> dict | None:
    """A marker on the PV line at each roll of each instrument (its trading day)."""
    x, y, text = [], [], []
    for instrument in dict.fromkeys(run.config.instruments):
        bars = in_run.get(instrument)
        if bars is None:
            continue
        for _, roll in roll_points(bars):
            day = pd.Timestamp(roll.trading_day)
            if day not in pv.index:
                continue
            x.append(day.strftime("%Y-%m-%d"))
            y.append(round(float(pv[day]), 2))
            text.append(
                f"{instrument} roll {roll.old_contract} → {roll.new_contract} "
                f"({roll.old_price:g} → {roll.new_price:g})"
            )
    if not x:
        return None
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "rolls",
        "x": x,
        "y": y,
        "text": text,
        "hovertemplate": "%{x}: %{text}<extra></extra>",
        "marker": {"symbol": "diamond", "size": 9, "color": "#6d4c41"},
    }


def instrument_pnl_chart(run) -> dict:
    """Each instrument's P&L through the run: its baskets' equity less their starting
    equity at each trading day's end (closed and open P&L, after fees)."""
    portfolio = run.config.portfolio
    totals: dict[str, pd.Series] = {}
    for i, basket in enumerate(portfolio.baskets):
        start = float(portfolio.basket_capital(i))
        pnl = s.by_day(run.equity, f"equity_{i}", ends=day_ends(run)) - start
        before = totals.get(basket.instrument)
        totals[basket.instrument] = pnl if before is None else before + pnl
    data = [
        line_trace(
            s.day_text(pnl.index),
            s.rounded(pnl, 2),
            instrument,
            COLORS[k % len(COLORS)],
            hovertemplate="%{y:,.2f} CNY",
        )
        for k, (instrument, pnl) in enumerate(totals.items())
    ]
    layout = chart_layout("P&L per instrument: its baskets' equity less their starting equity")
    layout["yaxis"].update({"title": {"text": "CNY"}, "zerolinecolor": "#999"})
    return {"data": data, "layout": layout}


STEP_POINTS = 3000  # runs with more steps than this are drawn one point per trading day


def _risk_series(run, column: str, how: str) -> tuple[list[str], pd.Series]:
    """A risk column per step for a short run, else its day's ``how`` (max, min, last)."""
    equity = run.equity
    if len(equity) <= STEP_POINTS:
        times = pd.DatetimeIndex(equity["time"]).strftime("%Y-%m-%d %H:%M")
        return list(times), equity[column].reset_index(drop=True)
    daily = s.by_day(equity, column, how, day_ends(run))
    return s.day_text(daily.index), daily


def risk_chart(run) -> dict:
    """Exposure, leverage and the cash reserve (and margin / PV where the run recorded
    margin) as small panes over one time axis."""
    equity = run.equity
    daily = len(equity) > STEP_POINTS
    of_day = (lambda word: f" (day's {word})") if daily else (lambda word: "")
    panes = [
        ("exposure", [("exposure", "max", "exposure" + of_day("max"), COLORS[0], {})], ".0%"),
        ("leverage", [("leverage", "max", "leverage" + of_day("max"), COLORS[1], {})], ".1f"),
        (
            "cash reserve",
            [
                ("reserve_held", "min", "reserve held" + of_day("min"), COLORS[2], {}),
                ("reserve_target", "last", "reserve target", COLORS[2], {"dash": "dash"}),
            ],
            ".0%",
        ),
    ]
    if "risk_degree" in equity.columns:
        panes.append(
            (
                "margin / PV",
                [("risk_degree", "max", "risk degree" + of_day("max"), COLORS[3], {})],
                ".0%",
            )
        )
    data, layout = (
        [],
        chart_layout(
            "Exposure, leverage and cash reserve" + (" (one point per trading day)" * daily),
            height=130 + 125 * len(panes),
        ),
    )
    gap = 0.06
    size = (1.0 - gap * (len(panes) - 1)) / len(panes)
    for k, (title, lines, tick) in enumerate(panes):
        axis = "" if k == 0 else str(k + 1)
        top = 1.0 - k * (size + gap)
        layout[f"yaxis{axis}"] = {
            "domain": [round(top - size, 4), round(top, 4)],
            "title": {"text": title, "font": {"size": 11}},
            "tickformat": tick,
            "gridcolor": "#eee",
            "rangemode": "tozero",
            "anchor": "x",
        }
        for column, how, name, color, dash in lines:
            x, values = _risk_series(run, column, how)
            digits = 4 if tick.endswith("%") else 3
            data.append(
                line_trace(
                    x,
                    s.rounded(values, digits),
                    name,
                    color,
                    yaxis=f"y{axis}",
                    line={"color": color, "width": 1.2, **dash},
                    hovertemplate=f"%{{y:{tick}}}",
                )
            )
    layout["xaxis"]["anchor"] = f"y{len(panes)}"
    return {"data": data, "layout": layout}


def exits_chart(metrics: dict) -> dict:
    reasons = metrics["exit_reasons"]
    names = [r["reason"] for r in reasons]
    pnl = [round(r["net_pnl"], 2) for r in reasons]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": names,
            "x": [r["count"] for r in reasons],
            "name": "exits",
            "marker": {"color": COLORS[0]},
            "xaxis": "x",
            "yaxis": "y",
            "customdata": [round(r["win_rate"], 4) for r in reasons],
            "hovertemplate": "%{y}: %{x} exits, win rate %{customdata:.0%}<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "y": names,
            "x": pnl,
            "name": "net P&L",
            "marker": {"color": ["#2ca02c" if v > 0 else "#d62728" for v in pnl]},
            "xaxis": "x2",
            "yaxis": "y2",
            "hovertemplate": "%{y}: %{x:,.2f} CNY<extra></extra>",
        },
    ]
    height = max(260, 60 + 28 * len(names))
    layout = chart_layout(
        "Exits by reason: count and net P&L", height=height, hovermode="closest", showlegend=False
    )
    layout["xaxis"] = {"domain": [0, 0.45], "title": {"text": "exits"}, "gridcolor": "#eee"}
    layout["xaxis2"] = {
        "domain": [0.55, 1],
        "title": {"text": "net P&L (CNY)"},
        "gridcolor": "#eee",
        "anchor": "y2",
    }
    layout["yaxis"] = {"autorange": "reversed", "automargin": True}
    layout["yaxis2"] = {
        "autorange": "reversed",
        "anchor": "x2",
        "matches": "y",
        "showticklabels": False,
    }
    return {"data": data, "layout": layout}


def monthly_chart(metrics: dict) -> dict:
    """Years down, months across, and the year's return in the last column."""
    table: dict[str, dict[int, float]] = {}
    for row in metrics["monthly_returns"]:
        year, month = row["month"].split("-")
        table.setdefault(year, {})[int(month)] = row["return"]
    years = sorted(table)
    columns = [*MONTHS, "Year"]
    z = [
        [table[y].get(m) for m in range(1, 13)] + [metrics["annual_returns"].get(y)] for y in years
    ]
    text = [["" if v is None else f"{v:+.1%}" for v in row] for row in z]
    data = [
        {
            "type": "heatmap",
            "x": columns,
            "y": years,
            "z": z,
            "text": text,
            "texttemplate": "%{text}",
            "colorscale": RETURN_COLORS,
            "zmid": 0,
            "hovertemplate": "%{y} %{x}: %{z:+.2%}<extra></extra>",
            "colorbar": {"tickformat": ".0%"},
            "xgap": 2,
            "ygap": 2,
        }
    ]
    layout = chart_layout(
        "Monthly returns", height=max(220, 90 + 40 * len(years)), hovermode="closest"
    )
    layout["xaxis"] = {"type": "category", "side": "top"}
    layout["yaxis"] = {"type": "category", "autorange": "reversed"}
    return {"data": data, "layout": layout}


def signals_chart(metrics: dict) -> dict | None:
    """Mean forward return after triggers (signed by direction): by horizon on the left,
    by confidence bucket (at 4 hours) on the right."""
    quality = metrics["signals"]
    if not quality:
        return None
    data = []
    for k, q in enumerate(quality):
        color = COLORS[k % len(COLORS)]
        rows = [r for r in q["after_triggers"] if r["side"] == "all"]
        data.append(
            {
                "type": "bar",
                "name": q["instrument"],
                "legendgroup": q["instrument"],
                "x": [HORIZON_NAMES.get(r["horizon"], r["horizon"]) for r in rows],
                "y": [r["mean"] for r in rows],
                "marker": {"color": color},
                "customdata": [[r["count"], r["hit_rate"]] for r in rows],
                "hovertemplate": _QUALITY_HOVER,
            }
        )
        rows = [r for r in q["by_confidence"] if r["horizon"] == QUALITY_HORIZON]
        data.append(
            {
                "type": "bar",
                "name": q["instrument"],
                "legendgroup": q["instrument"],
                "showlegend": False,
                "x": [r["bucket"] for r in rows],
                "y": [r["mean"] for r in rows],
                "marker": {"color": color},
                "customdata": [[r["count"], r["hit_rate"]] for r in rows],
                "hovertemplate": _QUALITY_HOVER,
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    layout = chart_layout(
        "Signal quality: mean forward return after a trigger",
        height=320,
        hovermode="closest",
        barmode="group",
    )
    layout["xaxis"] = {"domain": [0, 0.45], "type": "category", "title": {"text": "horizon"}}
    layout["xaxis2"] = {
        "domain": [0.55, 1],
        "type": "category",
        "anchor": "y2",
        "title": {"text": f"confidence at the trigger ({HORIZON_NAMES[QUALITY_HORIZON]})"},
    }
    layout["yaxis"] = {"tickformat": ".2%", "gridcolor": "#eee", "zerolinecolor": "#999"}
    layout["yaxis2"] = {
        "tickformat": ".2%",
        "anchor": "x2",
        "gridcolor": "#eee",
        "zerolinecolor": "#999",
    }
    return {"data": data, "layout": layout}


def compare_chart(runs: dict[str, object]) -> dict:
    """Several runs' PV as growth of 1 (so that different capital compares), and their
    drawdowns below."""
    data, dd = [], []
    for k, (name, run) in enumerate(runs.items()):
        color = COLORS[k % len(COLORS)]
        initial = float(run.config.portfolio.initial_capital)
        pv = s.by_day(run.equity, "pv") / initial
        days = s.day_text(pv.index)
        data.append(line_trace(days, s.rounded(pv, 5), name, color, legendgroup=name))
        dd.append(
            line_trace(
                days,
                s.rounded(-s.daily_drawdown(run.equity), 5),
                name,
                color,
                legendgroup=name,
                showlegend=False,
                xaxis="x2",
                yaxis="y2",
            )
        )
    layout = _with_drawdown_panel(
        chart_layout("Growth of 1 and drawdown", height=560), "growth of 1"
    )
    return {"data": data + dd, "layout": layout}


def run_charts(
    run,
    metrics: dict,
    in_run: dict[str, pd.DataFrame],
    closes: dict[str, tuple[float, pd.Series]] | None = None,
) -> dict[str, dict]:
    """The portfolio charts of a run's report by their div id (the tear sheet's are in
    ``report.tearsheet``, the signal views in ``report.signal_view``). ``in_run``: each
    instrument's packages of the run's steps (``analysis.summary.bars_in_run``);
    ``closes``: their ``benchmarks.held_closes``, where already made."""
    charts = {
        "chart-equity": equity_chart(run, metrics, in_run, closes),
        "chart-instruments": instrument_pnl_chart(run),
        "chart-risk": risk_chart(run),
        "chart-monthly": monthly_chart(metrics),
    }
    if metrics["exit_reasons"]:
        charts["chart-exits"] = exits_chart(metrics)
    quality = signals_chart(metrics)
    if quality is not None:
        charts["chart-signals"] = quality
    return charts
