"""Hundreds of generated bad inputs through the command line: bar files, package tables,
roll schedules, configurations, search spaces, feeds and options. Whatever they are, the
CLI must answer with one line (no traceback, no "internal error") and change no file
outside the run's own output folder; an input that turns out to be usable may run.

The inputs are drawn from a fixed seed, so a failure names a case that can be run again
alone (``-k``)."""

from __future__ import annotations

import contextlib
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import twotier
from helpers.cli import invoke, one_line_error
from test_live_parity import write_bar_csv
from twotier.market.sample import load_sample

SEED = 20241203
IRON_ORE = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
OUTPUTS = ("out", "runs", "state", "new-state", "compare.html")


@dataclass
class Case:
    name: str
    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)  # written before the run


def _csv(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, object]:
    """Good inputs to spoil: two weeks of iron ore stamped by bar end, its packages, a
    roll schedule, a configuration and a search space."""
    folder = tmp_path_factory.mktemp("fuzz-base")
    frame = load_sample("DCE/i")
    frame = frame[frame["trading_day"] <= pd.Timestamp("2023-01-13")]
    out = frame.drop(columns=["trading_day"]).reset_index()
    out.insert(0, "datetime", (out["time"] + pd.Timedelta(minutes=15)).dt.strftime("%F %T"))
    out.drop(columns=["time"]).to_csv(folder / "bars.csv", index=False)
    write_bar_csv(frame, folder / "DCE_i.csv")
    result = twotier.backtest(bars={"DCE/i": folder / "bars.csv"}, label="end")
    result.packages["DCE/i"].to_csv(folder / "packages.csv", index=False)
    return {
        "bars": _csv(folder / "bars.csv"),
        "feed": _csv(folder / "DCE_i.csv"),
        "packages": _csv(folder / "packages.csv"),
        "rolls": [
            "trading_day,old_contract,new_contract,old_price,new_price",
            "2023-01-09,i2305,i2309,760.5,748",
        ],
    }


# -- spoilers ----------------------------------------------------------------------------

CELLS = ["", "nan", "inf", "-inf", "-1", "0", "1e300", "abc", "１２３", "1,5", "x" * 300, "None"]
TIMES = [
    "2023-13-01 09:15:00",
    "2023-01-03 09:07:00",
    "2023-01-03 09:05:30",
    "2023-01-03 03:00:00",
    "2023-01-01 09:15:00",
    "2023-01-03T09:15:00+08:00",
    "1672707300",
    "yesterday",
    "",
    "2023-01-03 09:15:00.5",
    "2099-01-05 09:15:00",
    "1900-01-02 09:15:00",
]


def spoil_table(rng: random.Random, lines: list[str], time_column: int = 0) -> tuple[str, bytes]:
    """One damaged version of a CSV table, and what was done."""
    header, rows = lines[0], list(lines[1:])
    kind = rng.choice(
        [
            "cell",
            "time",
            "drop_column",
            "rename_column",
            "no_header",
            "only_header",
            "empty",
            "duplicate",
            "swap",
            "truncate",
            "binary",
            "extra_field",
            "missing_field",
            "bom",
            "semicolons",
            "scale",
            "high_low",
            "blank_lines",
        ]
    )
    width = len(header.split(","))
    row = rng.randrange(len(rows))
    col = rng.randrange(width)
    if kind == "cell":
        cells = rows[row].split(",")
        cells[col] = rng.choice(CELLS)
        rows[row] = ",".join(cells)
    elif kind == "time":
        cells = rows[row].split(",")
        cells[time_column] = rng.choice(TIMES)
        rows[row] = ",".join(cells)
    elif kind == "drop_column":
        header = ",".join(c for i, c in enumerate(header.split(",")) if i != col)
        rows = [",".join(c for i, c in enumerate(r.split(",")) if i != col) for r in rows]
    elif kind == "rename_column":
        names = header.split(",")
        names[col] = rng.choice(["close", "time", "", "Close ", "价格", names[(col + 1) % width]])
        header = ",".join(names)
    elif kind == "no_header":
        header = rows.pop(0)
    elif kind == "only_header":
        rows = []
    elif kind == "empty":
        return kind, b""
    elif kind == "duplicate":
        rows.insert(row, rows[row])
    elif kind == "swap":
        other = min(row + 1, len(rows) - 1)
        rows[row], rows[other] = rows[other], rows[row]
    elif kind == "truncate":
        text = "\n".join([header, *rows])
        return kind, text[: rng.randrange(1, len(text))].encode()
    elif kind == "binary":
        return kind, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    elif kind == "extra_field":
        rows[row] += ",1,2"
    elif kind == "missing_field":
        rows[row] = ",".join(rows[row].split(",")[:-2])
    elif kind == "bom":
        header = "\ufeff" + header
    elif kind == "semicolons":
        header, rows = header.replace(",", ";"), [r.replace(",", ";") for r in rows]
    elif kind == "scale":
        cells = rows[row].split(",")
        for i in range(1, min(5, width)):
            with contextlib.suppress(ValueError):
                cells[i] = repr(float(cells[i]) * rng.choice([1e12, 1e-9, -1.0, 1e6]))
        rows[row] = ",".join(cells)
    elif kind == "high_low":
        cells = rows[row].split(",")
        if width > 3:
            cells[2], cells[3] = cells[3], cells[2]
        rows[row] = ",".join(cells)
    elif kind == "blank_lines":
        rows.insert(row, "")
        rows.insert(row, ",,,")
    return kind, ("\n".join([header, *rows]) + "\n").encode("utf-8")


