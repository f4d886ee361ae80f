"""``twotier data rolls`` and ``twotier data check --rolls/--contract-column``: the main
cases through a real subprocess (started together as soon as pytest has collected this
module, see ``pytest_collection_finish`` in conftest.py), the errors in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from helpers.cli import Runs
from twotier.market.rolls import read_schedule

COPPER = "SHFE.cu2202.m1.csv"
IRON = "DCE.i.HOT.m5.csv"
IRON_SCHEDULE = [
    "trading_day,old_contract,new_contract,old_price,new_price",
    "2019-12-06,i2001,i2005,654.5,619.5",
    "2020-03-31,i2005,i2009,645.5,576.5",
    "2020-08-10,i2009,i2101,896,817",
]
# DCE iron ore 15-minute bars stamped by start; i2409 from Friday night (trading day
# Monday 2024-03-04).
CONTRACT_BARS = [
    "datetime,open,high,low,close,volume,symbol",
    "2024-03-01 14:30:00,800,802,799,801,5,i2405",
    "2024-03-01 14:45:00,801,803,800,802,5,i2405",
    "2024-03-01 21:00:00,770,772,769,771,5,i2409",
    "2024-03-04 09:00:00,771,773,770,772,5,i2409",
]


def write_second_copper_contract(real_cu2202: Path, folder: Path) -> None:
    """A folder of per-contract files: the real cu2202 as its source names it, a made-up
    cu2203 (the same bars 300 higher, open interest 114,000 throughout) and a README."""
    folder.mkdir()
    shutil.copy(real_cu2202, folder / real_cu2202.name)
    table = pd.read_csv(real_cu2202)
    for column in ("open", "high", "low", "close"):
        table[column] += 300
    table["hold"] = 114_000.0
    table.to_csv(folder / "cu2203.csv", index=False)
    (folder / "README.md").write_text("not bars\n")


_RUNS: list[Runs] = []


def start_subprocesses(real_dir: Path, real: bool = True) -> Runs:
    """Start every subprocess of this module once (the real-data ones only when ``real``
    and the files are there)."""
    if _RUNS:
        return _RUNS[0]
    runs = Runs(prefix="twotier-rolls-test-")
    _RUNS.append(runs)
    folder = runs.folder
    if real and (real_dir / COPPER).is_file() and (real_dir / IRON).is_file():
        write_second_copper_contract(real_dir / COPPER, folder / "contracts")
        runs.start("rolls", "data", "rolls", folder / "contracts", "--instrument", "SHFE/cu",
                   "--label", "end", "--confirm-days", "3", "--out", folder / "rolls.csv",
                   "--spliced", folder / "spliced.parquet")  # fmt: skip
        (folder / "iron_rolls.csv").write_text("\n".join(IRON_SCHEDULE) + "\n")
        runs.start("iron_rolls", "data", "check", real_dir / IRON, "-i", "DCE/i", "--label",
                   "end", "--rolls", folder / "iron_rolls.csv", "--json")  # fmt: skip
    (folder / "bars.csv").write_text("\n".join(CONTRACT_BARS) + "\n")
    runs.start("column", "data", "check", folder / "bars.csv", "-i", "DCE/i",
               "--contract-column", "symbol")  # fmt: skip
    return runs


@pytest.fixture(scope="module")
def small_runs(real_data_location: Path):
    runs = start_subprocesses(real_data_location)
    yield runs
    runs.close()
    _RUNS.clear()


@pytest.fixture(scope="module")
def real_runs(small_runs: Runs, real_data_dir: Path) -> Runs:
    if "rolls" not in small_runs:
        pytest.skip(f"{COPPER} or {IRON} is missing in {real_data_dir}")
    return small_runs


def test_data_rolls_builds_the_schedule_from_per_contract_files(real_runs):
    result = real_runs["rolls"]
    assert result.returncode == 0, result.stderr
    schedule = read_schedule(real_runs.folder / "rolls.csv")
    assert [(str(r.trading_day), r.old_contract, r.new_contract) for r in schedule] == [
        ("2022-01-19", "cu2202", "cu2203")
    ]
    (roll,) = schedule.rolls
    assert roll.new_price - roll.old_price == 300
    assert "skipped (no cu contract in the name): README.md" in result.stdout
    assert "2022-01-19" in result.stdout and "cu2202" in result.stdout
    spliced = pd.read_parquet(real_runs.folder / "spliced.parquet")
    assert spliced["contract"].iloc[[0, -1]].tolist() == ["cu2202", "cu2203"]


def test_data_check_with_a_schedule_lists_the_rolls_instead_of_suspects(real_runs):
    result = real_runs["iron_rolls"]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["suspected_rolls"] is None
    rolls = summary["rolls"]
    assert rolls["source"].startswith("file ") and rolls["source"].endswith("iron_rolls.csv")
    assert [(r["trading_day"], r["bar"]) for r in rolls["rolls"]] == [
        ("2019-12-06", "2019-12-05 21:00:00+08:00"),
        ("2020-03-31", "2020-03-31 09:00:00+08:00"),
        ("2020-08-10", "2020-08-07 21:00:00+08:00"),
    ]
    assert rolls["rolls"][1]["ratio"] == pytest.approx(576.5 / 645.5)


def test_data_check_with_a_contract_column_lists_its_rolls(small_runs):
    result = small_runs["column"]
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 from contract column 'symbol' (suspected-roll detection not needed)" in out
    assert "2024-03-04: i2405 802 -> i2409 770 (ratio 0.960100), from bar 2024-03-01 21:00" in out


# --- In-process: the errors, and the table of suspects ------------------------------------


def run_in_process(args: list[str | Path], capsys) -> tuple[int, str, str]:
    from twotier.cli.main import run

    with pytest.raises(SystemExit) as info:
        run([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_check_refuses_a_contract_that_comes_back_naming_the_line(tmp_path, capsys):
    path = tmp_path / "bars.csv"
    back = "2024-03-05 09:00:00,772,774,771,773,5,i2405"
    path.write_text("\n".join([*CONTRACT_BARS, back]) + "\n")
    args = ["data", "check", path, "-i", "DCE/i", "--contract-column", "symbol"]
    code, _, err = run_in_process(args, capsys)
    assert code == 1
    assert err.startswith(f"error: {path}, line 6: contract i2405 comes back")


def test_check_refuses_a_bad_schedule_naming_its_file_and_line(tmp_path, capsys):
    bars, rolls = tmp_path / "bars.csv", tmp_path / "rolls.csv"
    bars.write_text("\n".join(CONTRACT_BARS) + "\n")
    rolls.write_text("\n".join([*IRON_SCHEDULE[:2], "2019-12-01,i2005,i2009,1,1"]) + "\n")
    code, _, err = run_in_process(["data", "check", bars, "-i", "DCE/i", "--rolls", rolls], capsys)
    assert code == 1
    assert err.startswith(f"error: {rolls}, line 3: trading day 2019-12-01 is not after")


def test_a_schedule_with_a_field_beyond_the_csv_limit_is_refused(tmp_path, capsys):
    bars, rolls = tmp_path / "bars.csv", tmp_path / "rolls.csv"
    bars.write_text("\n".join(CONTRACT_BARS) + "\n")
    rolls.write_text(f'{IRON_SCHEDULE[0]}\n2019-12-06,"{"i" * 200_000}",i2005,1,1\n')
    code, _, err = run_in_process(["data", "check", bars, "-i", "DCE/i", "--rolls", rolls], capsys)
    assert code == 1
    assert err.startswith(f"error: {rolls}: not a readable CSV file: field larger than")


def test_rolls_command_needs_files_named_after_contracts(tmp_path, capsys):
    (tmp_path / "SHFE.cu.HOT.m1.csv").write_text("datetime,open,high,low,close,volume\n")
    code, _, err = run_in_process(["data", "rolls", tmp_path, "-i", "SHFE/cu"], capsys)
    assert code == 1
    assert "no bar file named after a cu contract (e.g. cu2202.csv" in err
    code, _, err = run_in_process(["data", "rolls", tmp_path, "-i", "SHFE/cu", "--by", "x"], capsys)
    assert code == 1 and "--by must be open_interest or volume" in err


def test_rolls_outputs_are_never_a_contract_file_or_a_users_file(tmp_path, capsys):
    (tmp_path / "i2405.csv").write_text("\n".join(CONTRACT_BARS[:3]) + "\n")
    theirs = tmp_path.parent / f"{tmp_path.name}-notes.csv"
    theirs.write_text("day,note\n")
    rolls = ["data", "rolls", tmp_path, "-i", "DCE/i"]
    cases = [
        (["--out", tmp_path / "i2405.csv"], "--out", "a file this command reads"),
        (["--spliced", tmp_path / "i2405.csv"], "--spliced", "a file this command reads"),
        (["--out", theirs], "--out", "not a roll schedule of twotier's"),
        (["--spliced", theirs], "--spliced", "not a bar file of twotier's"),
    ]
    for extra, option, reason in cases:
        code, _, err = run_in_process([*rolls, *extra], capsys)
        assert code == 1 and f"{option} {extra[1]}: " in err and reason in err, err
    same = ["--out", theirs, "--spliced", theirs]
    code, _, err = run_in_process([*rolls, *same], capsys)
    assert code == 1 and f"--out and --spliced are both {theirs}" in err
    assert theirs.read_text() == "day,note\n"


def test_check_table_shows_the_suspected_rolls_of_the_real_iron_ore(real_file, capsys, monkeypatch):
    wide = Console(width=200, highlight=False)
    monkeypatch.setattr("twotier.cli.data.console", lambda: wide)
    args = ["data", "check", real_file(IRON), "-i", "DCE/i", "--label", "end"]
    code, out, _ = run_in_process(args, capsys)
    assert code == 0
    assert "5 (session-open jumps over 10 x ATR(14) of 15-minute bars" in out
    assert "2020-03-31 09:00 (trading day 2020-03-31): 645.5 -> 576.5, 13.7 ATRs" in out
