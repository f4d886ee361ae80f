"""Paper trading rolls the same way (RULES.md 9): on the real iron ore main-contract
series, a paper run with a roll schedule or a contract column writes the run folder a
backtest with the same roll information writes (roll fills included), and a restart
just after or just before a roll resumes identically."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from helpers.scenario import NEVER_LET_GO
from test_live_parity import (
    assert_same_run_folders,
    backtest_folder,
    feed_pipe,
    json_lines,
    paper,
)
from twotier.config import load_config
from twotier.engine.backtest import instrument_signals
from twotier.errors import ConfigError, DataError
from twotier.live.bars import Bar, frame_to_bars
from twotier.live.loop import PaperSettings, run_paper
from twotier.live.market import MarketTracker
from twotier.live.rolls import ContractColumnRolls, ScheduleRolls
from twotier.live.signals import LiveInstrument
from twotier.live.store import SCHEMA_VERSION, Store
from twotier.market.instruments import default_registry
from twotier.market.resample import resample
from twotier.market.rolls import Roll, RollSchedule, contracts_for_bars, read_schedule
from twotier.tier1.generator import SignalGenerator

SCHEDULE = """trading_day,old_contract,new_contract,old_price,new_price
2019-12-06,i2001,i2005,654.5,619.5
2020-03-31,i2005,i2009,645.5,576.5
2020-08-10,i2009,i2101,896,817
"""
# Signals that never let go hold a position across every roll, so each roll fills.
HOLD = ('portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]', *NEVER_LET_GO)
FIVE_MINUTES = {"label": "end", "bar_minutes": 5}
SLICE_START = "2020-03-01"  # a month before the second roll: a shorter run, two rolls


@pytest.fixture(scope="module")
def iron_ore(real_file) -> Path:
    return real_file("DCE.i.HOT.m5.csv")


@pytest.fixture(scope="module")
def schedule(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rolls") / "rolls.csv"
    path.write_text(SCHEDULE)
    return path


@pytest.fixture(scope="module")
def spliced(iron_ore, real_bars, schedule, tmp_path_factory) -> Path:
    """The file from ``SLICE_START`` with a contract column by the schedule. Its roll
    prices are the schedule's: the old contract's last close, the new one's first open."""
    loaded = real_bars(iron_ore.name).frame
    bars = pd.read_csv(iron_ore, dtype={"datetime": str})
    assert len(bars) == len(loaded)
    bars["contract"] = contracts_for_bars(loaded, read_schedule(schedule))
    path = tmp_path_factory.mktemp("spliced") / iron_ore.name
    bars[bars["datetime"] >= SLICE_START].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def spliced_backtest(spliced, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("backtest") / "run"
    return backtest_folder({"DCE/i": spliced}, out, *HOLD, label="end", contract_column="contract")


def roll_fills(run: Path) -> pd.DataFrame:
    fills = pd.read_csv(run / "fills.csv")
    return fills[fills["reason"] == "roll"]


def test_a_paper_run_with_a_roll_schedule_writes_the_backtests_run_folder(
    iron_ore, schedule, tmp_path
):
    expected = backtest_folder(
        {"DCE/i": iron_ore}, tmp_path / "backtest", *HOLD, label="end",
        rolls={"DCE/i": read_schedule(schedule)},
    )  # fmt: skip
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / iron_ore.name).symlink_to(iron_ore)
    got = paper(f"folder:{feed}", tmp_path / "state", *HOLD, **FIVE_MINUTES, rolls={None: schedule})
    assert_same_run_folders(expected, got)
    rolled = roll_fills(got)
    assert sorted(set(rolled["trading_day"])) == ["2019-12-06", "2020-03-31", "2020-08-10"]
    assert list(rolled["opens"]) == [False, True] * 3
    signals = pd.read_parquet(got / "signals" / "DCE_i.parquet")
    assert list(signals["contract"].unique()) == ["i2001", "i2005", "i2009", "i2101"]


def test_a_paper_run_on_json_lines_with_a_contract_column_equals_the_backtest(
    spliced, spliced_backtest, tmp_path
):
    fd = feed_pipe(json_lines(spliced), chunk=4093)
    try:
        settings = PaperSettings(
            feed="stdin",
            state_dir=tmp_path / "state",
            overrides=list(HOLD),
            contract_column="contract",
            quiet=True,
            synchronous="NORMAL",
            **FIVE_MINUTES,
        )
        got = run_paper(settings, stdin_fd=fd, handle_signals=False).run_dir
    finally:
        os.close(fd)
    assert_same_run_folders(spliced_backtest, got)
    assert sorted(set(roll_fills(got)["trading_day"])) == ["2020-03-31", "2020-08-10"]


