"""The report's tables as HTML: metrics side by side, benchmarks, drawdowns, exits,
signal quality and the trade list. Every value passes through ``html.escape``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from html import escape

import numpy as np
import pandas as pd

from twotier.report import format as f
from twotier.run.stamps import stamps


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


def market_table(metrics: dict) -> str:
    """What the market rules did (RULES.md 10.5); empty where they were off."""
    market = metrics.get("market")
    if not market:
        return ""
    rows = [[label, f.cell(market, key, fmt)] for label, key, fmt in f.MARKET_ROWS]
    return "<h3>Price limits, volume and margin</h3>" + table(["", ""], rows, "table-market")


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


def sides_table(metrics: dict) -> str:
    """Long against short, for the portfolio and each basket."""
    rows = [
        [
            "portfolio" if r["basket"] is None else f"{r['basket']} {r['instrument']}",
            r["side"],
            f.count(r["trades"]),
            f.pct(r["win_rate"]),
            f.ratio(r["profit_factor"]),
            f.money(r["average_win"]),
            f.money(r["average_loss"]),
            f.money(r["expectancy"]),
            f.money(r["net_pnl"]),
        ]
        for r in metrics["sides"]
    ]
    header = ["", "side", "trades", "win rate", "profit factor", "average win", "average loss",
              "expectancy", "net P&L"]  # fmt: skip
    return table(header, rows, "table-sides", numeric_from=2)


def sessions_table(metrics: dict) -> str:
    rows = [
        [
            "portfolio" if r["basket"] is None else f"{r['basket']} {r['instrument']}",
            f.money(r["day_pnl"]),
            f.money(r["night_pnl"]),
            f.money(r["day_pnl"] + r["night_pnl"]),
        ]
        for r in metrics["sessions"]
    ]
    header = ["", "day session P&L", "night session P&L", "total"]
    return table(header, rows, "table-sessions")


def triggers_line(counts: dict) -> str:
    """``248 triggers: 181 traded; 2 blocked (chaos_block 2); 65 skipped (...)``."""

    def part(status: str) -> str:
        reasons = counts.get(f"{status}_by_reason") or {}
        detail = ", ".join(f"{reason} {n:,}" for reason, n in reasons.items())
        return f"{counts[status]:,} {status}" + (f" ({detail})" if detail else "")

    return f"{counts['triggers']:,} triggers: " + "; ".join(
        part(status) for status in ("traded", "blocked", "skipped")
    )


# (header, trades.csv column or a derived one, formatter, numeric)
TRADE_COLUMNS = (
    ("trade", "trade_id", f.text, True),
    ("basket", "basket_name", f.text, False),
    ("side", "side", f.text, False),
    ("tier", "tier", f.text, False),
    ("lots", "contracts", f.count, True),
    ("entry", "entry_time", None, False),
    ("entry price", "entry_price", f.ratio, True),
    ("exit", "exit_time", None, False),
    ("exit price", "exit_price", f.ratio, True),
    ("held (h)", "hours_held", f.ratio, True),
    ("lev.", "leverage", f.times, True),
    ("eff. lev.", "effective_leverage", f.times, True),
    ("reason", "reason", f.text, False),
    ("return", "return_pct", f.signed_pct, True),
    ("net P&L", "net_pnl", f.money, True),
    ("MAE", "mae", f.pct, True),
    ("MFE", "mfe", f.pct, True),
)
SIGNED = {"return_pct", "net_pnl"}
CELL_CLASSES = {"reason": "reason"}


def _time_text(value) -> str:
    return f.MISSING if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _times_text(values: pd.Series) -> list[str]:
    """``_time_text`` of a column: the run folder's text of the local wall times where the
    column holds times (formatting each Timestamp costs ten times more)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        return [_time_text(v) for v in values.tolist()]
    wall = values.dt.tz_localize(None) if values.dt.tz is not None else values
    return [text or f.MISSING for text in stamps(wall.to_numpy(), "m")]


