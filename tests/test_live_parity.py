"""A paper run fed bars one at a time writes the run folder a backtest writes on the same
bars: the same trades, fills, equity, decisions and signals, byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.engine.inputs import Environment, load_bar_files, loading_records
from twotier.live.loop import PaperSettings, run_paper
from twotier.market.sample import load_sample
from twotier.market.settlement import day_settlements, estimated_limits
from twotier.money import price_units, price_units_array
from twotier.report.run_report import write_run_folder
from twotier.run.folder import MARKER

IRON_ORE = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
DATA_FILES = ("trades.csv", "fills.csv", "equity.csv", "decisions.log", "config.toml")


def write_sample_feed(folder: Path, start: str, end: str) -> dict[str, Path]:
    """The bundled sample bars of the three instruments between two days, one CSV file
    each, as a collector would write them (bar start times, 15-minute bars)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for key in ("DCE/i", "SHFE/cu", "DCE/m"):
        bars = load_sample(key)
        days = bars["trading_day"]
        bars = bars[(days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))]
        path = folder / f"{key.replace('/', '_')}.csv"
        write_bar_csv(bars, path)
        files[key] = path
    return files


def write_bar_csv(bars: pd.DataFrame, path: Path) -> None:
    out = bars.drop(columns=["trading_day"]).copy()
    out.index = out.index.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S")
    out.index.name = "time"
    out.to_csv(path, lineterminator="\n")


def backtest_folder(
    files: dict[str, Path],
    out: Path,
    *overrides: str,
    label="start",
    contract_column=None,
    recorded=True,
    **kw,
):
    """The run folder `twotier backtest` writes; with ``recorded``, its config.toml holds
    how the bars were read, as `--label` and `--contract-column` record it."""
    read = [f"data.label={label}"] + ([f"data.contract_column={contract_column}"]
                                      if contract_column else [])  # fmt: skip
    config = load_config(None, [*overrides, *(read if recorded else [])])
    env = Environment.from_config(config)
    inputs = load_bar_files(files, config, env, label, contract_column=contract_column)
    result = run_backtest({k: v.bars for k, v in inputs.items()}, config, **kw)
    result.summary.update(loading_records({k: v.loaded for k, v in inputs.items()}))
    return write_run_folder(result, out)  # as `twotier backtest` writes it


def paper(feed: str, state: Path, *overrides: str, **settings) -> Path:
    """An in-process paper run; a folder feed is read as it is, then the run stops.
    SQLite's NORMAL durability: commits survive a crash of the process, the only kind a
    test makes, at a tenth of the time."""
    options = {"once": feed.startswith("folder:"), "quiet": True, "synchronous": "NORMAL"}
    options.update(settings)
    settings = PaperSettings(feed=feed, state_dir=state, overrides=list(overrides), **options)
    return run_paper(settings, handle_signals=False).run_dir


def assert_same_run_folders(a: Path, b: Path) -> None:
    """Every file the same bytes, but the summary's creation time (which also shows in
    report.html) and the marker (a backtest's run folder and a paper run's are told
    apart by it)."""
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    names.remove(MARKER)
    assert {*DATA_FILES, "summary.json"} <= set(names)
    for name in names:
        left, right = (a / name).read_bytes(), (b / name).read_bytes()
        if name == "summary.json":
            ignored = {"created_at": None}
            left, right = (json.loads(x) | ignored for x in (left, right))
        if name != "report.html":
            assert left == right, f"{name} differs"


def json_lines(path: Path) -> list[bytes]:
    """The 5-minute CSV file as JSON lines, as a collector would send them."""
    frame = pd.read_csv(path, dtype={"datetime": str})
    return [
        (json.dumps({"instrument": "DCE/i", **row}) + "\n").encode()
        for row in frame.to_dict("records")
    ]


def feed_pipe(lines: list[bytes], chunk: int) -> int:
    """A pipe fed from a thread in chunks that cut lines in two; returns its read end."""
    read, write = os.pipe()
    data = b"".join(lines)

    def pump() -> None:
        with os.fdopen(write, "wb", buffering=0) as out:
            for at in range(0, len(data), chunk):
                out.write(data[at : at + chunk])

    threading.Thread(target=pump, daemon=True).start()
    return read


