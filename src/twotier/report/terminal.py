"""What the CLI prints after a run, and for ``compare`` and ``trades``: rich tables."""

from __future__ import annotations

import pandas as pd
from rich import box
from rich.table import Table

from twotier.report import format as f

EXIT_ROWS_SHOWN = 12


def key_metrics_table(metrics: dict) -> Table:
    period = metrics["period"]
    title = f"Backtest {period['start']} to {period['end']} ({period['trading_days']:,} days)"
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    portfolio = metrics["portfolio"]
    for label, key, fmt in f.KEY_ROWS:
        table.add_row(label, f.cell(portfolio, key, fmt))
    return table


def baskets_table(metrics: dict) -> Table:
    """One line per basket, narrow enough for an 80-column terminal."""
    held = {b["instrument"]: b for b in metrics["benchmarks"]}
    table = Table(title="Baskets", box=box.SIMPLE_HEAD)
    columns = ("basket", "equity", "return", "Sharpe", "max DD", "trades", "win rate", "B&H")
    for column in columns:
        table.add_column(column, justify="left" if column == "basket" else "right")
    for b in metrics["baskets"]:
        bench = held.get(b["instrument"], {})
        table.add_row(
            f.basket_name(b),
            f"{b['final']:,.0f}",
            _short_pct(b["total_return"], signed=True),
            f.ratio(b["sharpe"]),
            _short_pct(b["max_drawdown"]),
            f.count(b["trades"]),
            _short_pct(b["win_rate"]),
            _short_pct(bench.get("total_return"), signed=True),
        )
    table.caption = "B&H: buy and hold of the instrument over the same days"
    return table


def _short_pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return f.MISSING
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def exits_table(metrics: dict) -> Table:
    table = Table(title="Exits by reason")
    for column in ("reason", "exits", "win rate", "net P&L"):
        table.add_column(column, justify="left" if column == "reason" else "right")
    for r in metrics["exit_reasons"][:EXIT_ROWS_SHOWN]:
        table.add_row(r["reason"], f.count(r["count"]), f.pct(r["win_rate"]), f.money(r["net_pnl"]))
    return table


def run_summary(metrics: dict) -> list[Table]:
    tables = [key_metrics_table(metrics), baskets_table(metrics)]
    if metrics["exit_reasons"]:
        tables.append(exits_table(metrics))
    if metrics.get("market"):
        tables.append(market_table(metrics))
    return tables


def market_table(metrics: dict) -> Table:
    """What the market rules did (RULES.md 10.5)."""
    table = Table(title="Price limits, volume and margin", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, key, fmt in f.MARKET_ROWS:
        table.add_row(label, f.cell(metrics["market"], key, fmt))
    return table


def compare_table(metrics_by_run: dict[str, dict]) -> Table:
    """Key metrics down, runs across."""
    table = Table(title="Runs compared")
    table.add_column("metric", style="bold")
    for name in metrics_by_run:
        table.add_column(name, justify="right", overflow="fold")
    table.add_row("period", *(_period(m) for m in metrics_by_run.values()))
    for label, key, fmt in f.KEY_ROWS:
        table.add_row(label, *(f.cell(m["portfolio"], key, fmt) for m in metrics_by_run.values()))
    return table


def _period(metrics: dict) -> str:
    return f"{metrics['period']['start']} to {metrics['period']['end']}"


TRADE_COLUMNS = (
    ("id", "trade_id"),
    ("instrument", "instrument"),
    ("side", "side"),
    ("tier", "tier"),
    ("entry", "entry_time"),
    ("exit", "exit_time"),
    ("reason", "reason"),
    ("return", "return_pct"),
    ("net P&L", "net_pnl"),
)


def trades_table(trades: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for label, _ in TRADE_COLUMNS:
        left = label in ("instrument", "side", "tier", "reason")
        table.add_column(label, justify="left" if left else "right", overflow="fold")
    for t in trades.to_dict("records"):
        table.add_row(*(_trade_cell(key, t[key]) for _, key in TRADE_COLUMNS))
    return table


def _trade_cell(key: str, value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return f.MISSING
    if key.endswith("_time"):
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    if key == "return_pct":
        return f.signed_pct(float(value))
    if key == "net_pnl":
        return f.money(float(value))
    if key == "effective_leverage":
        return f.times(float(value))
    if key.endswith("price"):
        return f"{float(value):,.2f}"
    return str(value)
