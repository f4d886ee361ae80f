"""A basket whose instrument has no bar in the period traded: it trades nothing and the
run says so, whichever side of the period its bars lie on; and what a run says of its
instruments does not depend on the order its bars were given in."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from twotier import api
from twotier.cli.main import run as cli
from twotier.config import load_config
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.optimize.space import parse_space
from twotier.optimize.sweep import SweepRequest, plan_sweep

START, END = "2023-03-01", "2023-09-28"


@pytest.fixture(scope="module")
def bars() -> dict[str, pd.DataFrame]:
    return {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}


def from_day(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    return frame[frame["trading_day"] >= day]


def until_day(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    return frame[frame["trading_day"] <= day]


def test_an_instrument_whose_bars_all_come_after_the_end_trades_nothing(bars):
    later = {**bars, "SHFE/cu": from_day(bars["SHFE/cu"], "2023-10-09")}
    three = api.backtest(bars=later, start=START, end=END)
    two = api.backtest(bars={k: bars[k] for k in ("DCE/i", "DCE/m")}, start=START, end=END)
    assert (
        "SHFE/cu: no bar from 2023-03-01 to 2023-09-28 (its bars run from 2023-10-09 to "
        f"{bars['SHFE/cu']['trading_day'].iloc[-1]:%Y-%m-%d}): its basket trades nothing"
    ) in three.warnings
    assert (three.equity["position_1"] == 0).all()
    assert (three.equity["equity_1"] == 300_000).all()
    # The other baskets trade as in a run without it (whose 30% stays in the reserve).
    assert len(three.trades) > 0
    assert three.trades.drop(columns="basket").equals(two.trades.drop(columns="basket"))
    assert three.summary["final_pv"] == two.summary["final_pv"]


def test_an_instrument_whose_bars_all_end_before_the_start_is_warned_of(bars):
    earlier = {**bars, "DCE/m": until_day(bars["DCE/m"], "2023-02-28")}
    result = api.backtest(bars=earlier, start=START, end=END)
    assert (
        "DCE/m: no bar from 2023-03-01 to 2023-09-28 (its bars run from 2023-01-03 to "
        "2023-02-28): its basket trades nothing"
    ) in result.warnings
    assert (result.equity["position_2"] == 0).all()


def test_every_instrument_after_the_end_is_still_refused(bars):
    later = {k: from_day(v, "2023-10-09") for k, v in bars.items()}
    with pytest.raises(Exception, match="end 2023-09-28 is before the data's first trading day"):
        api.backtest(bars=later, end=END)


def test_a_sweep_notes_an_instrument_without_a_bar_in_its_period(bars):
    later = {**bars, "DCE/m": from_day(bars["DCE/m"], "2023-10-09")}
    space = parse_space({"space": {"sizing.min_conviction": {"grid": [0.3]}}})
    plan = plan_sweep(SweepRequest(space, later, load_config(), start=START, end=END))
    assert "DCE/m: no bar from 2023-03-01 to 2023-09-28: its basket trades nothing" in plan.notes
    assert plan.bars["DCE/m"].empty  # cut at the period's end: the run must take it


def test_the_order_of_the_bars_options_changes_no_file_of_the_run(bars, tmp_path, capsys):
    files = {}
    for key, frame in bars.items():
        path = tmp_path / f"{key.replace('/', '_')}.csv"
        # Copper shares no trading day with the others: a warning naming two instruments.
        part = from_day(frame, "2024-01-02") if key == "SHFE/cu" else until_day(frame, END)
        part.reset_index()[["time", "open", "high", "low", "close", "volume"]].to_csv(
            path, index=False
        )
        files[key] = path
    folders = []
    for order in (SAMPLE_INSTRUMENTS, tuple(reversed(SAMPLE_INSTRUMENTS))):
        out = tmp_path / "-".join(k.replace("/", "_") for k in order)
        options = [f"--bars={k}={files[k]}" for k in order]
        with pytest.raises(SystemExit) as done:
            cli(["backtest", *options, "--out", str(out), "--quiet"])
        assert done.value.code == 0, capsys.readouterr().err
        folders.append(out)
    first, second = (json.loads((f / "summary.json").read_text()) for f in folders)
    assert any("share no trading day" in w for w in first["warnings"])
    first.pop("created_at"), second.pop("created_at")
    assert first == second
    for name in ("report.html", "trades.csv", "fills.csv", "equity.csv", "decisions.log"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_a_run_folder_with_an_idle_basket_is_repeated_from_its_signals(bars, tmp_path, capsys):
    """The run folder's signals/ of a basket without a bar in the period can be read back
    with --signals (it was an empty table, refused: 'no packages in the table')."""
    later = {**bars, "DCE/m": from_day(bars["DCE/m"], "2023-10-09")}
    first = api.backtest(bars=later, start=START, end=END, out=tmp_path / "run")
    with pytest.raises(SystemExit) as done:
        cli(["backtest", "--signals", str(tmp_path / "run" / "signals"), "--config",
             str(tmp_path / "run" / "config.toml"), "--start", START, "--end", END,
             "--out", str(tmp_path / "again"), "--quiet"])  # fmt: skip
    assert done.value.code == 0, capsys.readouterr().err
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["final_pv"] == first.summary["final_pv"]
    assert any(w.startswith("DCE/m: no bar from 2023-03-01") for w in again["warnings"])
