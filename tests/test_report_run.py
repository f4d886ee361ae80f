"""The HTML report of a run: which charts and tables it holds, that it is self-contained
and deterministic, and that every chart is a valid plotly figure.

``shared_run()`` (one year of the bundled sample through Tier-1 and Tier-2, written as a
run folder with its report) is built once per test session and used by the other
report, analysis and CLI test modules too."""

from __future__ import annotations

import atexit
import json
import math
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from twotier.analysis.excursions import excursions
from twotier.analysis.summary import bars_in_run
from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.report.charts import run_charts
from twotier.report.page import plotly_js, plotly_js_utf8, script_json, script_json_parts
from twotier.report.run_report import report_html, write_analysis
from twotier.report.series import Floats
from twotier.report.tearsheet import tearsheet_charts
from twotier.run.result import BacktestResult
from twotier.run.writer import write_run

SHARED_END = "2023-12-31"


@dataclass(frozen=True)
class SharedRun:
    result: BacktestResult
    folder: Path  # the run folder, report.html and metrics.json included


@cache
def shared_run() -> SharedRun:
    """One year of the sample (2023), default configuration: do not modify it."""
    bars = {key: load_sample(key) for key in SAMPLE_INSTRUMENTS}
    result = run_backtest(bars, load_config(), end=SHARED_END)
    scratch = Path(tempfile.mkdtemp(prefix="twotier-report-tests-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    folder = write_run(result, scratch / "run")
    write_analysis(result, folder)
    return SharedRun(result, folder)


@pytest.fixture(scope="module")
def run() -> SharedRun:
    return shared_run()


@pytest.fixture(scope="module")
def figures(run: SharedRun) -> dict[str, dict]:
    result = run.result
    moves = excursions(result.trades, result.packages, result.equity)
    charts = run_charts(result, result.metrics, bars_in_run(result))
    return charts | tearsheet_charts(result, result.metrics, moves)


@pytest.fixture(scope="module")
def html(run: SharedRun) -> str:
    return (run.folder / "report.html").read_text(encoding="utf-8")


def page_without_plotly(html: str) -> str:
    """The page with the inlined plotly.js taken out (its own source mentions URLs that a
    chart of ours never loads, e.g. map tile servers)."""
    bundle = plotly_js()
    assert html.count(bundle) == 1
    return html.replace(bundle, "")


CHART_IDS = [
    "chart-equity",
    "chart-instruments",
    "chart-risk",
    "chart-rolling",
    "chart-distributions",
    "chart-excursions",
    "chart-holding",
    "chart-sides",
    "chart-sessions",
    "chart-monthly",
    "chart-exits",
    "chart-signals",
]


def test_the_metrics_and_the_report_derive_their_tables_once(run, tmp_path, monkeypatch):
    """Excursions, trigger tables, the packages of the run's steps, where its trading
    days end and its positions' book are made once per run and read by both metrics.json
    and report.html."""
    import twotier.analysis.summary as summary

    made, ends, books = [], [], []
    real, real_ends = summary.bars_in_run, summary.metrics.DayEnds.of
    real_book = summary.trades.PositionBook.of
    monkeypatch.setattr(summary, "bars_in_run", lambda r, *rows: made.append(r) or real(r, *rows))
    monkeypatch.setattr(summary.metrics.DayEnds, "of", lambda s: ends.append(s) or real_ends(s))
    monkeypatch.setattr(
        summary.trades.PositionBook, "of", lambda t: books.append(t) or real_book(t)
    )
    result = replace(run.result)  # the same tables, nothing kept yet
    write_analysis(result, tmp_path)
    assert len(made) == 1 and made[0] is result
    assert len(ends) == 1 and ends[0] is result.equity  # the days of its steps: once too
    assert len(books) == 1 and books[0] is result.trades
    assert summary.derived_tables(result) is summary.derived_tables(result)
    assert (tmp_path / "report.html").read_bytes() == (run.folder / "report.html").read_bytes()


def test_report_holds_every_chart_and_signal_view_by_id(figures, html):
    views = [f"signal-{i}" for i in range(len(SAMPLE_INSTRUMENTS))]
    for chart_id in [*CHART_IDS, *views]:
        assert f'<div id="{chart_id}" class="chart"></div>' in html, chart_id
    assert set(figures) == set(CHART_IDS)
    for view in views:
        assert f'<script type="application/octet-stream" id="{view}-columns">' in html


def test_report_titles_name_what_each_chart_shows(html):
    for title in (
        "Portfolio value and drawdown",
        "P&amp;L per instrument",
        "Exposure, leverage and cash reserve",
        "Rolling Sharpe ratio and volatility",
        "Excursions while open",
        "Holding times",
        "Long against short",
        "Day session against night session",
        "Exits by reason: count and net P&amp;L",
        "Monthly returns",
        "Signal quality: mean forward return after a trigger",
    ):
        assert title.replace("&amp;", "&") in html or title in html, title


def test_report_loads_nothing_from_outside(html):
    page = page_without_plotly(html)
    assert "<script src" not in page
    assert "<link" not in page
    assert "cdn.plot.ly" not in page
    assert re.search(r"https?://", page) is None


def test_report_holds_the_tables_and_the_effective_configuration(run, html):
    for table_id in (
        "table-metrics",
        "table-benchmarks",
        "table-drawdowns",
        "table-exits",
        "table-signals",
        "table-confidence",
        "table-sides",
        "table-sessions",
        "table-trades",
    ):
        assert f'id="{table_id}"' in html, table_id
    trades_html = html.split('id="table-trades"')[1].split("</table>")[0]
    assert trades_html.count("<tr") == len(run.result.trades) + 1  # + the header row
    assert "[portfolio]" in html and "initial_capital = 1000000" in html


def test_every_chart_is_a_valid_plotly_figure(figures):
    for chart_id, figure in figures.items():
        go.Figure(figure)  # raises on an unknown property or a bad value
        assert figure["data"], chart_id


def test_lines_are_one_point_per_trading_day(run, figures):
    figure = figures["chart-equity"]
    days = run.result.equity["trading_day"].nunique()
    assert len(figure["data"][0]["x"]) == days < len(run.result.equity)


def test_same_run_gives_the_same_report_bytes(run, html):
    assert report_html(run.result, run.result.metrics) == html


def test_the_page_inlines_plotlys_own_library_as_its_file_holds_it(run, html):
    from plotly.offline import get_plotlyjs

    assert plotly_js() == get_plotlyjs()
    assert (run.folder / "report.html").read_bytes().count(plotly_js_utf8()) == 1
    assert report_html(run.result, run.result.metrics).count(get_plotlyjs()) == 1


def test_report_stays_small(html):
    extra = len(html.encode()) - len(plotly_js().encode())
    assert extra < 1_500_000, f"{extra:,} bytes besides plotly.js for one year"


def test_result_writes_its_report_and_shows_a_summary_in_notebooks(run, tmp_path):
    path = run.result.report(tmp_path / "r.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    summary = run.result._repr_html_()
    assert "<table" in summary and "Sharpe" in summary and "0 DCE/i" in summary
    assert "<script" not in summary  # compact: no charts in a notebook cell


def test_daily_returns_are_exported_for_quantstats_and_pyfolio(run):
    """CSV and Parquet beside metrics.json: a date index and a returns column, the same
    figures as the metrics' daily returns, read back to the same floats."""
    from twotier.analysis.metrics import daily_returns

    initial = float(run.result.config.portfolio.initial_capital)
    expected = daily_returns(run.result.equity, initial)
    from_csv = pd.read_csv(run.folder / "daily_returns.csv", index_col="date", parse_dates=True)
    from_parquet = pd.read_parquet(run.folder / "daily_returns.parquet")
    for table in (from_csv, from_parquet):
        assert list(table.columns) == ["returns"]
        assert isinstance(table.index, pd.DatetimeIndex) and table.index.name == "date"
        assert table["returns"].tolist() == expected.tolist()
        assert list(table.index.date) == list(pd.DatetimeIndex(expected.index).date)


def later_engine_run(result):
    """The run as an engine with market rules would record it (issue 14): equity with
    margin and risk degree, decision codes this report does not know, extra columns."""
    import dataclasses

    equity = result.equity.assign(
        margin=result.equity["pv"] * 0.4,
        risk_degree=0.4,
        something_new=1,
    )
    first = result.decisions["time"].iloc[0]
    unknown = pd.DataFrame(
        [
            (first, "CANCEL", 0.0, "entry_unfilled_limit", "[...] CANCEL basket 0 [...]"),
            (first, "WAIT", 1.0, "exit_delayed_limit", "[...] WAIT basket 1 [...]"),
        ],
        columns=result.decisions.columns,
    )
    decisions = pd.concat([result.decisions, unknown], ignore_index=True)
    trades = result.trades.assign(bars_waited=0)
    return dataclasses.replace(result, equity=equity, decisions=decisions, trades=trades)


def test_margin_and_risk_degree_get_a_pane_when_the_run_records_them(run, figures):
    from twotier.config import load_config as config_of
    from twotier.engine.backtest import run_tier2
    from twotier.report.charts import risk_chart

    assert "yaxis4" in figures["chart-risk"]["layout"]  # the market rules are on by default
    off = config_of(overrides=["market.forced_liquidation=false"])
    assert "yaxis4" not in risk_chart(run_tier2(run.result.packages, off))["layout"]
    panes = risk_chart(later_engine_run(run.result))
    assert "yaxis4" in panes["layout"]
    assert [t["name"] for t in panes["data"]][-1].startswith("risk degree")
    go.Figure(panes)


def test_unknown_decision_codes_and_extra_columns_do_not_break_the_report(run):
    later = later_engine_run(run.result)
    html = report_html(later, later.metrics)
    assert "margin / PV" in html


def test_a_run_without_trades_has_a_report_without_trade_charts(run):
    from twotier.config import load_config as config_of
    from twotier.engine.backtest import run_tier2

    quiet = run_tier2(run.result.packages, config_of(overrides=["sizing.min_conviction=1.0"]))
    assert quiet.trades.empty
    html = report_html(quiet, quiet.metrics)
    for absent in ("chart-exits", "chart-excursions", "chart-holding", "chart-sides"):
        assert f'id="{absent}"' not in html
    assert 'id="signal-0"' in html and 'id="chart-equity"' in html


def test_packages_with_only_the_required_columns_get_a_signal_view(run):
    """A Tier-2 run on packages from another program: no indicators, no trigger column."""
    from twotier.engine.backtest import run_tier2
    from twotier.report.signal_view import view_payload

    columns = ["time", "instrument", "signal", "confidence", "signal_strength", "regime"]
    minimal = {k: v[[*columns, "open", "close"]] for k, v in run.result.packages.items()}
    tier2 = run_tier2(minimal, run.result.config)
    html = report_html(tier2, tier2.metrics)
    assert 'id="signal-0"' in html
    bars = bars_in_run(tier2)["DCE/i"]
    payload = view_payload(
        tier2, "DCE/i", bars, pd.DataFrame(columns=["bar", "direction", "status", "reason"])
    )
    assert [name for name, _ in payload["numbers"]] == [
        "time",
        "open",
        "close",
        "confidence",
        "signal_strength",
    ]


def test_each_instruments_pnl_line_ends_at_its_baskets_gain(run, figures):
    lines = {t["name"]: t for t in figures["chart-instruments"]["data"]}
    initial = float(run.result.config.portfolio.initial_capital)
    for i, basket in enumerate(run.result.config.portfolio.baskets):
        final = float(run.result.equity[f"equity_{i}"].iloc[-1])
        start = initial * float(basket.capital_fraction)
        assert lines[basket.instrument]["y"][-1] == pytest.approx(final - start, abs=0.01)


def test_the_real_iron_ore_rolls_are_marked_on_the_value_chart(real_bars):
    from test_rolls_engine_realdata import ONE_BASKET, ROLLS
    from twotier.config import load_config
    from twotier.market.resample import resample
    from twotier.report.charts import equity_chart

    loaded = real_bars("DCE.i.HOT.m5.csv")
    bars = {"DCE/i": resample(loaded.frame, loaded.instrument, loaded.bar_minutes)}
    result = run_backtest(bars, load_config(overrides=[ONE_BASKET]), rolls={"DCE/i": ROLLS})
    figure = equity_chart(result, result.metrics, bars_in_run(result))
    marks = next(t for t in figure["data"] if t["name"] == "rolls")
    assert marks["x"] == ["2019-12-06", "2020-03-31", "2020-08-10"]
    assert "i2005 → i2009" in marks["text"][1]
    assert len(figure["layout"]["shapes"]) == 3
    held = next(t for t in figure["data"] if t["name"] == "buy and hold DCE/i")
    assert held["y"][-1] / float(result.config.portfolio.initial_capital) == pytest.approx(
        1.4044, abs=5e-4
    )


def test_script_json_is_jsons_compact_text_with_the_series_written_apart():
    days = [f"2024-01-{d:02d}</" for d in range(1, 80)]
    ups = Floats(np.arange(80) / 7)
    value = {
        "a": {"x": days, "y": ups, "z": [1.0, 2], "w": list(ups)},
        "b": [{"x": list(days), "y": Floats(np.zeros(70)), "n": [0] * 70, "t": [[1.0]] * 70}],
        "c": [None, True, "text", Floats(np.array([-0.0, 1e-5, 3e12, 2.5]))],
        "d": [{"k": [days[0], *[None] * 70]}, {"k": [days[0], *days[1:]]}],
    }
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    assert script_json(value) == expected
    marked = {"a": Floats(np.ones(3)), "b": "\ue000twotier list\ue000"}  # the hole's own mark
    assert json.loads(script_json(marked)) == marked
    with pytest.raises(ValueError, match="Out of range float"):
        script_json({"a": [1.0] * 63 + [math.nan]})


def test_script_json_parts_keep_the_series_text_ascii_beside_other_characters():
    """The parts join to ``script_json``'s text; a roll's arrow in the rest leaves the
    series' parts one byte a character."""
    value = {"rolls": "i2001 → i2005", "y": Floats(np.arange(100) / 3), "x": ["2024-01-02"] * 70}
    parts = script_json_parts(value)
    assert "".join(parts) == script_json(value)
    assert len(parts) == 5 and parts[1].isascii() and parts[3].isascii()