def test_restarts_just_after_and_just_before_a_roll_resume_identically(spliced, schedule, tmp_path):
    """A growing file, stopped after the first 15-minute bar of the 2020-03-31 roll (a
    position rolled, Tier-1 re-adjusted) and after the last bar before the 2020-08-10 roll
    (its night session starts on 08-07 at 21:00), ends as one run; the schedule given at
    the first start is kept in the state folder."""
    lines = spliced.read_text().splitlines(keepends=True)
    feed, state = tmp_path / "feed", tmp_path / "state"
    feed.mkdir()
    growing = feed / spliced.name
    for cut in ("2020-03-31 09:20", "2020-08-07 15:05"):
        growing.write_text("".join(x for x in lines if x < cut or x.startswith("datetime")))
        given = {None: schedule} if cut.startswith("2020-03") else {}
        paper(f"folder:{feed}", state, *HOLD, **FIVE_MINUTES, rolls=given)
    growing.write_text("".join(lines))
    expected = backtest_folder(
        {"DCE/i": spliced}, tmp_path / "backtest", *HOLD, label="end",
        rolls={"DCE/i": read_schedule(schedule)},
    )  # fmt: skip
    assert_same_run_folders(expected, paper(f"folder:{feed}", state, **FIVE_MINUTES))
    # On restart a schedule may gain a roll ahead, not change one already made.
    changed = tmp_path / "changed.csv"
    changed.write_text(SCHEDULE.replace("896,817", "896,818"))
    with pytest.raises(ConfigError, match="may only add rolls at its end"):
        paper(f"folder:{feed}", state, **FIVE_MINUTES, rolls={None: changed})
    past = tmp_path / "past.csv"
    past.write_text(SCHEDULE + "2020-08-12,i2101,i2105,900,880\n")
    with pytest.raises(ConfigError, match="not after the last bar already processed"):
        paper(f"folder:{feed}", state, **FIVE_MINUTES, rolls={None: past})
    ahead = tmp_path / "ahead.csv"
    ahead.write_text(SCHEDULE + "2020-12-01,i2101,i2105,900,880\n")
    paper(f"folder:{feed}", state, **FIVE_MINUTES, rolls={None: ahead})
    assert "roll schedule extended" in (state / "paper.log").read_text()


@pytest.mark.parametrize("method", ["ratio", "difference"])
def test_live_tier1_across_rolls_is_the_backtests_causal_signals(real_bars, schedule, method):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    bars = bars[bars.index >= pd.Timestamp(SLICE_START, tz="Asia/Shanghai")]
    config = load_config(None, [f"rolls.adjust={method}"])
    rolls = read_schedule(schedule)
    expected = instrument_signals("DCE/i", bars, config, rolls)
    name, params = config.generator_name("DCE/i"), config.tier1_params("DCE/i")
    generator = SignalGenerator(name, "DCE/i", params)
    tracker = MarketTracker(default_registry()["DCE/i"], config.market)
    live = LiveInstrument(generator, ScheduleRolls(rolls), method, tracker)
    for bar in frame_to_bars("DCE/i", bars, range(len(bars)), "bars"):
        live.update(bar)
    assert [r.trading_day for _, r in live.applied] == [date(2020, 3, 31), date(2020, 8, 10)]
    pd.testing.assert_frame_equal(live.frame(), expected, check_exact=True)


# -- the rules, bar by bar --------------------------------------------------------------


def bar(day: str, contract: str | None = None, price: float = 800.0, hour: int = 9) -> Bar:
    time = pd.Timestamp(f"{day} {hour:02d}:00", tz="Asia/Shanghai")
    trading_day = date.fromisoformat(day)
    return Bar("DCE/i", time.value, trading_day, price, price + 1, price - 1, price, 100.0,
               None, "feed.csv", 1, contract)  # fmt: skip


def test_a_contract_column_rolls_between_trading_days_only_and_never_back():
    rolls = ContractColumnRolls()
    assert rolls.next(bar("2024-10-08", "i2501", 760.0)) == ("i2501", None)
    assert rolls.next(bar("2024-10-09", "i2505", 740.0)) == (
        "i2505",
        Roll(date(2024, 10, 9), "i2501", "i2505", 760.0, 740.0),
    )
    with pytest.raises(DataError, match="inside trading day 2024-10-09"):
        rolls.next(bar("2024-10-09", "i2509", hour=10))
    again = ContractColumnRolls()
    for day, code in (("2024-10-08", "i2501"), ("2024-10-09", "i2505")):
        again.next(bar(day, code))
    with pytest.raises(DataError, match="i2501 comes back"):
        again.next(bar("2024-10-10", "i2501"))