CONFIGS = [
    "[sizing\nmax_leverage = 3\n",
    "sizing = 3\n",
    "[sizing]\nmax_leverage = true\n",
    "[sizing]\nmax_leverage = -1\n",
    '[sizing]\nmax_leverage = "20"\n',
    '[sizing]\nleverage_mode = "turbo"\n',
    '[exits]\ntrailing_stop = "yes"\n',
    "[exits]\nstop_losses = [[2, 3.0]]\n",
    "[exits]\nstop_losses = [[4, 0.02], [2, 0.03]]\n",
    "[exits]\nprofit_targets = [[3, 0.08], [5, 0.07]]\n",
    "[exits]\nprofit_targets = []\n",
    "[exits]\nprofit_targets = [[5]]\n",
    '[exits]\nstop_losses = "tight"\n',
    "[portfolio]\ninitial_capital = 1e15\n",
    "[portfolio]\ninitial_capital = 0\n",
    "[portfolio]\ninitial_capital = 100.001\n",
    '[portfolio]\ninitial_capital = "lots"\n',
    "[portfolio]\nbaskets = []\n",
    '[portfolio]\nbaskets = [{instrument = "DCE/i", capital_fraction = 0.6}, '
    '{instrument = "DCE/i", capital_fraction = 0.3}]\n',
    '[portfolio]\nbaskets = [{instrument = "DCE/i", capital_fraction = 1.2}]\n',
    '[portfolio]\nbaskets = [{instrument = "DCE/x", capital_fraction = 0.3}]\n',
    '[portfolio]\nbaskets = [{instrument = "SHFE/cu", capital_fraction = 0.5}]\n',
    '[portfolio]\nbaskets = [{instrument = "DCE/i", capital_fraction = 0.5, sizing = '
    '{max_leverage = "high"}}]\n',
    '[portfolio]\nbaskets = [{instrument = "DCE/i"}]\n',
    '[generators."dce/i".params]\nmin_confidence = 0.3\n',
    '[generators."DCE/i"]\nparams = {min_confidence = 3}\n',
    '[generators."DCE/i"]\nparams = {nonsense = 1}\n',
    "[tier1.indicators]\nema_fast = 30\n",
    "[tier1.indicators]\nrsi_period = 14.5\n",
    '[tier1]\nrequired_checks = ["trend", "luck"]\n',
    "[tier1]\nrequired_checks = []\n",
    "[tier1.weights]\ntrend = 0\nmomentum = 0\nrsi = 0\nvolume = 0\nbollinger = 0\n",
    '[execution]\nfill = "later"\n',
    "[execution]\nslippage_ticks = -1\n",
    '[execution]\nfees = "no"\n',
    '[data]\nlabel = "middle"\n',
    '[data]\ninstruments_file = "no-such-instruments.toml"\n',
    '[data]\ncalendar_file = "no-such-calendar.toml"\n',
    '[data]\ncalendar_file = "bars.csv"\n',
    "[nonsense]\nx = 1\n",
    "\x00\x01\x02",
    "[breakers]\nmax_drawdown = 1.5\n",
    "[limits]\nreserve_balanced = 2\n",
    "[sizing.strong]\nthreshold = 0.1\n",
]

