"""The HTML report of one run (docs/report.md describes what it shows)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from twotier.analysis.metrics import daily_returns_table
from twotier.config.load import config_to_toml
from twotier.io import atomic_path, write_text_atomic
from twotier.report import charts, page, tables
from twotier.report import format as f

NAV = [
    ("summary", "summary"),
    ("charts", "charts"),
    ("markets", "prices and trades"),
    ("tables", "tables"),
    ("trades", "trades"),
    ("configuration", "configuration"),
]


def headline_cards(metrics: dict) -> str:
    p = metrics["portfolio"]
    return page.cards(
        [
            ("total return", f.signed_pct(p["total_return"])),
            ("annual return", f.signed_pct(p["annual_return"])),
            ("Sharpe", f.ratio(p["sharpe"])),
            ("max drawdown", f.pct(p["max_drawdown"])),
            ("trades", f.count(p["trades"])),
            ("win rate", f.pct(p["win_rate"])),
            ("profit factor", f.ratio(p["profit_factor"])),
            ("final value", f.money(p["final"])),
        ]
    )


def subtitle(run, metrics: dict) -> str:
    period = metrics["period"]
    instruments = ", ".join(run.config.instruments)
    return (
        f"{period['start']} to {period['end']} · {period['trading_days']:,} trading days · "
        f"{period['steps']:,} steps · {instruments} · risk-free rate "
        f"{f.pct(metrics['risk_free'])}"
    )


def report_html(run, metrics: dict) -> str:
    figures = charts.run_charts(run, metrics)
    prices = [chart_id for chart_id in figures if chart_id.startswith("chart-price-")]
    overview = ["chart-equity", "chart-baskets", "chart-risk"]
    warnings = "".join(f'<p class="warn">warning: {escape(w)}</p>' for w in run.warnings)
    body = [
        section_summary(metrics, warnings),
        page.section("Charts", "charts", *map(page.chart_div, overview)),
        page.section("Prices, trades and regimes", "markets", *map(page.chart_div, prices)),
        page.section(
            "Exits, months and signals",
            "tables",
            *(page.chart_div(c) for c in ("chart-exits", "chart-monthly") if c in figures),
            "<h3>Exits by reason</h3>",
            tables.exits_table(metrics),
            "<h3>Deepest drawdowns</h3>",
            tables.drawdowns_table(metrics),
            *(page.chart_div(c) for c in ("chart-signals",) if c in figures),
            "<h3>Signal quality: forward return after triggers</h3>",
            '<div class="pair">',
            tables.signals_table(metrics),
            tables.confidence_table(metrics),
            "</div>",
        ),
        page.section("Trades", "trades", tables.trades_table(run.trades)),
        page.section(
            "Effective configuration",
            "configuration",
            f"<pre>{escape(config_to_toml(run.config))}</pre>",
        ),
    ]
    return page.document("twotier run report", subtitle(run, metrics), body, figures, NAV)


def section_summary(metrics: dict, warnings: str) -> str:
    return page.section(
        "Summary",
        "summary",
        headline_cards(metrics),
        warnings,
        tables.metrics_table(metrics),
        "<h3>Beside buy and hold</h3>",
        tables.benchmarks_table(metrics),
    )


def write_report(run, path: str | Path, metrics: dict) -> Path:
    path = Path(path)
    write_text_atomic(path, report_html(run, metrics))
    return path


DAILY_RETURNS = ("daily_returns.csv", "daily_returns.parquet")


def write_daily_returns(result, folder: Path) -> None:
    """The portfolio's daily returns, ready for quantstats or pyfolio: CSV (``date,returns``,
    each return written so that it reads back to the same float) and Parquet (a ``date``
    index and a ``returns`` column)."""
    table = daily_returns_table(result.equity, float(result.config.portfolio.initial_capital))
    lines = [f"{day:%Y-%m-%d},{value!r}" for day, value in table["returns"].items()]
    write_text_atomic(folder / DAILY_RETURNS[0], "\n".join(["date,returns", *lines]) + "\n")
    with atomic_path(folder / DAILY_RETURNS[1]) as tmp:
        table.to_parquet(tmp, index=True)


def write_analysis(result, folder: str | Path, risk_free: float = 0.0) -> None:
    """The derived files of a run, written into its run folder after the data files
    (``twotier.run.writer.write_run``); also rebuilds them from a folder read back:
    metrics.json, the daily returns (CSV and Parquet) and report.html. ``risk_free`` is
    the yearly rate the Sharpe and Sortino ratios use."""
    folder = Path(folder)
    if not len(result.equity):
        return
    metrics = result.compute_metrics(risk_free)
    text = json.dumps(metrics, indent=2, allow_nan=False) + "\n"
    write_text_atomic(folder / "metrics.json", text)
    write_daily_returns(result, folder)
    write_report(result, folder / "report.html", metrics)