def test_paper_run_on_the_real_iron_ore_file_writes_the_backtests_run_folder(real_file, tmp_path):
    source = real_file("DCE.i.HOT.m5.csv")
    expected = backtest_folder({"DCE/i": source}, tmp_path / "backtest", IRON_ORE, label="end")
    fd = feed_pipe(json_lines(source), chunk=4093)
    try:
        got = run_paper(
            PaperSettings(
                feed="stdin",
                state_dir=tmp_path / "state",
                overrides=[IRON_ORE],
                label="end",
                bar_minutes=5,
                quiet=True,
                synchronous="NORMAL",
            ),
            stdin_fd=fd,
            handle_signals=False,
        )
    finally:
        os.close(fd)
    assert got.reason == "feed ended"
    assert got.total_steps == 5232
    assert_same_run_folders(expected, got.run_dir)
    # Without roll information the splices are suspected, as the backtest warns.
    (warning,) = json.loads((got.run_dir / "summary.json").read_text())["warnings"]
    assert "5 suspected roll(s)" in warning
    trades = (got.run_dir / "trades.csv").read_text().splitlines()
    assert len(trades) > 10  # the comparison is about a run that trades


@pytest.fixture(scope="module")
def two_months(tmp_path_factory) -> dict[str, Path]:
    return write_sample_feed(tmp_path_factory.mktemp("feed"), "2024-09-02", "2024-10-31")


def test_paper_run_on_three_sample_instruments_equals_the_backtest(two_months, tmp_path):
    expected = backtest_folder(two_months, tmp_path / "backtest")
    feed = f"folder:{next(iter(two_months.values())).parent}"
    got = paper(feed, tmp_path / "state")
    assert_same_run_folders(expected, got)
    fills = pd.read_csv(got / "fills.csv")
    assert set(fills["instrument"]) == {"DCE/i", "SHFE/cu", "DCE/m"}
    # The National Day week (2024-10-01 to 10-07) is a gap the steps jump over.
    days = pd.read_csv(got / "equity.csv")["trading_day"]
    assert "2024-09-30" in set(days) and "2024-10-08" in set(days)
    assert not days.between("2024-10-01", "2024-10-07").any()


def test_history_warm_up_starts_flat_as_a_backtest_from_a_start_day(two_months, tmp_path):
    """RULES.md 8.32: history bars only warm Tier-1 up; an episode running at the first
    live bar is not traded, exactly as a backtest started on that day."""
    start = "2024-10-08"
    expected = backtest_folder(two_months, tmp_path / "backtest", start=start)
    history, live = {}, tmp_path / "live"
    live.mkdir()
    for key, path in two_months.items():
        bars = pd.read_csv(path)
        cut = pd.to_datetime(bars["time"]) < pd.Timestamp("2024-09-30 21:00")
        history[key] = tmp_path / f"history_{path.name}"
        bars[cut].to_csv(history[key], index=False)
        bars[~cut].to_csv(live / path.name, index=False)
    got = paper(f"folder:{live}", tmp_path / "state", history=history)
    assert_same_run_folders(expected, got)
    assert pd.read_csv(got / "equity.csv")["trading_day"].iloc[0] == start


IRON_AT_30 = ('portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.3}]',)


def iron_ore_paper_and_backtest(
    bars: pd.DataFrame, tmp_path: Path, *overrides: str
) -> tuple[Path, Path, Path]:
    """Iron ore bars written as a feed, paper-traded and backtested with one basket of 30%:
    the run folders must be the same. Returns paper's, the backtest's and the feed."""
    feed = tmp_path / "feed"
    feed.mkdir()
    write_bar_csv(bars, feed / "DCE_i.csv")
    given = [*IRON_AT_30, *overrides]
    expected = backtest_folder({"DCE/i": feed / "DCE_i.csv"}, tmp_path / "backtest", *given)
    got = paper(f"folder:{feed}", tmp_path / "state", *given)
    assert_same_run_folders(expected, got)
    return got, expected, feed


