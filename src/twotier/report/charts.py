"""The report's charts as plotly figure dicts ({"data": [...], "layout": {...}}), drawn by
the plotly.js inlined in the page. Built as plain dicts rather than ``plotly.graph_objects``
figures because validation costs more than the rest of the report; the tests check each
one against plotly's schema instead."""

from __future__ import annotations

import pandas as pd

from twotier.analysis.benchmarks import growth, in_run
from twotier.report import series as s

REGIMES = {
    1: ("uptrend", "rgba(44,160,44,0.13)"),
    2: ("downtrend", "rgba(214,39,40,0.13)"),
    4: ("chaos", "rgba(255,127,14,0.20)"),
}
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


def _layout(title: str, height: int = 380, **extra) -> dict:
    return {
        "title": {"text": title, "x": 0.01},
        "height": height,
        "margin": {"l": 70, "r": 30, "t": 50, "b": 40},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"type": "date", "gridcolor": "#eee", "linecolor": "#999"},
        "yaxis": {"gridcolor": "#eee", "zerolinecolor": "#bbb"},
        **extra,
    }


def _line(x, y, name: str, color: str | None = None, **extra) -> dict:
    trace = {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name}
    if color:
        trace["line"] = {"color": color, "width": 1.5}
    return {**trace, **extra}


