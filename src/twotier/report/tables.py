"""The report's tables as HTML: metrics side by side, benchmarks, drawdowns, exits,
signal quality and the trade list. Every value passes through ``html.escape``."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd

from twotier.report import format as f


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], table_id: str = "", numeric_from: int = 1
) -> str:
    """A table whose columns from ``numeric_from`` on (1-6) are right-aligned numbers: the
    page's style aligns them by the table's class, which keeps large tables small."""
    ident = f' id="{escape(table_id)}"' if table_id else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<table{ident} class="num-from-{numeric_from}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def metrics_table(metrics: dict) -> str:
    """Metrics down, the portfolio and each basket across."""
    columns = [metrics["portfolio"], *metrics["baskets"]]
    header = ["", "portfolio", *(f.basket_name(b) for b in metrics["baskets"])]
    rows = [[label, *(f.cell(c, key, fmt) for c in columns)] for label, key, fmt in f.METRIC_ROWS]
    return table(header, rows, "table-metrics")


def benchmarks_table(metrics: dict) -> str:
    held = metrics["benchmarks"]
    header = ["", "strategy", *(f"buy and hold {b['instrument']}" for b in held)]
    columns = [metrics["portfolio"], *held]
    rows = [
        [label, *(f.cell(c, key, fmt) for c in columns)] for label, key, fmt in f.BENCHMARK_ROWS
    ]
    return table(header, rows, "table-benchmarks")


def drawdowns_table(metrics: dict) -> str:
    rows = [
        [
            f.pct(d["depth"]),
            d["start"],
            d["trough"],
            d["recovery"] or "not recovered",
            f.count(d["days"]),
        ]
        for d in metrics["drawdowns"]
    ]
    header = ["depth", "peak", "trough", "recovery", "trading days"]
    return table(header, rows, "table-drawdowns", numeric_from=4)


def exits_table(metrics: dict) -> str:
    rows = [
        [
            r["reason"],
            f.count(r["count"]),
            f.pct(r["win_rate"]),
            f.money(r["net_pnl"]),
            f.money(r["average_pnl"]),
        ]
        for r in metrics["exit_reasons"]
    ]
    header = ["exit reason", "exits", "win rate", "net P&L", "average P&L"]
    return table(header, rows, "table-exits")


def signals_table(metrics: dict) -> str:
    rows = []
    for q in metrics["signals"]:
        for r in q["after_triggers"]:
            rows.append(
                [
                    q["instrument"],
                    r["side"],
                    f.count(r["horizon"]),
                    f.count(r["count"]),
                    f.pct(r["mean"], signed=True),
                    f.pct(r["median"], signed=True),
                    f.pct(r["hit_rate"]),
                ]
            )
    header = ["instrument", "side", "horizon (bars)", "triggers", "mean", "median", "hit rate"]
    return table(header, rows, "table-signals", numeric_from=2)


def confidence_table(metrics: dict) -> str:
    rows = []
    for q in metrics["signals"]:
        for r in q["by_confidence"]:
            rows.append(
                [
                    q["instrument"],
                    r["bucket"],
                    f.count(r["horizon"]),
                    f.count(r["count"]),
                    f.pct(r["mean"], signed=True),
                    f.pct(r["hit_rate"]),
                ]
            )
    header = ["instrument", "confidence", "horizon (bars)", "triggers", "mean", "hit rate"]
    return table(header, rows, "table-confidence", numeric_from=2)


TRADE_COLUMNS = (
    ("trade", "trade_id", f.text),
    ("basket", "basket", f.text),
    ("instrument", "instrument", f.text),
    ("side", "side", f.text),
    ("tier", "tier", f.text),
    ("contracts", "contracts", f.count),
    ("entry", "entry_time", None),
    ("entry price", "entry_price", f.ratio),
    ("exit", "exit_time", None),
    ("exit price", "exit_price", f.ratio),
    ("leverage", "leverage", f.times),
    ("effective", "effective_leverage", f.times),
    ("reason", "reason", f.text),
    ("return", "return_pct", f.signed_pct),
    ("net P&L", "net_pnl", f.money),
)


def _time_text(value) -> str:
    return f.MISSING if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def trades_table(trades: pd.DataFrame) -> str:
    """Every row of trades.csv (a derisk cut is its own row), with a filter box above."""
    rows = []
    for t in trades.to_dict("records"):
        rows.append(
            [
                _time_text(t[key]) if fmt is None else fmt(_plain(t[key]))
                for _, key, fmt in TRADE_COLUMNS
            ]
        )
    box = (
        '<input id="trade-filter" type="search" placeholder="filter trades, e.g. DCE/i or '
        'stop_loss" aria-label="filter trades">'
    )
    header = [label for label, _, _ in TRADE_COLUMNS]
    return box + '<div class="scroll">' + table(header, rows, "table-trades", 5) + "</div>"


def _plain(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
