"""Several runs in one HTML page: their metrics side by side and their equity curves
(as growth of 1) and drawdowns overlaid."""

from __future__ import annotations

from pathlib import Path

from twotier.io import write_text_atomic
from twotier.report import charts, page, tables
from twotier.report import format as f

COMPARE_TITLE = "twotier runs compared"  # also how `compare --out` knows its own page


def compare_metrics_table(metrics_by_run: dict[str, dict]) -> str:
    header = ["", *metrics_by_run]
    portfolios = [m["portfolio"] for m in metrics_by_run.values()]
    period = [
        "period",
        *(f"{m['period']['start']} to {m['period']['end']}" for m in metrics_by_run.values()),
    ]
    rows = [period] + [
        [label, *(f.cell(p, key, fmt) for p in portfolios)] for label, key, fmt in f.METRIC_ROWS
    ]
    return tables.table(header, rows, "table-compare")


def compare_html(runs: dict[str, object], metrics_by_run: dict[str, dict]) -> str:
    figures = {"chart-compare": charts.compare_chart(runs)}
    body = [
        page.section("Metrics", "metrics", compare_metrics_table(metrics_by_run)),
        page.section("Equity curves", "charts", page.chart_div("chart-compare")),
    ]
    rates = {m.get("risk_free", 0.0) for m in metrics_by_run.values()}
    subtitle = " · ".join(metrics_by_run)
    if len(rates) == 1:  # compare gives every run one rate (cli.report)
        subtitle += f" · Sharpe and Sortino at a risk-free rate of {rates.pop():.2%}"
    nav = [("metrics", "metrics"), ("charts", "equity curves")]
    return page.document(COMPARE_TITLE, subtitle, body, figures, nav)


def write_compare(runs: dict[str, object], metrics_by_run: dict[str, dict], path) -> Path:
    path = Path(path)
    write_text_atomic(path, compare_html(runs, metrics_by_run))
    return path
