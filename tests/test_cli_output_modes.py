"""What a user reads: warnings and notes on stderr in every mode, JSON documents that carry
the warnings, ``trades --json``, what ``--on-bad-bar`` dropped or repaired (said, and kept
in summary.json), ``--contract-column`` per instrument, help texts that show flags as
flags and every option name whole, and a paper restart logged in exchange time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import invoke
from test_live_parity import paper, write_bar_csv
from twotier.market.sample import load_sample

IRON_ORE = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'


@pytest.fixture(scope="module")
def bars(tmp_path_factory) -> dict[str, Path]:
    """Six weeks of sample iron ore and soybean meal; a copy of the iron ore with one close
    above its high (line 5), each with a contract column of its own name."""
    folder = tmp_path_factory.mktemp("bars")
    files = {}
    for key, column, code in (("DCE/i", "contract", "i2305"), ("DCE/m", "symbol", "m2305")):
        frame = load_sample(key)
        frame = frame[frame["trading_day"] <= pd.Timestamp("2023-02-15")].copy()
        frame[column] = code
        files[key] = folder / f"{key.replace('/', '_')}.csv"
        write_bar_csv(frame, files[key])
    lines = files["DCE/i"].read_text().splitlines()
    cells = lines[4].split(",")
    cells[4] = str(float(cells[2]) + 1.0)  # close above high: the envelope is wrong
    lines[4] = ",".join(cells)
    files["bad"] = folder / "bad.csv"
    files["bad"].write_text("\n".join(lines) + "\n")
    return files


def run(args: list, capsys) -> tuple[str, str]:
    code, out, err = invoke(args, capsys)
    assert code == 0, err
    return out, err


def test_json_is_the_whole_stdout_and_carries_the_warnings(bars, tmp_path, capsys):
    args = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--json", "--out", tmp_path / "r"]
    out, err = run(args, capsys)
    document = json.loads(out)
    assert document["warnings"][0].startswith("bars for DCE/i only: trading 1 of the default")
    assert err.startswith("warning: bars for DCE/i only")
    assert document["run_folder"] == str(tmp_path / "r")


def test_the_summary_tables_go_to_stdout_and_the_warnings_to_stderr(bars, tmp_path, capsys):
    out, err = run(
        ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--out", tmp_path / "r"], capsys
    )
    assert "warning" not in out and "run folder:" in out
    assert "warning: bars for DCE/i only" in err


@pytest.mark.parametrize(
    ("policy", "word", "said"),
    [("repair", "repaired", "line 5: repaired: "), ("drop", "dropped", "dropped line 5: ")],
)
def test_what_on_bad_bar_did_is_said_and_kept_in_the_summary(
    bars, tmp_path, capsys, policy, word, said
):
    args = ["backtest", "--bars", f"DCE/i={bars['bad']}", "--set", IRON_ORE, "--quiet"]
    _, err = run([*args, "--on-bad-bar", policy, "--out", tmp_path / "r"], capsys)
    assert f"note: DCE/i {bars['bad']}: {said}" in err
    record = json.loads((tmp_path / "r" / "summary.json").read_text())["bad_bars"]["DCE/i"]
    assert record["file"] == str(bars["bad"])
    assert [p["line"] for p in record[word]] == [5]


def test_trades_json_lists_the_rows_of_trades_csv(bars, tmp_path, capsys):
    args = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--set", IRON_ORE, "--quiet"]
    run([*args, "--out", tmp_path / "r"], capsys)
    out, _ = run(["trades", tmp_path / "r", "--json"], capsys)
    rows = json.loads(out)
    table = pd.read_csv(tmp_path / "r" / "trades.csv")
    assert len(rows) == len(table) > 0
    assert rows[0]["trade_id"] == table["trade_id"][0]
    assert rows[0]["entry_time"] == table["entry_time"][0]


def test_contract_column_per_instrument(bars, tmp_path, capsys):
    args = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--bars", f"DCE/m={bars['DCE/m']}"]
    columns = ["--contract-column", "DCE/i=contract", "--contract-column", "DCE/m=symbol"]
    run([*args, *columns, "--quiet", "--out", tmp_path / "r"], capsys)
    code, _, err = invoke([*args, "--contract-column", "contract", "--out", tmp_path / "x"], capsys)
    assert code == 1 and str(bars["DCE/m"]) in err and "'contract'" in err  # meal has 'symbol'
    wrong = ["--contract-column", "DCE/i=contract", "--contract-column", "DCE/m=contract"]
    code, _, err = invoke([*args, *wrong, "--out", tmp_path / "y"], capsys)
    assert code == 1 and str(bars["DCE/m"]) in err


@pytest.mark.parametrize(
    "command",
    [["backtest"], ["demo"], ["signals"], ["optimize"], ["paper"], ["trades"], ["data", "check"]],
)
def test_help_shows_flags_as_flags_and_every_option_name_whole(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out, _ = run([*command, "--help"], capsys)
    assert "<bool>" not in out and "…" not in out
    import typer.main

    from twotier.cli.main import app  # every option of the command, by name

    group = typer.main.get_command(app)
    cmd = group
    for name in command:
        cmd = cmd.commands[name]
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert re.search(rf"{re.escape(opt)}\b", out), opt


def test_signals_is_in_a_guide():
    text = "\n".join(p.read_text() for p in Path(__file__).parents[1].glob("docs/*.md"))
    assert "twotier signals --bars" in text


def test_a_paper_restart_logs_the_last_step_in_exchange_time(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    frame = load_sample("DCE/i")
    write_bar_csv(frame[frame["trading_day"] <= pd.Timestamp("2023-01-05")], feed / "DCE_i.csv")
    paper(f"folder:{feed}", tmp_path / "state", IRON_ORE)
    paper(f"folder:{feed}", tmp_path / "state")
    log = [json.loads(x) for x in (tmp_path / "state" / "paper.log").read_text().splitlines()]
    (restore,) = [e for e in log if e["event"] == "restore"]
    assert "(2023-01-05 14:45)" in restore["message"]  # the last bar's start, Asia/Shanghai


@pytest.mark.parametrize("group", [[], ["data"], ["config"]])
def test_command_lists_show_each_summary_whole(group, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out, _ = run([*group, "--help"], capsys)
    listed = out[out.index("Commands:") :].splitlines()[1:]
    assert listed and not [line for line in listed if line.rstrip().endswith("...")]


def test_paper_log_lines_on_stderr_carry_exchange_time(tmp_path):
    import io

    from twotier.live.ops import Ops

    stream = io.StringIO()
    ops = Ops(tmp_path, stderr=stream)
    before = pd.Timestamp.now(tz="Asia/Shanghai").floor("s")
    ops.event("start", "hello")
    ops.close()
    stamp = pd.Timestamp(stream.getvalue()[:19], tz="Asia/Shanghai")
    assert before <= stamp <= before + pd.Timedelta(seconds=5)


def test_the_heartbeat_logs_the_pv_to_the_cent_as_its_line_shows_it(tmp_path):
    import io
    from datetime import date

    from twotier.live.ops import Ops
    from twotier.live.session import StepReport

    stream = io.StringIO()
    ops = Ops(tmp_path, stderr=stream)
    when = pd.Timestamp("2024-03-04 09:15")
    ops.heartbeat([StepReport(7, when, date(2024, 3, 4), ["DCE/i"], 10_000_123_450, {}, [], 0.01)])
    ops.close()
    logged = json.loads((tmp_path / "paper.log").read_text().splitlines()[-1])
    assert logged["pv"] == 1_000_012.35  # 1,000,012.345 off the tick
    assert "PV 1,000,012.35 " in stream.getvalue()


def test_no_report_writes_the_run_folder_without_its_page_and_says_how_to_write_it(
    bars, tmp_path, capsys
):
    args = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--set", IRON_ORE, "--no-report"]
    out, _ = run([*args, "--out", tmp_path / "r"], capsys)
    folder = tmp_path / "r"
    assert not (folder / "report.html").exists()
    for name in ("metrics.json", "daily_returns.csv", "equity.csv", "trades.csv"):
        assert (folder / name).is_file()
    assert f"report: not written (twotier report {folder} writes it)" in out
    document = json.loads(run([*args, "--json", "--out", tmp_path / "j"], capsys)[0])
    assert document["report"] is None
    run(["report", str(folder), "--quiet"], capsys)
    assert (folder / "report.html").is_file()


def test_how_bars_were_read_is_in_config_toml_and_a_rerun_from_it_repeats_the_run(tmp_path, capsys):
    # --label, --on-bad-bar and one --contract-column for every file are configuration
    # (data.*): the run's config.toml used to keep the defaults, and a rerun from it read
    # these end-stamped bars as start-stamped and refused them.
    bars = load_sample("DCE/i")
    bars = bars[bars["trading_day"] <= pd.Timestamp("2023-02-28")].copy()
    bars.index = bars.index + pd.Timedelta(minutes=15)  # stamped by their end
    bars["symbol"] = "i2309"
    path = tmp_path / "i.csv"
    write_bar_csv(bars, path)
    reading = ["--label", "end", "--on-bad-bar", "drop", "--contract-column", "symbol"]
    code, _, err = invoke(["backtest", "--bars", f"DCE/i={path}", *reading, "--out",
                           tmp_path / "a", "--quiet"], capsys)  # fmt: skip
    assert code == 0, err
    config = (tmp_path / "a" / "config.toml").read_text()
    for line in ('label = "end"', 'on_bad_bar = "drop"', 'contract_column = "symbol"'):
        assert f"\n{line}\n" in config
    code, _, err = invoke(["backtest", "--bars", f"DCE/i={path}", "--config",
                           tmp_path / "a" / "config.toml", "--out", tmp_path / "b",
                           "--quiet"], capsys)  # fmt: skip
    assert code == 0, err
    for name in ("trades.csv", "fills.csv", "equity.csv", "decisions.log"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_run_whose_configuration_names_a_calendar_repeats_from_any_folder(
    bars, tmp_path, capsys, monkeypatch
):
    # The calendar named relative in cfg/config.toml is cfg/calendar.toml, and the run's
    # config.toml names it absolute: a rerun from it in another folder reads the same file
    # (it read calendar.toml of the folder it ran in, or failed), and so does `report`.
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "calendar.toml").write_text('holidays = ["2023-02-06"]\n')  # a Monday: closed
    (cfg / "config.toml").write_text('[data]\ncalendar_file = "calendar.toml"\n')
    monkeypatch.chdir(tmp_path)
    first = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--set", IRON_ORE, "--quiet",
             "--on-bad-bar", "drop"]  # fmt: skip
    code, _, err = invoke([*first, "--config", "cfg/config.toml", "--out", "a"], capsys)
    assert code == 0, err
    assert f'calendar_file = "{cfg / "calendar.toml"}"' in Path("a/config.toml").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = ["backtest", "--bars", f"DCE/i={bars['DCE/i']}", "--config", tmp_path / "a" /
             "config.toml", "--out", "b", "--quiet"]  # fmt: skip
    code, _, err = invoke(again, capsys)
    assert code == 0, err
    assert "2023-02-06" not in Path("b/equity.csv").read_text()  # the holiday's bars dropped
    for name in ("trades.csv", "fills.csv", "equity.csv", "decisions.log"):
        assert (tmp_path / "a" / name).read_bytes() == (elsewhere / "b" / name).read_bytes()
    code, _, err = invoke(["report", tmp_path / "a", "--quiet"], capsys)
    assert code == 0, err
