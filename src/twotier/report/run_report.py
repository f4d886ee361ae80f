"""The HTML report of one run (docs/report.md describes what it shows)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from twotier.analysis.metrics import returns_table
from twotier.analysis.summary import derived_tables, pv_series, step_minutes
from twotier.config.load import config_to_toml
from twotier.io import WritesBehind, atomic_path, write_text_atomic
from twotier.json_text import float_reprs
from twotier.report import charts, page, tables, tearsheet
from twotier.report import format as f
from twotier.report.packing import resolved
from twotier.report.signal_view import instrument_view, trade_columns
from twotier.run.stamps import stamps
from twotier.run.writer import write_run

NAV = [
    ("summary", "summary"),
    ("portfolio", "portfolio"),
    ("signals", "signals"),
    ("tearsheet", "tear sheet"),
    ("exits", "exits and signal quality"),
    ("trades", "trades"),
    ("configuration", "configuration"),
]
SIGNAL_NOTE = (
    "Drag across the chart to zoom (down to single 15-minute bars), double-click for the "
    "whole run; a click on a row of the trades table zooms to that trade. Triangles are "
    "entries (blue, up long, down short), rings exits (green with a profit, red with a "
    "loss), dotted lines the stop and target while a position was open; in the Tier-1 pane "
    "each trigger is marked by what Tier-2 did with it: traded (green dot), blocked "
    "(red cross) or skipped (grey ring), with the reason in its tooltip. The band under "
    "the price is the regime (green uptrend, red downtrend, grey ranging, orange chaos)."
)


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


@dataclass
class SignalViews:
    """The signal views of a run by div id, and what the trades table needs of them."""

    payloads: dict[str, dict] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    links: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    hours: pd.Series | None = None


def signal_views(
    run,
    metrics: dict,
    in_run: dict[str, pd.DataFrame],
    triggers: dict[str, pd.DataFrame],
    steps: dict[str, np.ndarray] | None = None,
) -> SignalViews:
    """``in_run``, ``triggers`` and ``steps``: the run's ``DerivedTables.bars``,
    ``.triggers`` and ``.steps`` (where given, the bars' wall-clock minutes are read off
    the steps')."""
    out = SignalViews()
    hours = np.full(len(run.trades), np.nan)
    counts = {t["instrument"]: t for t in metrics.get("triggers", [])}
    instrument_of = run.trades["instrument"].to_numpy()  # compared as plain str: cheaper
    columns = trade_columns(run.trades)  # each instrument's rows picked from these
    for k, instrument in enumerate(dict.fromkeys(run.config.instruments)):
        bars = in_run.get(instrument)
        if bars is None or bars.empty:
            continue
        view_id = f"signal-{k}"
        rows = instrument_of == instrument
        minutes = None if steps is None else _bar_minutes(run, bars, steps[instrument])
        mine = {name: values[rows] for name, values in columns.items()}
        payload, links, held = instrument_view(
            instrument, mine, bars, triggers[instrument], later=True, minutes=minutes
        )
        out.payloads[view_id] = payload
        if instrument in counts:
            out.notes[view_id] = tables.triggers_line(counts[instrument])
        for trade, (a, b) in links.items():
            out.links[trade] = (view_id, a, b)
        hours[rows] = held
    out.hours = pd.Series(hours, index=run.trades.index)
    return out


def _bar_minutes(run, bars: pd.DataFrame, rows: np.ndarray) -> np.ndarray | None:
    """The wall-clock minutes of an instrument's bars of the run (``rows``: theirs among
    the steps), taken from the steps' (``summary.step_minutes``), whose conversion to the
    wall clock is made once for the run; None where the bars' time zone is another."""
    if getattr(bars["time"].dtype, "tz", None) != getattr(run.equity["time"].dtype, "tz", None):
        return None
    return step_minutes(run)[rows]


def trades_with_excursions(run, views: SignalViews, moves: pd.DataFrame) -> pd.DataFrame:
    """trades.csv's rows with hours held (per row) and MAE/MFE (of their position): the
    join on trade id made on arrays, each position found in the excursions' ids (NaN
    where it has none), as ``join(..., on="trade_id")`` gives them."""
    if not moves["trade_id"].is_unique:
        by_trade = moves.set_index("trade_id")[["mae", "mfe"]]
        return run.trades.assign(hours_held=views.hours).join(by_trade, on="trade_id")
    row = pd.Index(moves["trade_id"]).get_indexer(run.trades["trade_id"])
    found = row >= 0

    def of_position(column: str) -> np.ndarray:
        values = moves[column].to_numpy(dtype=float)
        return np.where(found, values[np.maximum(row, 0)] if len(values) else np.nan, np.nan)

    return run.trades.assign(hours_held=views.hours, mae=of_position("mae"), mfe=of_position("mfe"))


def report_html(run, metrics: dict) -> str:
    return page.joined(report_parts(run, metrics))


def report_parts(run, metrics: dict) -> list[str | bytes]:
    """The run's report page in its parts, in order (``page.document_parts``)."""
    derived = derived_tables(run)  # those the metrics were made of
    in_run, moves = derived.bars, derived.moves
    # first: compressed meanwhile
    views = signal_views(run, metrics, in_run, derived.triggers, derived.steps)
    figures = charts.run_charts(run, metrics, in_run, derived.closes)
    figures |= tearsheet.tearsheet_charts(run, metrics, moves)
    warnings = "".join(f'<p class="warn">warning: {escape(w)}</p>' for w in run.warnings)

    def shown(*ids: str) -> list[str]:
        return [page.chart_div(c) for c in ids if c in figures]

    signal_parts = [page.note(SIGNAL_NOTE)]
    for view_id in views.payloads:
        signal_parts.append(page.chart_div(view_id))
        if view_id in views.notes:
            signal_parts.append(page.note(views.notes[view_id]))
    body = [
        section_summary(metrics, warnings),
        page.section(
            "Portfolio", "portfolio", *shown("chart-equity", "chart-instruments", "chart-risk")
        ),
        page.section("Signals and trades", "signals", *signal_parts),
        page.section(
            "Tear sheet",
            "tearsheet",
            *shown("chart-rolling", "chart-distributions", "chart-excursions", "chart-holding"),
            *shown("chart-sides"),
            tables.sides_table(metrics),
            *shown("chart-sessions"),
            tables.sessions_table(metrics),
            *shown("chart-monthly"),
        ),
        page.section(
            "Exits and signal quality",
            "exits",
            *shown("chart-exits"),
            "<h3>Exits by reason</h3>",
            tables.exits_table(metrics),
            "<h3>Deepest drawdowns</h3>",
            tables.drawdowns_table(metrics),
            *shown("chart-signals"),
            page.folded(
                "Signal quality tables: forward return after triggers, by side and horizon, "
                "and by confidence",
                '<div class="pair">',
                tables.signals_table(metrics),
                tables.confidence_table(metrics),
                "</div>",
            ),
        ),
        page.section(
            "Trades",
            "trades",
            tables.trades_table(trades_with_excursions(run, views, moves), views.links),
        ),
        page.section(
            "Effective configuration",
            "configuration",
            f"<pre>{escape(config_to_toml(run.config))}</pre>",
        ),
    ]
    payloads = {view_id: resolved(p) for view_id, p in views.payloads.items()}
    title = "twotier run report"
    return page.document_parts(title, subtitle(run, metrics), body, figures, NAV, payloads)


def section_summary(metrics: dict, warnings: str) -> str:
    return page.section(
        "Summary",
        "summary",
        headline_cards(metrics),
        warnings,
        '<div class="pair"><div>',
        tables.metrics_table(metrics),
        "</div><div><h3>Beside buy and hold (rolled at rolls)</h3>",
        tables.benchmarks_table(metrics),
        tables.market_table(metrics),
        "</div></div>",
    )


def write_report(run, path: str | Path, metrics: dict, behind: WritesBehind | None = None) -> Path:
    """report.html at ``path``: whole or not at all, or by ``behind`` in a folder built
    whole."""
    path = Path(path)
    _write(path, report_parts(run, metrics), behind)
    return path


def _write(path: Path, text, behind: WritesBehind | None) -> None:
    if behind is None:
        write_text_atomic(path, text)
    else:
        behind.write(path, text)


DAILY_RETURNS = ("daily_returns.csv", "daily_returns.parquet")


def write_daily_returns(result, folder: Path, behind: WritesBehind | None = None) -> None:
    """The portfolio's daily returns, ready for quantstats or pyfolio: CSV (``date,returns``,
    each return written so that it reads back to the same float) and Parquet (a ``date``
    index and a ``returns`` column)."""
    table = returns_table(pv_series(result)[0])  # the metrics' own daily returns
    days, values = stamps(table.index.to_numpy(), "D"), table["returns"].to_numpy()
    lines = [f"{day},{text}" for day, text in zip(days, _reprs(values), strict=True)]
    _write(folder / DAILY_RETURNS[0], "\n".join(["date,returns", *lines]) + "\n", behind)
    with atomic_path(folder / DAILY_RETURNS[1]) as tmp:
        table.to_parquet(tmp, index=True)


def _reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each float: by Arrow's formatter where all are finite (a run's returns,
    unless its value reached 0), as repr writes them."""
    if np.isfinite(values).all():
        return float_reprs(values)
    return [repr(v) for v in values.tolist()]


def write_run_folder(
    result, out: str | Path, risk_free: float = 0.0, *, with_report: bool = True, **options
) -> Path:
    """The whole run folder: the data files (``twotier.run.writer.write_run``, which takes
    ``options``) and the files derived from them, all written before the folder is swapped
    in, so that a run killed or failing on the way leaves an earlier folder whole."""

    def derived(folder: Path, behind: WritesBehind) -> None:
        write_analysis(result, folder, risk_free, with_report=with_report, behind=behind)

    return write_run(result, out, derived=derived, **options)


def write_analysis(
    result,
    folder: str | Path,
    risk_free: float = 0.0,
    *,
    with_report: bool = True,
    behind: WritesBehind | None = None,
) -> None:
    """The derived files of a run, written into its run folder beside the data files
    (``write_run_folder``, whose ``behind`` writes them); also rebuilds them, each whole
    or not at all, from a folder read back: metrics.json, the daily returns (CSV and
    Parquet) and report.html (unless not ``with_report``). ``risk_free`` is the yearly
    rate the Sharpe and Sortino ratios use."""
    folder = Path(folder)
    if not len(result.equity):
        return
    metrics = result.compute_metrics(risk_free)
    if with_report:  # first: its 10 MB are written while the other two are made
        write_report(result, folder / "report.html", metrics, behind)
    # compute_metrics' dict holds plain values already (json_text.plain): not made again
    text = json.dumps(metrics, indent=2, allow_nan=False)
    _write(folder / "metrics.json", text + "\n", behind)
    write_daily_returns(result, folder, behind)