SPACES = [
    "[space\n",
    "[space]\n",
    '[space]\n"exits.stop_loss_above" = {range = [0.02, 0.01, 0.005]}\n',
    '[space]\n"exits.nonsense" = [1, 2]\n',
    '[space]\n"sizing.max_leverage" = {random = {low = 1, high = 5}}\n',
    '[space]\n"sizing.max_leverage" = {grid = []}\n',
    '[space]\n"data.label" = ["start", "end"]\n',
    '[space]\n"exits.trailing_stop" = ["yes", "no"]\n',
    '[space]\n"generators.dce/i.params.min_confidence" = [0.2, 0.3]\n',
    '[search]\nmethod = "magic"\n[space]\n"sizing.max_leverage" = [10, 20]\n',
    '[objective]\nname = "luck"\n[space]\n"sizing.max_leverage" = [10, 20]\n',
]


def option_cases() -> list[list[str]]:
    bars = ["--bars", "DCE/i=bars.csv", "--label", "end", "--set", IRON_ORE]
    out = ["--out", "out/run"]
    return [
        ["backtest"],
        ["backtest", *bars, "--signals", "packages.csv", *out],
        ["backtest", "--bars", "DCE/i", *out],
        ["backtest", "--bars", "=bars.csv", *out],
        ["backtest", "--bars", "DCE/i=missing.csv", *out],
        ["backtest", "--bars", "DCE/i=bars.csv", "--bars", "DCE/i=bars.csv", *out],
        ["backtest", "--bars", "DCE/i=.", "--label", "end", *out],
        ["backtest", *bars[:4], "--label", "middle", *out],
        ["backtest", *bars, "--on-bad-bar", "ignore", *out],
        ["backtest", *bars, "--fill", "later", *out],
        ["backtest", *bars, "--start", "tomorrow", *out],
        ["backtest", *bars, "--start", "2023-01-20", "--end", "2023-01-05", *out],
        ["backtest", *bars, "--end", "1999-01-01", *out],
        ["backtest", *bars, "--risk-free", "inf", *out],
        ["backtest", *bars, "--risk-free", "2", *out],
        ["backtest", *bars, "--risk-free", "abc", *out],
        ["backtest", *bars, "--set", "x", *out],
        ["backtest", *bars, "--set", "=3", *out],
        ["backtest", *bars, "--set", "sizing.max_leverage=", *out],
        ["backtest", *bars, "--set", "portfolio.baskets.9.capital_fraction=0.1", *out],
        ["backtest", *bars, "--set", "nonsense.key=1", *out],
        ["backtest", *bars, "--config", "missing.toml", *out],
        ["backtest", *bars, "--config", ".", *out],
        ["backtest", *bars, "--config", "bars.csv", *out],
        ["backtest", *bars, "--rolls", "missing.csv", *out],
        ["backtest", *bars, "--rolls", "SHFE/cu=rolls.csv", *out],
        ["backtest", *bars, "--rolls", "DCE/i=bars.csv", *out],
        ["backtest", *bars, "--contract-column", "symbol", *out],
        ["backtest", *bars, "--contract-column", "DCE/m=symbol", *out],
        ["backtest", *bars, "--contract-column", "a", "--contract-column", "b", *out],
        ["backtest", *bars, "--out", "bars.csv"],
        ["backtest", *bars, "--out", "bars.csv/run"],
        ["backtest", *bars, "--out", "."],
        ["backtest", *bars, "--out", ""],
        ["backtest", "--signals", "packages.csv", "--label", "end", *out],
        ["backtest", "--signals", "missing.csv", *out],
        ["backtest", "--signals", ".", *out],
        ["backtest", "--signals", "packages.csv", "--signals", "packages.csv", *out],
        ["backtest", "--nope"],
        ["demo", "--start", "2030-01-01", "--out", "out/demo"],
        ["demo", "--end", "not-a-day", "--out", "out/demo"],
        ["demo", "--out", "bars.csv"],
        ["signals", "--bars", "DCE/i=bars.csv", "--label", "end", "--out", "bars.csv"],
        ["signals", "--bars", "DCE/x=bars.csv", "--out", "out/sig"],
        ["signals", "--out", "out/sig"],
        ["report", "missing-run"],
        ["report", "out", "--risk-free", "nan"],
        ["compare", "a", "b", "--risk-free", "-inf"],
        ["report", "bars.csv"],
        ["report", "."],
        ["trades", "missing-run"],
        ["trades", ".", "--json"],
        ["compare", "missing-a", "missing-b"],
        ["compare", "."],
        ["data", "check", "missing.csv", "--instrument", "DCE/i"],
        ["data", "check", "bars.csv", "--instrument", "DCE/x"],
        ["data", "check", "bars.csv", "--instrument", "DCE/i", "--bar-minutes", "0"],
        ["data", "check", "bars.csv", "--instrument", "DCE/i", "--calendar", "bars.csv"],
        ["data", "check", "bars.csv", "--instrument", "DCE/i", "--instruments", "missing.toml"],
        ["data", "resample", "bars.csv", "--instrument", "DCE/i", "--to", "7", "--out", "x.pq"],
        ["data", "rolls", "missing-folder", "--instrument", "SHFE/cu"],
        ["data", "rolls", ".", "--instrument", "SHFE/cu", "--by", "luck"],
        ["config", "check", "missing.toml"],
        ["config", "show", "--set", "sizing.max_leverage=true"],
        ["sample", "--out", "out/sample", "--start", "2023-13-01"],
        ["sample", "--out", "bars.csv"],
        ["optimize", "--space", "missing.toml", "--sample", "--out", "out/sweep"],
        ["optimize", "--space", "space-0.toml", "--sample", "--bars", "DCE/i=bars.csv"],
        ["optimize", "--space", "space-2.toml", "--sample", "--workers", "0", "--out", "out/s"],
        ["optimize", "--space", "space-2.toml", "--sample", "--scheduler", "nonsense"],
        ["paper", "--feed", "nowhere", "--state", "state", "--once"],
        ["paper", "--feed", "folder:missing", "--state", "state", "--once"],
        ["paper", "--feed", "folder:feed", "--state", "bars.csv", "--once"],
        ["paper", "--feed", "folder:feed", "--state", "state", "--bar-minutes", "7"],
        ["paper", "--feed", "folder:feed", "--state", "state", "--durability", "maybe"],
        ["paper", "--feed", "folder:feed", "--state", "state", "--contract-column", "DCE/i=x"],
        ["paper", "--feed", "folder:feed", "--state", "new-state", "--history", "DCE/i=x.csv"],
        ["paper", "--feed", "folder:feed", "--state", ".", "--once"],
    ]