def test_a_schedule_takes_effect_at_the_first_bar_on_or_after_its_day():
    first = Roll(date(2024, 10, 1), "i2409", "i2501", 700.0, 690.0)  # before the data
    later = Roll(date(2024, 10, 12), "i2501", "i2505", 760.0, 740.0)  # a Saturday
    rolls = ScheduleRolls(RollSchedule((first, later)))
    assert rolls.next(bar("2024-10-08")) == ("i2501", None)
    assert rolls.next(bar("2024-10-11")) == ("i2501", None)
    assert rolls.next(bar("2024-10-14")) == ("i2505", later)
    assert rolls.next(bar("2024-10-15")) == ("i2505", None)


def test_a_roll_on_a_late_bar_reaches_tier2_with_the_next_bar_it_sees():
    roll = Roll(date(2024, 10, 9), "i2501", "i2505", 760.0, 740.0)
    live = LiveInstrument(SignalGenerator("IronOreIndicator", "DCE/i"), ScheduleRolls(
        RollSchedule((roll,))
    ))  # fmt: skip
    live.update(bar("2024-10-08"), "live")
    assert live.update(bar("2024-10-09"), "late").roll == roll  # Tier-2 never sees it
    assert live.roll_here == roll
    carried = live.update(bar("2024-10-09", hour=10), "live")
    assert (carried.roll, carried.contract, live.roll_here) == (roll, "i2505", None)
    assert live.update(bar("2024-10-09", hour=11), "live").roll is None


def test_a_state_database_from_before_rolls_gets_the_contract_column(tmp_path):
    db = sqlite3.connect(tmp_path / "state.db")
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "CREATE TABLE bars (instrument TEXT NOT NULL, time_ns INTEGER NOT NULL, "
        "trading_day TEXT NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, "
        "close REAL NOT NULL, volume REAL NOT NULL, open_interest REAL, kind TEXT NOT NULL, "
        "step INTEGER, source TEXT NOT NULL, line INTEGER NOT NULL, "
        "PRIMARY KEY (instrument, time_ns)) WITHOUT ROWID;"
        "INSERT INTO bars VALUES ('DCE/i', 1, '2024-10-08', 1, 2, 1, 2, 3, NULL, 'live', 1, "
        "'feed.csv', 2);"
    )
    db.close()
    store = Store(tmp_path / "state.db")
    (old,) = [b for b, _ in store.bars()]
    assert old.contract is None and store.meta("schema_version") == str(SCHEMA_VERSION)
    assert (old.settle, old.limit_up, old.limit_down) == (None, None, None)  # nor these
    with store.transaction() as tx:
        tx.add_bars([replace(old, time_ns=2, contract="i2501")], "live", 2)
    assert [b.contract for b, _ in store.bars()] == [None, "i2501"]


def rebar_file(folder: Path) -> Path:
    """An instruments file adding SHFE rebar, an instrument the package does not ship."""
    spec = folder / "rb.toml"
    spec.write_text(
        '[instruments."SHFE/rb"]\nmarket = "SHFE"\nproduct = "rb"\nmultiplier = 10\n'
        'tick = 1\nmargin_rate = 0.13\nfee = { basis = "turnover", open = 0.0001, '
        "close = 0.0001, close_today = 0.0003 }\n"
        'day_sessions = [["09:00", "10:15"], ["10:30", "11:30"], ["13:30", "15:00"]]\n',
        encoding="utf-8",
    )
    return spec


def test_a_roll_file_of_another_product_is_refused_for_a_user_instrument(tmp_path):
    """Paper and live trading check a --rolls file's product with the configuration's
    instruments, the user's included, as a backtest does."""
    from twotier.live.rolls import read_roll_files
    from twotier.market.instruments import InstrumentRegistry

    spec = rebar_file(tmp_path)
    rolls = tmp_path / "rolls.csv"
    rolls.write_text(
        "trading_day,old_contract,new_contract,old_price,new_price\n"
        "2020-03-31,i2005,i2009,645.5,576.5\n",
        encoding="utf-8",
    )
    registry = InstrumentRegistry.load(spec)
    with pytest.raises(DataError, match="not a product 'rb' contract"):
        read_roll_files({"SHFE/rb": rolls}, ["SHFE/rb"], registry)


def test_paper_checks_a_roll_files_product_with_a_user_instrument(tmp_path):
    """The wiring, not only read_roll_files: a paper run passes the configuration's
    instruments (data.instruments_file) to the check."""
    spec = rebar_file(tmp_path)
    rolls = tmp_path / "rolls.csv"
    rolls.write_text(SCHEDULE, encoding="utf-8")  # iron ore's
    feed = tmp_path / "feed"
    feed.mkdir()
    with pytest.raises(DataError, match="not a product 'rb' contract"):
        paper(
            f"folder:{feed}", tmp_path / "state", f"data.instruments_file={spec}",
            'portfolio.baskets=[{instrument="SHFE/rb", capital_fraction=0.9}]',
            rolls={None: rolls},
        )  # fmt: skip
