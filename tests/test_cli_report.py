"""``twotier demo/backtest`` output modes and ``twotier report/compare/trades`` through real
subprocesses (``python -m twotier``), error paths included: a clear one-line error, a
non-zero exit and no traceback.

Every subprocess is started when the module's fixture is first used and runs on a thread
pool while the others do; each test reads its own result."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers.cli import Runs
from test_report_run import shared_run
from twotier.cli.main import app
from twotier.config import load_config
from twotier.engine.backtest import run_tier2
from twotier.errors import TwotierError
from twotier.run.writer import write_run

DEMO_END = "2023-02-28"


def _folders(scratch: Path) -> dict[str, Path]:
    """Run folders for the commands: the shared run, a copy without its report, a second
    run (Tier-2 again with fills at the close), and two damaged copies."""
    shared = shared_run()
    folders = {"shared": shared.folder}
    bare = scratch / "bare"
    shutil.copytree(shared.folder, bare)
    (bare / "report.html").unlink()
    (bare / "metrics.json").unlink()
    folders["bare"] = bare
    config = load_config(None, ["execution.fill=close"])
    folders["close"] = write_run(run_tier2(shared.result.packages, config), scratch / "close")
    for name, file, text in (
        ("bad_summary", "summary.json", '{"initial_capital": 1,'),
        ("bad_equity", "equity.csv", "time,trading_day,pv\nx,y,z\n"),
    ):
        shutil.copytree(shared.folder, scratch / name)
        (scratch / name / file).write_text(text)
        folders[name] = scratch / name
    table = pd.concat(shared.result.packages.values(), ignore_index=True)
    table.to_parquet(scratch / "packages.parquet")
    return folders


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("cli-report")
    runs = Runs(scratch, columns=160)
    # The slowest first.
    runs.start("demo", "demo", "--end", DEMO_END, "--out", "demo")
    runs.start("demo_json", "demo", "--end", DEMO_END, "--json", "--out", "demo_json")
    f = _folders(scratch)
    runs.start(
        "backtest_quiet",
        "backtest",
        "--signals",
        "packages.parquet",
        "--fill",
        "close",
        "--quiet",
        "--out",
        "quiet",
    )
    runs.start("report", "report", f["bare"])
    runs.start("compare", "compare", f["shared"], f["close"], "--out", "both.html")
    runs.start("trades", "trades", f["shared"], "--reason", "low", "-i", "SHFE/cu", "--csv")
    runs.start("missing", "trades", scratch / "no-such-run")
    runs.start("bad_summary", "report", f["bad_summary"])
    runs.start("bad_equity", "compare", f["shared"], f["bad_equity"])
    runs.folders = f
    yield runs
    runs.close()


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def assert_clean_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_demo_prints_the_summary_tables_and_the_report_path(runs):
    out = ok(runs["demo"]).stdout
    for title in ("Backtest 2023-01-03 to 2023-02-28", "Baskets", "Exits by reason"):
        assert title in out
    assert out.rstrip().endswith(f"report: {Path('demo') / 'report.html'}")
    assert (runs.folder / "demo" / "report.html").stat().st_size > 1_000_000


def test_demo_json_is_one_document_with_summary_metrics_and_paths(runs):
    document = json.loads(ok(runs["demo_json"]).stdout)
    assert document["end"].startswith("2023-02-28")
    assert document["metrics"]["portfolio"]["total_return"] == document["total_return"]
    assert (runs.folder / document["report"]).is_file()


def test_backtest_quiet_prints_nothing_and_writes_the_run(runs):
    result = ok(runs["backtest_quiet"])
    assert result.stdout == ""
    assert (runs.folder / "quiet" / "report.html").is_file()


def test_report_rebuilds_the_report_of_a_run_folder(runs):
    out = ok(runs["report"]).stdout
    bare = runs.folders["bare"]
    assert (bare / "report.html").is_file() and (bare / "metrics.json").is_file()
    rebuilt = json.loads((bare / "metrics.json").read_text())
    assert rebuilt["portfolio"]["trades"] == shared_run().result.metrics["portfolio"]["trades"]
    assert f"report: {bare / 'report.html'}" in out


def test_compare_prints_metrics_side_by_side_and_overlays_equity(runs):
    out = ok(runs["compare"]).stdout
    assert "Runs compared" in out and "Sharpe" in out
    page = (runs.folder / "both.html").read_text(encoding="utf-8")
    assert 'id="chart-compare"' in page and 'id="table-compare"' in page
    for folder in (runs.folders["shared"], runs.folders["close"]):
        assert str(folder) in page


def test_trades_filters_by_reason_start_and_instrument(runs):
    rows = pd.read_csv(io.StringIO(ok(runs["trades"]).stdout))
    assert len(rows) > 0
    assert set(rows["instrument"]) == {"SHFE/cu"}
    assert set(rows["reason"]) == {"low_confidence"}
    trades = shared_run().result.trades
    expected = trades[(trades["instrument"] == "SHFE/cu") & (trades["reason"] == "low_confidence")]
    assert rows["trade_id"].tolist() == expected["trade_id"].tolist()


def test_missing_run_folder_is_a_clear_error(runs):
    assert_clean_error(runs["missing"], "no-such-run", "no such run folder")


def test_unknown_instrument_names_the_known_ones(runs):
    # In this process: the exit path is the same as for the errors above.
    result = CliRunner().invoke(app, ["trades", str(runs.folders["shared"]), "-i", "DCE/x"])
    assert result.exit_code != 0
    assert isinstance(result.exception, TwotierError)
    assert "DCE/x" in str(result.exception) and "DCE/i, DCE/m, SHFE/cu" in str(result.exception)


def test_corrupted_summary_is_a_clear_error(runs):
    assert_clean_error(runs["bad_summary"], "summary.json", "not valid JSON")


def test_corrupted_equity_file_is_a_clear_error(runs):
    assert_clean_error(runs["bad_equity"], "equity.csv", "columns missing")


def _copy_with_rate(tmp_path: Path, name: str, rate: float) -> Path:
    folder = tmp_path / name
    shutil.copytree(shared_run().folder, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["risk_free"] = rate
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_compare_uses_the_rate_the_runs_share_and_refuses_to_guess_between_two(tmp_path):
    a, b = _copy_with_rate(tmp_path, "a", 0.03), _copy_with_rate(tmp_path, "b", 0.03)
    out = tmp_path / "both.html"
    result = CliRunner().invoke(app, ["compare", str(a), str(b), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert {m["risk_free"] for m in json.loads(result.stdout)["runs"].values()} == {0.03}
    assert "at a risk-free rate of 3.00%" in out.read_text(encoding="utf-8")  # the page says
    c = _copy_with_rate(tmp_path, "c", 0.0)
    result = CliRunner().invoke(app, ["compare", str(a), str(c), "--out", str(out)])
    assert result.exit_code != 0
    assert "different risk-free rates" in str(result.exception)
    (c / "metrics.json").unlink()  # no rate to say: the other run's is taken
    result = CliRunner().invoke(app, ["compare", str(a), str(c), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert {m["risk_free"] for m in json.loads(result.stdout)["runs"].values()} == {0.03}
    given = ["compare", str(a), str(c), "--out", str(out), "--json", "--risk-free", "0.01"]
    result = CliRunner().invoke(app, given)
    assert result.exit_code == 0, result.output
    assert {m["risk_free"] for m in json.loads(result.stdout)["runs"].values()} == {0.01}


def test_compare_refuses_one_run_given_twice_by_two_paths(tmp_path):
    # Only the same path text was caught: a symbolic link or `runs/../runs/a` compared a
    # run with itself.
    a = _copy_with_rate(tmp_path, "a", 0.03)
    (tmp_path / "link").symlink_to(a)
    for again in (tmp_path / "link", tmp_path / ".." / tmp_path.name / "a"):
        result = CliRunner().invoke(app, ["compare", str(a), str(again), "--out",
                                          str(tmp_path / "both.html")])  # fmt: skip
        assert result.exit_code != 0
        assert "a run folder is given twice" in str(result.exception)


def test_compare_keeps_of_each_run_only_what_its_page_draws(tmp_path):
    # Every run folder was held whole (packages, decisions, every step's columns) until
    # the page was written: 16 ten-year runs took compare to 1 GB.
    from twotier.cli.report import _as_compared
    from twotier.report.compare import compare_html
    from twotier.run.reader import load_run

    second = tmp_path / "second"
    shutil.copytree(shared_run().folder, second)
    whole = {str(f): load_run(f) for f in (shared_run().folder, second)}
    metrics = {name: run.compute_metrics() for name, run in whole.items()}
    kept = {name: _as_compared(run) for name, run in whole.items()}
    assert compare_html(kept, metrics) == compare_html(whole, metrics)
    for name, run in kept.items():
        assert not run.packages and run.trades.empty and run.decisions.empty
        assert list(run.equity.columns) == ["trading_day", "pv"]
        assert run.warnings == whole[name].warnings