def _column_cells(frame: pd.DataFrame, key: str, fmt, numeric: bool) -> list[str]:
    """The cells of a column, one per row. A column of times is written straight from
    the column: its values one by one would be Timestamps, made at a cost of their own."""
    if fmt is None:
        values, texts = None, _times_text(frame[key])
    else:
        values = _plain_values(frame[key])
        texts = list(map(fmt, values))
    names = " ".join(c for c in (CELL_CLASSES.get(key, ""), "n" if numeric else "") if c)
    if fmt is f.text:  # numbers and times have nothing to escape
        texts = list(map(_escaped(), texts))
    if key not in SIGNED:
        tag = _cell_tag(names)
        return [f"{tag}{t}</td>" for t in texts]
    # a signed column's cells marked positive or negative: the three tags made once
    plain, positive, negative = (_cell_tag(names, mark) for mark in ("", "pos", "neg"))
    return [
        f"{plain if v is None or v == 0 else positive if v > 0 else negative}{t}</td>"
        for v, t in zip(values, texts, strict=True)
    ]


def _cell_tag(names: str, mark: str = "") -> str:
    """A cell's opening tag with its classes (and a positive or negative mark)."""
    classes = " ".join(c for c in (names, mark) if c)
    return f'<td class="{classes}">' if classes else "<td>"


def _select(name: str, label: str, values: list[tuple[str, str]]) -> str:
    options = "".join(f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in values)
    return (
        f'<label>{escape(label)} <select data-filter="{escape(name)}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def trades_table(trades: pd.DataFrame, links: dict[int, tuple[str, int, int]] | None = None) -> str:
    """Every row of trades.csv (a derisk cut is its own row) with, where the report has
    them, ``hours_held``, ``mae`` and ``mfe`` columns; filters by basket, side and reason
    and a text box above. ``links``: trade id -> (signal view id, first bar, last bar),
    what a click on its row zooms to."""
    links = links or {}
    # columns as lists: a pandas column yields its values one at a time at a cost each
    basket_of, instrument_of = trades["basket"].tolist(), trades["instrument"].tolist()
    names = [f"{b} {k}" for b, k in zip(basket_of, instrument_of, strict=True)]
    frame = trades.assign(basket_name=names)
    for derived in ("hours_held", "mae", "mfe"):
        if derived not in frame.columns:
            frame[derived] = None
    columns = [_column_cells(frame, key, fmt, num) for _, key, fmt, num in TRADE_COLUMNS]
    keys = (frame[name].tolist() for name in ("trade_id", "basket", "side", "reason"))
    rows, quoted, cells_of = [], _escaped(), zip(*columns, strict=True)
    for trade_id, basket, side, reason, cells in zip(*keys, cells_of, strict=True):
        data = (
            f' data-basket="{quoted(str(basket))}" data-side="{quoted(str(side))}"'
            f' data-reason="{quoted(str(reason))}"'
        )
        link = links.get(int(trade_id))
        if link is not None:  # the bars are numbers: nothing to escape
            view, first, last = link
            data += f' data-view="{quoted(str(view))}" data-from="{first}" data-to="{last}"'
        rows.append(f"<tr{data}>{''.join(cells)}</tr>")
    head = "".join(
        f'<th data-type="{"num" if numeric else "text"}" title="sort">{escape(label)}</th>'
        for label, _, _, numeric in TRADE_COLUMNS
    )
    baskets = sorted({(int(b), name) for b, name in zip(basket_of, names, strict=True)})
    reasons = trades["reason"].astype(str).tolist()
    filters = (
        '<div class="filters">'
        + _select("basket", "basket", [(str(b), name) for b, name in baskets])
        + _select("side", "side", [("LONG", "long"), ("SHORT", "short")])
        + _select("reason", "reason", [(r, r) for r in sorted(set(reasons))])
        + '<input id="trade-filter" type="search" placeholder="search, e.g. 2024-03 or STRONG" '
        'aria-label="search the trades">'
        '<span id="trade-count" class="note"></span></div>'
    )
    body = "".join(rows)
    html_table = (
        f'<table id="table-trades"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
    return filters + '<div class="scroll">' + html_table + "</div>"


def _escaped():
    """``html.escape`` remembering its answers: a column of the trade list holds a few
    texts many times over."""
    return cache(escape)


def _plain_values(column: pd.Series) -> list:
    """``_plain`` of each value of a column; a column of numpy numbers, or of text with
    nothing missing, as its list (its values already plain), NaN as None."""
    if isinstance(column.dtype, pd.StringDtype) and not column.hasnans:
        return column.tolist()
    if not isinstance(column.dtype, np.dtype) or column.dtype.kind not in "iuf":
        return [_plain(v) for v in column.tolist()]
    values = column.tolist()
    if column.dtype.kind == "f" and column.hasnans:
        return [None if math.isnan(v) else v for v in values]
    return values


def _plain(value):
    """A cell's value as a plain Python one; None where it is missing (None, NaN, NaT)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value