def test_paper_run_with_an_exit_waiting_through_a_locked_day_equals_the_backtest(tmp_path):
    """RULES.md 10 live as in a backtest: the sample's iron ore of April 2024, with every
    bar of trading day 2024-04-29 (its night of 04-26 included) one price at the
    estimated limit down. A long held from 04-26 has its exit decided at the first locked
    bar; it waits through the day (logged at each bar) and fills on 04-30's first bar."""
    bars = load_sample("DCE/i")
    bars = bars[(bars["trading_day"] >= "2024-03-01") & (bars["trading_day"] <= "2024-05-10")]
    bars = bars.copy()
    day = bars["trading_day"]
    before = bars[day == pd.Timestamp("2024-04-26")]
    tick = price_units(0.5)
    settle = day_settlements(
        np.array([0]),
        price_units_array(before["high"].to_numpy()),
        price_units_array(before["low"].to_numpy()),
        price_units_array(before["close"].to_numpy()),
        before["volume"].to_numpy(dtype=float),
        tick,
    )[0]
    _, down = estimated_limits(int(settle), 0.11, tick)
    locked = day == pd.Timestamp("2024-04-29")
    for column in ("open", "high", "low", "close"):
        bars.loc[locked, column] = down / 10_000
    got = iron_ore_paper_and_backtest(bars, tmp_path)[0]
    log = (got / "decisions.log").read_text().splitlines()
    waits = [line for line in log if "WAIT basket 0 [exit_delayed_limit]" in line]
    assert len(waits) >= 10 and all(w.startswith(("[2024-04-26 2", "[2024-04-29")) for w in waits)
    fills = pd.read_csv(got / "fills.csv")
    late = fills[fills["bars_waited"] > 0]
    assert list(late["trading_day"]) == ["2024-04-30"] * len(late) and len(late) >= 1


def test_paper_run_with_a_delivery_deadline_close_equals_the_backtest(tmp_path):
    """RULES.md 11 live as in a backtest: the sample's iron ore named i2405 until
    2024-05-06 and i2409 after (a contract column that rolls late). i2405's deadline is
    2024-04-29 (the last trading day before May, 04-30, less one): the long held from
    04-26 is closed at that day's first bar, the night of 04-26, as in the backtest."""
    bars = load_sample("DCE/i")
    bars = bars[(bars["trading_day"] >= "2024-03-01") & (bars["trading_day"] <= "2024-05-31")]
    bars = bars.assign(
        contract=np.where(bars["trading_day"] < pd.Timestamp("2024-05-06"), "i2405", "i2409")
    )
    feed = tmp_path / "feed"
    feed.mkdir()
    write_bar_csv(bars, feed / "DCE_i.csv")
    overrides = ('portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.3}]',)
    files = {"DCE/i": feed / "DCE_i.csv"}
    expected = backtest_folder(files, tmp_path / "backtest", *overrides, contract_column="contract")
    got = paper(f"folder:{feed}", tmp_path / "state", *overrides, contract_column="contract")
    assert_same_run_folders(expected, got)
    trades = pd.read_csv(got / "trades.csv")
    closed = trades[trades["reason"] == "delivery_deadline"]
    assert list(closed["contract"]) == ["i2405"]
    assert list(closed["exit_decided_at"]) == ["2024-04-26 21:00:00"]
    log = (tmp_path / "state" / "paper.log").read_text()
    assert "ALERT deadline: DCE/i: the position on i2405 is closed at its delivery deadline" in log


