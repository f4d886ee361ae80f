"""The compact HTML a notebook shows for a result: the key metrics of the portfolio and
each basket, no charts (``result.report(path)`` writes those)."""

from __future__ import annotations

from html import escape

from twotier.report import format as f
from twotier.report.tables import table


def summary_html(run, metrics: dict) -> str:
    period = metrics["period"]
    columns = [metrics["portfolio"], *metrics["baskets"]]
    header = ["", "portfolio", *(f.basket_name(b) for b in metrics["baskets"])]
    rows = [[label, *(f.cell(c, key, fmt) for c in columns)] for label, key, fmt in f.KEY_ROWS]
    caption = (
        f"<p><b>twotier backtest</b> {escape(period['start'])} to {escape(period['end'])}, "
        f"{period['trading_days']:,} trading days; <code>.metrics</code> has every figure, "
        "<code>.report(path)</code> writes the HTML report.</p>"
    )
    warnings = "".join(f"<p>warning: {escape(w)}</p>" for w in run.warnings)
    return f"<div>{caption}{warnings}{table(header, rows)}</div>"