def cases(base) -> list[Case]:
    rng = random.Random(SEED)
    made: list[Case] = []
    bars = ["--label", "end", "--set", IRON_ORE, "--quiet", "--out", "out/run"]
    for n in range(70):
        kind, data = spoil_table(rng, base["bars"])
        name = rng.choice(["bad.csv", "bad.csv.gz", "bad.parquet", "bad.CSV"])
        command = rng.choice(
            [
                ["backtest", "--bars", f"DCE/i={name}", *bars],
                ["data", "check", name, "--instrument", "DCE/i", "--label", "end"],
                ["signals", "--bars", f"DCE/i={name}", "--label", "end", "--out", "out/sig"],
                ["backtest", "--bars", f"DCE/i={name}", "--on-bad-bar", "drop", *bars],
            ]
        )
        made.append(Case(f"bars-{n}-{kind}", command, {name: data}))
    for n in range(40):
        kind, data = spoil_table(rng, base["packages"])
        command = ["backtest", "--signals", "bad-packages.csv", "--set", IRON_ORE]
        made.append(
            Case(f"packages-{n}-{kind}", [*command, "--out", "out/run"], {"bad-packages.csv": data})
        )
    for n in range(12):
        kind, data = spoil_table(rng, base["rolls"] * 1)
        args = ["backtest", "--bars", "DCE/i=bars.csv", "--rolls", "DCE/i=bad-rolls.csv", *bars]
        made.append(Case(f"rolls-{n}-{kind}", args, {"bad-rolls.csv": data}))
    for n, text in enumerate(CONFIGS):
        files = {"bad.toml": text.encode("utf-8", "replace")}
        made.append(Case(f"config-check-{n}", ["config", "check", "bad.toml"], files))
        args = ["backtest", "--bars", "DCE/i=bars.csv", "--config", "bad.toml", "--label", "end"]
        made.append(Case(f"config-run-{n}", [*args, "--quiet", "--out", "out/run"], files))
    for n, text in enumerate(SPACES):
        args = ["optimize", "--space", "bad-space.toml", "--bars", "DCE/i=bars.csv", "--label"]
        args += ["end", "--set", IRON_ORE, "--out", "out/sweep", "--scheduler", "tcp://127.0.0.1:1"]
        made.append(Case(f"space-{n}", args, {"bad-space.toml": text.encode()}))
    for n in range(10):
        kind, data = spoil_table(rng, base["feed"])
        args = ["paper", "--feed", "folder:badfeed", "--state", "state", "--once", "--quiet"]
        made.append(
            Case(f"feed-{n}-{kind}", [*args, "--set", IRON_ORE], {"badfeed/DCE_i.csv": data})
        )
    for n, args in enumerate(option_cases()):
        made.append(Case(f"option-{n}", args))
    return made


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file and folder outside the run's outputs, with a hash of its contents."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in OUTPUTS:
            continue
        found[str(relative)] = (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
    return found


@pytest.fixture(scope="module")
def workspace(base, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "bars.csv").write_text("\n".join(base["bars"]) + "\n")
    (folder / "packages.csv").write_text("\n".join(base["packages"]) + "\n")
    (folder / "rolls.csv").write_text("\n".join(base["rolls"]) + "\n")
    (folder / "feed").mkdir()
    (folder / "feed" / "DCE_i.csv").write_text("\n".join(base["feed"]) + "\n")
    for n, text in enumerate(SPACES):
        (folder / f"space-{n}.toml").write_text(text)
    return folder


def test_there_are_at_least_200_bad_inputs(base):
    assert len(cases(base)) >= 200


def test_no_bad_input_gets_a_traceback_or_changes_a_file_it_does_not_own(
    base, workspace, capsys, monkeypatch
):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("COLUMNS", "200")
    failures = []
    for case in cases(base):
        for name, data in case.files.items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            (workspace / name).write_bytes(data)
        before = _fingerprint(workspace)
        code, _, err = invoke(case.args, capsys)
        after = _fingerprint(workspace)
        problems = []
        if "Traceback" in err or "internal error" in err:
            problems.append(err.strip().splitlines()[-1])
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        if code != 0 and len(errors) != 1:
            problems.append(f"exit {code} with {len(errors)} error lines: {err.strip()[:300]!r}")
        if after != before:
            changed = sorted(set(after.items()) ^ set(before.items()))
            problems.append(f"changed outside its outputs: {changed[:3]}")
        if problems:
            failures.append(f"{case.name} {case.args}: {'; '.join(problems)}")
        for name in case.files:
            (workspace / name).unlink()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--fill", "open", "--fill must be next_open or close, not 'open'"),
        ("--label", "middle", "--label must be start or end, not 'middle'"),
        ("--on-bad-bar", "fix", "--on-bad-bar must be refuse, drop or repair, not 'fix'"),
    ],
)
def test_a_backtest_option_of_no_known_value_is_named(option, value, message, capsys, tmp_path):
    # It was reported as a configuration error of "defaults + --set".
    code, _, err = invoke(["backtest", "--bars", "DCE/i=x.csv", option, value, "--out",
                           tmp_path / "run"], capsys)  # fmt: skip
    assert code == 1 and message in one_line_error(err)