def equity_chart(run, metrics: dict) -> dict:
    """PV (with buy-and-hold of each instrument on the same capital, hidden until picked
    in the legend) over its drawdown."""
    equity, initial = run.equity, metrics["portfolio"]["initial"]
    pv = s.by_day(equity, "pv")
    days = s.day_text(pv.index)
    data = [_line(days, s.rounded(pv, 2), "portfolio value", COLORS[0])]
    for k, instrument in enumerate(run.config.instruments):
        packages = run.packages.get(instrument)
        if packages is None:
            continue
        held = growth(packages, equity) * initial
        data.append(
            _line(
                s.day_text(held.index),
                s.rounded(held, 2),
                f"buy and hold {instrument}",
                COLORS[(k + 1) % len(COLORS)],
                visible="legendonly",
                line={"dash": "dot", "width": 1, "color": COLORS[(k + 1) % len(COLORS)]},
            )
        )
    dd = s.daily_drawdown(equity)
    data.append(
        _line(
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
    layout = _with_drawdown_panel(_layout("Portfolio value and drawdown", height=520), "CNY")
    return {"data": data, "layout": layout}


def baskets_chart(run) -> dict:
    data = []
    for i, instrument in enumerate(run.config.instruments):
        equity = s.by_day(run.equity, f"equity_{i}")
        data.append(
            _line(
                s.day_text(equity.index),
                s.rounded(equity, 2),
                f"{i} {instrument}",
                COLORS[i % len(COLORS)],
            )
        )
    layout = _layout("Basket equity")
    layout["yaxis"]["title"] = {"text": "CNY"}
    return {"data": data, "layout": layout}


def risk_chart(run) -> dict:
    """Exposure and reserve (share of PV) on the left axis, leverage on the right."""
    equity = run.equity
    exposure = s.by_day(equity, "exposure", "max")
    days = s.day_text(exposure.index)
    data = [
        _line(days, s.rounded(exposure, 4), "exposure (day's max)", COLORS[0]),
        _line(
            days,
            s.rounded(s.by_day(equity, "reserve_held", "min"), 4),
            "cash reserve held (day's min)",
            COLORS[2],
        ),
        _line(
            days,
            s.rounded(s.by_day(equity, "reserve_target", "last"), 4),
            "reserve target",
            COLORS[2],
            line={"dash": "dash", "width": 1, "color": COLORS[2]},
        ),
        _line(
            days,
            s.rounded(s.by_day(equity, "leverage", "max"), 3),
            "leverage (day's max)",
            COLORS[1],
            yaxis="y2",
        ),
    ]
    layout = _layout("Exposure, leverage and cash reserve")
    layout["margin"]["r"] = 70
    layout["yaxis"].update(
        {"tickformat": ".0%", "title": {"text": "share of PV"}, "rangemode": "tozero"}
    )
    layout["yaxis2"] = {
        "overlaying": "y",
        "tickmode": "auto",
        "side": "right",
        "title": {"text": "leverage (x)"},
        "showgrid": False,
        "rangemode": "tozero",
    }
    return {"data": data, "layout": layout}


def _regime_traces(bars: pd.DataFrame) -> list[dict]:
    """One filled shape per regime (rectangles on a hidden 0-1 axis): one trace each, so
    that a legend click hides a regime and a thousand spans cost one SVG path."""
    spans = s.regime_spans(s.daily_regime(bars))
    traces = []
    for code, (name, color) in REGIMES.items():
        mine = spans[spans["regime"] == code]
        if mine.empty:
            continue
        left = pd.DatetimeIndex(mine["left"]).strftime("%Y-%m-%d %H:%M")
        right = pd.DatetimeIndex(mine["right"]).strftime("%Y-%m-%d %H:%M")
        x, y = [], []
        for a, b in zip(left, right, strict=True):
            x += [a, a, b, b, a, None]
            y += [0, 1, 1, 0, 0, None]
        traces.append(
            {
                "type": "scatter",
                "mode": "none",
                "x": x,
                "y": y,
                "fill": "toself",
                "fillcolor": color,
                "name": name,
                "hoverinfo": "skip",
            }
        )
    return traces


def _stamp(times: pd.Series) -> list[str]:
    return list(pd.DatetimeIndex(times).strftime("%Y-%m-%d %H:%M"))


TRADE_HOVER = (
    "trade %{customdata[0]} %{customdata[1]} %{customdata[2]}<br>"
    "leverage %{customdata[3]:.2f}x (effective %{customdata[4]:.2f}x)<br>"
    "%{customdata[5]}: %{customdata[6]:,.2f} CNY (%{customdata[7]:+.2%})<extra></extra>"
)


def _trade_data(trades: pd.DataFrame) -> list[list]:
    return [
        [
            int(t.trade_id),
            t.side,
            t.tier,
            float(t.leverage),
            float(t.effective_leverage),
            t.reason,
            float(t.net_pnl),
            float(t.return_pct),
        ]
        for t in trades.itertuples(index=False)
    ]


def _marker(x, y, custom, name: str, symbol: str, color: str) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": x,
        "y": y,
        "name": name,
        "customdata": custom,
        "hovertemplate": TRADE_HOVER,
        "yaxis": "y2",
        "marker": {
            "symbol": symbol,
            "size": 7,
            "color": color,
            "line": {"width": 1, "color": "#333"},
        },
    }


def trade_markers(trades: pd.DataFrame) -> list[dict]:
    """Entries (up: long, down: short; each position once) and exits (green: P&L > 0)."""
    out = []
    entries = trades.drop_duplicates("trade_id")
    for side, symbol in (("LONG", "triangle-up"), ("SHORT", "triangle-down")):
        mine = entries[entries["side"] == side]
        if len(mine):
            out.append(
                _marker(
                    _stamp(mine["entry_time"]),
                    s.rounded(mine["entry_price"], 4),
                    _trade_data(mine),
                    f"{side.lower()} entry",
                    symbol,
                    "#1f77b4",
                )
            )
    exits = trades[trades["reason"] != "open"]
    for won, color, name in ((True, "#2ca02c", "exit, profit"), (False, "#d62728", "exit, loss")):
        mine = exits[(exits["net_pnl"] > 0) == won]
        if len(mine):
            out.append(
                _marker(
                    _stamp(mine["exit_time"]),
                    s.rounded(mine["exit_price"], 4),
                    _trade_data(mine),
                    name,
                    "x",
                    color,
                )
            )
    return out


def price_chart(run, instrument: str) -> dict | None:
    packages = run.packages.get(instrument)
    if packages is None or packages.empty:
        return None
    bars = in_run(packages, run.equity)
    close = bars.groupby("trading_day", sort=True)["close"].last()
    data = _regime_traces(bars)
    data.append(
        _line(
            s.day_close_text(close.index),
            s.rounded(close, 4),
            "close (daily)",
            "#444",
            yaxis="y2",
            hovertemplate="%{y:,.2f}<extra>close</extra>",
        )
    )
    data += trade_markers(run.trades[run.trades["instrument"] == instrument])
    layout = _layout(f"{instrument}: price, trades and regime", height=440, hovermode="closest")
    layout["yaxis"] = {"range": [0, 1], "visible": False, "fixedrange": True}
    layout["yaxis2"] = {
        "overlaying": "y",
        "tickmode": "auto",
        "side": "left",
        "gridcolor": "#eee",
        "title": {"text": "price"},
    }
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
    layout = _layout(
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
    layout = _layout("Monthly returns", height=max(220, 90 + 40 * len(years)), hovermode="closest")
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
    layout = _layout(
        "Signal quality: mean forward return after a trigger", hovermode="closest", barmode="group"
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
        data.append(_line(days, s.rounded(pv, 5), name, color, legendgroup=name))
        dd.append(
            _line(
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
    layout = _with_drawdown_panel(_layout("Growth of 1 and drawdown", height=560), "growth of 1")
    return {"data": data + dd, "layout": layout}


def run_charts(run, metrics: dict) -> dict[str, dict]:
    """Every chart of a run's report by its div id, in page order."""
    charts = {
        "chart-equity": equity_chart(run, metrics),
        "chart-baskets": baskets_chart(run),
        "chart-risk": risk_chart(run),
    }
    for i, instrument in enumerate(run.config.instruments):
        price = price_chart(run, instrument)
        if price is not None:
            charts[f"chart-price-{i}"] = price
    charts["chart-exits"] = exits_chart(metrics)
    charts["chart-monthly"] = monthly_chart(metrics)
    quality = signals_chart(metrics)
    if quality is not None:
        charts["chart-signals"] = quality
    return charts
