"""The tear sheet's charts (docs/report.md, "Tear sheet"; formulas in docs/metrics.md):
rolling Sharpe and volatility, the distributions of daily returns and of trade P&L,
excursions (MAE/MFE) and holding times, long against short, day against night session.
Plain plotly figure dicts, like ``report.charts``."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from twotier.analysis import metrics as m
from twotier.analysis.benchmarks import rows_of
from twotier.analysis.rolling import ROLLING_DAYS, rolling_sharpe, rolling_volatility
from twotier.analysis.summary import day_ends, position_book, pv_series
from twotier.analysis.trades import PositionBook
from twotier.report import series as s
from twotier.report.charts import COLORS, chart_layout, line_trace

WIN, LOSS = "#2e7d32", "#c62828"
HOUR_EDGES = (0, 0.5, 1, 2, 4, 8, 16, 32, float("inf"))


def _bucket_names(edges) -> list[str]:
    names = []
    for low, high in itertools.pairwise(edges):
        if high == float("inf"):
            names.append(f"over {low:g} h")
        elif low == 0:
            names.append(f"up to {high:g} h")
        else:
            names.append(f"{low:g}-{high:g} h")
    return names


def _two_panes(layout: dict, titles: tuple[str, str], x_titles: tuple[str, str]) -> dict:
    """Two charts side by side: (x, y) on the left, (x2, y2) on the right."""
    layout["xaxis"] = {"domain": [0, 0.46], "title": {"text": x_titles[0]}, "gridcolor": "#eee"}
    layout["xaxis2"] = {
        "domain": [0.54, 1],
        "title": {"text": x_titles[1]},
        "gridcolor": "#eee",
        "anchor": "y2",
    }
    layout["yaxis2"] = {"anchor": "x2", "gridcolor": "#eee", "zerolinecolor": "#bbb"}
    layout["annotations"] = [
        {
            "text": text,
            "x": x,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "xanchor": "center",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 12},
        }
        for text, x in zip(titles, (0.23, 0.77), strict=True)
        if text
    ]
    return layout


def _daily_returns(run, metrics: dict) -> pd.Series:
    """The PV's daily returns: the metrics' own (``summary.pv_series``), where they are
    of the same initial value (they are, unless ``metrics`` are another run's)."""
    initial = metrics["portfolio"]["initial"]
    if initial == float(run.config.portfolio.initial_capital):
        return pv_series(run)[0]
    return m.daily_returns(run.equity, initial, ends=day_ends(run))


def rolling_chart(run, metrics: dict) -> dict | None:
    """Rolling Sharpe over rolling volatility, each window's value at its last day; the
    whole run's figures as dashed lines. None for a run shorter than one window."""
    returns, rate = _daily_returns(run, metrics), metrics["risk_free"]
    sharpe, vol = rolling_sharpe(returns, rate), rolling_volatility(returns)
    if sharpe.empty:
        return None
    days = s.day_text(sharpe.index)
    whole = metrics["portfolio"]
    data = [
        line_trace(days, s.rounded(sharpe, 3), f"Sharpe, {ROLLING_DAYS} days", COLORS[0]),
        line_trace(
            [days[0], days[-1]],
            [whole["sharpe"]] * 2,
            "Sharpe, whole run",
            COLORS[0],
            line={"dash": "dash", "width": 1, "color": COLORS[0]},
            hoverinfo="skip",
        ),
        line_trace(
            days,
            s.rounded(vol, 4),
            f"volatility, {ROLLING_DAYS} days",
            COLORS[1],
            yaxis="y2",
            hovertemplate="%{y:.1%}",
        ),
        line_trace(
            [days[0], days[-1]],
            [whole["volatility"]] * 2,
            "volatility, whole run",
            COLORS[1],
            yaxis="y2",
            line={"dash": "dash", "width": 1, "color": COLORS[1]},
            hoverinfo="skip",
        ),
    ]
    layout = chart_layout(
        f"Rolling Sharpe ratio and volatility ({ROLLING_DAYS} trading days)", height=460
    )
    layout["yaxis"].update(
        {"domain": [0.53, 1.0], "title": {"text": "Sharpe"}, "zerolinecolor": "#999"}
    )
    layout["yaxis2"] = {
        "domain": [0.0, 0.45],
        "title": {"text": "volatility"},
        "tickformat": ".0%",
        "gridcolor": "#eee",
        "anchor": "x",
        "rangemode": "tozero",
    }
    layout["xaxis"]["anchor"] = "y2"
    return {"data": data, "layout": layout}


def distributions_chart(run, metrics: dict, book: PositionBook) -> dict:
    """Histograms of the daily returns and of each closed position's net P&L
    (``book``: the run's ``summary.position_book``)."""
    returns = _daily_returns(run, metrics)
    pnl = pd.Series(book.net)
    data = [
        {
            "type": "histogram",
            "x": s.rounded(returns, 6),
            "nbinsx": 60,
            "name": "daily returns",
            "marker": {"color": COLORS[0]},
            "hovertemplate": "%{x}: %{y} days<extra></extra>",
        },
        {
            "type": "histogram",
            "x": s.rounded(pnl, 2),
            "nbinsx": 60,
            "name": "trade P&L",
            "marker": {"color": COLORS[4]},
            "xaxis": "x2",
            "yaxis": "y2",
            "hovertemplate": "%{x} CNY: %{y} trades<extra></extra>",
        },
    ]
    layout = chart_layout("Distributions", height=360, hovermode="closest", showlegend=False)
    titles = (
        f"daily returns: mean {returns.mean():+.3%}, median {returns.median():+.3%}",
        "net P&L per trade" + (f": median {pnl.median():,.0f} CNY" if len(pnl) else ""),
    )
    _two_panes(layout, titles, ("daily return", "net P&L (CNY)"))
    layout["xaxis"]["tickformat"] = ".1%"
    layout["yaxis"]["title"] = {"text": "days"}
    layout["yaxis2"]["title"] = {"text": "trades"}
    return {"data": data, "layout": layout}


def _won(table: pd.DataFrame) -> list[tuple[pd.DataFrame, str, str]]:
    return [
        (table[table["net_pnl"] > 0], "winners", WIN),
        (table[table["net_pnl"] <= 0], "losers", LOSS),
    ]


def excursions_chart(excursions: pd.DataFrame) -> dict | None:
    """Each closed position's return against how far it went against it (MAE) and for
    it (MFE) while open; the diagonals are exits at the worst and at the best."""
    done = excursions[~excursions["open"]]
    if done.empty:
        return None
    data = []
    for mine, name, color in _won(done):
        ids, returns = mine["trade_id"].tolist(), mine["return"].tolist()
        custom = [[int(t), float(r)] for t, r in zip(ids, returns, strict=True)]
        for x_column, axis, show in (("mae", "", True), ("mfe", "2", False)):
            data.append(
                {
                    "type": "scattergl" if len(done) > 3000 else "scatter",
                    "mode": "markers",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": show,
                    "x": s.rounded(mine[x_column], 6),
                    "y": s.rounded(mine["return"], 6),
                    "customdata": custom,
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                    "marker": {"color": color, "size": 5, "opacity": 0.6},
                    "hovertemplate": f"trade %{{customdata[0]}}: {x_column.upper()} %{{x:.2%}}, "
                    "return %{y:.2%}<extra></extra>",
                }
            )
    ends = ((float(done["mae"].min()), 0.0, ""), (0.0, float(done["mfe"].max()), "2"))
    for low, high, axis in ends:
        data.append(
            line_trace(
                [low, high],
                [low, high],
                "exit at the extreme",
                "#999",
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                line={"dash": "dot", "width": 1, "color": "#999"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    summary = f"median MAE {done['mae'].median():.2%}, median MFE {done['mfe'].median():.2%}"
    layout = chart_layout(f"Excursions while open ({summary})", height=420, hovermode="closest")
    _two_panes(
        layout,
        ("", ""),
        ("MAE: the worst move while open", "MFE: the best move while open"),
    )
    for axis in ("xaxis", "xaxis2", "yaxis", "yaxis2"):
        layout[axis]["tickformat"] = ".1%"
    layout["yaxis"]["title"] = {"text": "return"}
    return {"data": data, "layout": layout}


def holding_chart(excursions: pd.DataFrame) -> dict | None:
    """How long the closed positions were held: winners and losers, by hours of their
    instrument's bars (15 minutes each)."""
    done = excursions[~excursions["open"]]
    if done.empty:
        return None
    names = _bucket_names(HOUR_EDGES)
    data = []
    for mine, name, color in _won(done):
        which = np.digitize(mine["hours_held"].to_numpy(dtype=float), HOUR_EDGES[1:-1], right=True)
        counts = np.bincount(which, minlength=len(names))
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": names,
                "y": counts.tolist(),
                "marker": {"color": color},
                "hovertemplate": f"%{{x}}: %{{y}} {name}<extra></extra>",
            }
        )
    median = float(done["hours_held"].median())
    layout = chart_layout(
        f"Holding times (median {median:g} h of trading)", height=340, hovermode="closest"
    )
    layout["barmode"] = "group"
    layout["xaxis"] = {"type": "category", "title": {"text": "held (hours of its bars)"}}
    layout["yaxis"]["title"] = {"text": "trades"}
    return {"data": data, "layout": layout}


def sides_chart(run, book: PositionBook) -> dict | None:
    """Cumulative net P&L of the long positions and of the short ones, by the day of
    their last exit (``book``: the run's ``summary.position_book``)."""
    if not len(book.net):
        return None
    days = s.by_day(run.equity, "pv", ends=day_ends(run)).index
    steps = pd.DatetimeIndex(run.equity["time"]).as_unit("ns")
    where = rows_of(steps, pd.DatetimeIndex(book.last_exit).as_unit("ns"))
    exit_day = run.equity["trading_day"].to_numpy()[np.maximum(where, 0)]
    data = []
    for k, side in enumerate(("LONG", "SHORT")):
        mine = (book.closed.side == side) & (where >= 0)
        pnl = pd.Series(book.net[mine], index=exit_day[mine])
        total = pnl.groupby(level=0).sum().reindex(days, fill_value=0.0).cumsum()
        data.append(
            line_trace(
                s.day_text(days),
                s.rounded(total, 2),
                side.lower(),
                COLORS[k * 3],
                hovertemplate="%{y:,.2f} CNY",
            )
        )
    layout = chart_layout("Long against short: cumulative net P&L of closed positions")
    layout["yaxis"].update({"title": {"text": "CNY"}, "zerolinecolor": "#999"})
    return {"data": data, "layout": layout}


def sessions_chart(metrics: dict) -> dict:
    """P&L earned in the day session and in the night session: the portfolio and each
    basket."""
    rows = metrics["sessions"]
    names = [
        r["instrument"] if r["basket"] is None else f"{r['basket']} {r['instrument']}" for r in rows
    ]
    data = [
        {
            "type": "bar",
            "name": f"{session} session",
            "x": names,
            "y": [round(r[f"{session}_pnl"], 2) for r in rows],
            "marker": {"color": color},
            "hovertemplate": f"%{{x}}, {session}: %{{y:,.2f}} CNY<extra></extra>",
        }
        for session, color in (("day", "#fbc02d"), ("night", "#3949ab"))
    ]
    layout = chart_layout("Day session against night session: P&L", height=340, hovermode="closest")
    layout["barmode"] = "group"
    layout["xaxis"] = {"type": "category"}
    layout["yaxis"].update({"title": {"text": "CNY"}, "zerolinecolor": "#999"})
    return {"data": data, "layout": layout}


def tearsheet_charts(run, metrics: dict, excursions: pd.DataFrame) -> dict[str, dict]:
    """The tear sheet's charts by div id, in page order (those without data left out)."""
    book = position_book(run)  # the metrics' own, where they were made first
    charts = {
        "chart-rolling": rolling_chart(run, metrics),
        "chart-distributions": distributions_chart(run, metrics, book),
        "chart-excursions": excursions_chart(excursions),
        "chart-holding": holding_chart(excursions),
        "chart-sides": sides_chart(run, book),
        "chart-sessions": sessions_chart(metrics),
    }
    return {k: v for k, v in charts.items() if v is not None}