def test_paper_run_reads_a_feeds_settle_and_limit_columns_as_the_backtest_does(tmp_path):
    """The data's own settlement and limits (RULES.md 10.1): each day's settle column is
    its last close plus 2 (not the volume-weighted price the bars would give), its limits
    the previous day's settle +- 9%. Trading day 2024-04-29 is one price at its limit
    down from the data, which the estimated limit (of the settlement computed from the
    bars) would not call locked. Paper trading read neither column."""
    bars = load_sample("DCE/i")
    bars = bars[(bars["trading_day"] >= "2024-03-01") & (bars["trading_day"] <= "2024-05-10")]
    bars = bars.copy()
    day = bars["trading_day"]
    last_close = bars.groupby("trading_day")["close"].transform("last")
    bars["settle"] = last_close + 2
    daily = bars.groupby("trading_day")["settle"].last()
    previous = day.map(daily.shift(1)).fillna(daily.iloc[0]).to_numpy()
    bars["limit_up"] = np.round(previous * 1.09 * 2) / 2
    bars["limit_down"] = np.round(previous * 0.91 * 2) / 2
    locked = day == pd.Timestamp("2024-04-29")
    for column in ("open", "high", "low", "close"):
        bars.loc[locked, column] = bars.loc[locked, "limit_down"]
    got, expected, feed = iron_ore_paper_and_backtest(bars, tmp_path)
    log = (got / "decisions.log").read_text()
    assert "[2024-04-29 09:00] WAIT basket 0 [exit_delayed_limit]" in log
    signals = pd.read_parquet(got / "signals" / "DCE_i.parquet")
    assert {"settle", "limit_up", "limit_down"} <= set(signals.columns)
    # Stopped in the middle of the locked day and resumed: the stored bars keep them.
    lines = (feed / "DCE_i.csv").read_text().splitlines(keepends=True)
    growing = tmp_path / "growing"
    growing.mkdir()
    cut = [x for x in lines if x < "2024-04-29 10:00" or x.startswith("time")]
    (growing / "DCE_i.csv").write_text("".join(cut))
    paper(f"folder:{growing}", tmp_path / "resumed", *IRON_AT_30)
    (growing / "DCE_i.csv").write_text("".join(lines))
    assert_same_run_folders(expected, paper(f"folder:{growing}", tmp_path / "resumed", *IRON_AT_30))


def test_what_the_loader_dropped_repaired_or_folded_in_is_in_paper_summary_too(tmp_path):
    # summary.json's bad_bars and merged_bars: a backtest recorded them, paper did not.
    bars = load_sample("DCE/i")
    bars = bars[bars["trading_day"] <= pd.Timestamp("2023-02-28")].copy()
    opens = bars.index[bars.index.strftime("%H:%M") == "09:00"]
    auction = bars.loc[[opens[3]]].copy()  # a day session's first bar, a minute early
    auction.index = auction.index - pd.Timedelta(minutes=1)
    bars = pd.concat([bars, auction]).sort_index()
    row = bars.index[100]
    bars.loc[row, "close"] = bars.loc[row, "high"] + 1  # repaired: the envelope widened
    got, _, _ = iron_ore_paper_and_backtest(bars, tmp_path, "data.on_bad_bar=repair")
    summary = json.loads((got / "summary.json").read_text())
    assert summary["merged_bars"]["DCE/i"]["auction_bars"] == 1
    assert len(summary["bad_bars"]["DCE/i"]["repaired"]) == 1


def test_a_state_resumed_on_a_folder_without_its_finished_files_ends_the_same(tmp_path):
    """docs/live.md: a collector's finished daily files may be moved out of the feed
    folder (a restart reads every file there again); their bars are in the state."""
    bars = load_sample("DCE/i")
    bars = bars[(bars["trading_day"] >= "2024-03-01") & (bars["trading_day"] <= "2024-04-30")]
    days = sorted(bars["trading_day"].unique())
    whole, feed = tmp_path / "whole", tmp_path / "feed"
    for folder in (whole, feed):
        folder.mkdir()
    for day in days:
        name = f"DCE_i-{pd.Timestamp(day):%Y%m%d}.csv"
        write_bar_csv(bars[bars["trading_day"] == day], whole / name)
    one = ('portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.3}]',)
    expected = paper(f"folder:{whole}", tmp_path / "one_go", *one)
    files = sorted(whole.iterdir())
    for path in files[:30]:
        shutil.copy(path, feed)
    paper(f"folder:{feed}", tmp_path / "state", *one)
    for path in feed.iterdir():
        path.unlink()  # finished: moved elsewhere
    for path in files[30:]:
        shutil.copy(path, feed)
    got = paper(f"folder:{feed}", tmp_path / "state")
    assert_same_run_folders(expected, got)
