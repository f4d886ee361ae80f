"""A paper state folder is resumed or started afresh, never silently replaced: a folder
holding an earlier state without its database, a damaged or foreign database, a stored
row that cannot be read back, or an unknown schema version is refused in one line, and
nothing in the folder changes. The lock holds by itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from helpers.cli import invoke, one_line_error
from test_live_parity import write_sample_feed
from twotier.live.lock import StateLock, StateLockedError

IRON_ORE = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("feed")
    files = write_sample_feed(folder, "2024-10-08", "2024-10-09")
    for key, path in files.items():
        if key != "DCE/i":
            path.unlink()
    return folder


def paper(feed: Path, state: Path, capsys, *extra) -> tuple[int, str, str]:
    args = ["paper", "--feed", f"folder:{feed}", "--once", "--quiet", "--state", state]
    return invoke([*args, "--durability", "normal", *extra], capsys)


@pytest.fixture
def state(feed, tmp_path, capsys) -> Path:
    """A state folder after a run of 2 trading days."""
    folder = tmp_path / "state"
    code, _, err = paper(feed, folder, capsys, "--set", IRON_ORE)
    assert code == 0, err
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def refused(feed: Path, folder: Path, capsys) -> str:
    return refused_with(feed, folder, capsys)


def refused_with(feed: Path, folder: Path, capsys, *extra) -> str:
    """The one-line error of a paper run refused with ``extra`` options; nothing in the
    folder changed (but the log)."""
    before = contents(folder)
    code, _, err = paper(feed, folder, capsys, *extra)
    assert code == 1
    line = one_line_error(err)
    after = contents(folder)
    after.pop("paper.log", None), before.pop("paper.log", None)  # the error is logged
    for name in ("lock", "state.db-shm"):  # SQLite's shared-memory index of the WAL
        after.pop(name, None), before.pop(name, None)
    assert after == before
    return line


def test_a_state_resumes_after_its_run(feed, state, capsys):
    code, _, err = paper(feed, state, capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    ("option", "value", "started"), [("--label", "end", "start"), ("--bar-minutes", "5", "15")]
)
def test_a_state_resumes_only_with_the_feed_it_was_started_with(
    feed, state, capsys, option, value, started
):
    # The bars already processed were read with the state's label and bar length: another
    # on restart would shift or split the bars still to come.
    line = refused_with(feed, state, capsys, option, value)
    assert f"was started with {option} {started}, not {value}; resume without {option}" in line
    code, _, err = paper(feed, state, capsys, option, started)  # the same, said again
    assert code == 0, err


def test_a_state_started_before_its_feed_was_kept_resumes_and_keeps_it(feed, state, capsys):
    with sqlite3.connect(state / "state.db") as db:
        db.execute("DELETE FROM meta WHERE key = 'feed'")
    db.close()
    code, _, err = paper(feed, state, capsys, "--label", "start")
    assert code == 0, err
    line = refused_with(feed, state, capsys, "--bar-minutes", "5")
    assert "was started with --bar-minutes 15, not 5" in line


@pytest.mark.parametrize(
    ("row", "error"),
    [('{"label": ', "JSONDecodeError"), ('{"label": "x", "bar_minutes": 7}', "ValueError")],
)
def test_a_damaged_feed_row_is_refused_as_a_damaged_state(feed, state, capsys, row, error):
    with sqlite3.connect(state / "state.db") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'feed'", (row,))
    db.close()
    assert f"the state is damaged (a stored row: {error}" in refused(feed, state, capsys)


def test_a_label_or_bar_length_the_feed_cannot_have_is_refused(feed, tmp_path, capsys):
    code, _, err = paper(feed, tmp_path / "state", capsys, "--label", "END")
    assert code == 1 and "--label must be start or end, not 'END'" in one_line_error(err)
    code, _, err = paper(feed, tmp_path / "state", capsys, "--bar-minutes", "7")
    assert code == 1 and "--bar-minutes must be 1 or 3 or 5 or 15, not 7" in one_line_error(err)


def test_a_folder_of_a_users_files_is_not_a_state_folder(feed, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("n")
    line = refused(feed, folder, capsys)
    assert "the folder holds files twotier did not write (notes.txt)" in line


def test_a_state_without_its_database_is_refused_naming_it(feed, state, capsys):
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (state / name).unlink(missing_ok=True)
    line = refused(feed, state, capsys)
    assert "holds an earlier paper state (config.toml, paper.log, run) but no state.db" in line
    assert "new or empty --state folder" in line


def test_an_empty_database_is_refused(feed, state, capsys):
    (state / "state.db").write_bytes(b"")
    assert "the state database is empty (0 bytes)" in refused(feed, state, capsys)


def test_a_garbage_database_is_refused(feed, state, capsys):
    (state / "state.db").write_bytes(b"not sqlite at all\n" * 100)
    assert "not a readable state database (file is not a database)" in refused(feed, state, capsys)


def test_a_truncated_database_is_refused(feed, state, capsys):
    db = state / "state.db"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    line = refused(feed, state, capsys)
    assert str(db) in line and ("damaged" in line or "not a readable" in line)


def test_an_unknown_schema_version_is_refused(feed, state, capsys):
    with sqlite3.connect(state / "state.db") as c:
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    assert "state schema version '99' is not one this twotier reads" in refused(feed, state, capsys)


def test_a_truncated_state_row_is_refused(feed, state, capsys):
    with sqlite3.connect(state / "state.db") as c:
        (body,) = c.execute("SELECT body FROM state WHERE name = 'tier2'").fetchone()
        c.execute("UPDATE state SET body = ? WHERE name = 'tier2'", (body[: len(body) // 2],))
    line = refused(feed, state, capsys)
    assert "the state is damaged (a stored row: JSONDecodeError" in line


def test_another_sqlite_database_is_not_taken_over(feed, tmp_path, capsys):
    folder = tmp_path / "state"
    folder.mkdir()
    with sqlite3.connect(folder / "state.db") as c:
        c.execute("CREATE TABLE customers (name TEXT)")
    assert "not a twotier state database" in refused(feed, folder, capsys)


def test_state_at_a_file_is_one_line(feed, tmp_path, capsys):
    target = tmp_path / "state"
    target.write_text("x")
    code, _, err = paper(feed, target, capsys)
    assert code == 1 and "a file is there, not a folder" in one_line_error(err)
    assert target.read_text() == "x"


def test_a_run_folder_holding_a_users_files_is_refused(feed, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("n")
    args = ["--set", IRON_ORE, "--out", out]
    code, _, err = paper(feed, tmp_path / "state", capsys, *args)
    assert code == 1 and "twotier did not write (notes.txt)" in one_line_error(err)
    assert contents(out) == {"notes.txt": b"n"}
    assert not (tmp_path / "state").exists()  # refused before a state was made


def test_the_lock_holds_when_its_file_is_deleted(tmp_path):
    with StateLock(tmp_path):
        (tmp_path / "lock").unlink()
        with pytest.raises(StateLockedError, match="in use by another twotier process"):
            StateLock(tmp_path).acquire()
    StateLock(tmp_path).acquire()  # released with its holder


def test_a_state_that_named_its_calendar_relative_resumes_from_the_folder_it_ran_in(
    feed, tmp_path, capsys, monkeypatch
):
    # States started before twotier named a configuration's files absolute kept them as
    # given, read from the current folder: they resume, with the same --set too, and
    # their run folder's config.toml names the file absolute.
    monkeypatch.chdir(tmp_path)
    Path("calendar.toml").write_text("holidays = []\n")
    relative = "data.calendar_file=calendar.toml"
    code, _, err = paper(feed, tmp_path / "state", capsys, "--set", IRON_ORE, "--set", relative)
    assert code == 0, err
    db = sqlite3.connect(tmp_path / "state" / "state.db")
    (stored,) = db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
    absolute = f'calendar_file = "{tmp_path / "calendar.toml"}"'
    assert absolute in stored
    with db:  # as a state of before stored it
        db.execute(
            "UPDATE meta SET value = ? WHERE key = 'config'",
            (stored.replace(absolute, 'calendar_file = "calendar.toml"'),),
        )
    db.close()
    for extra in ([], ["--set", IRON_ORE, "--set", relative]):
        code, _, err = paper(feed, tmp_path / "state", capsys, *extra)
        assert code == 0, err
    assert absolute in (tmp_path / "state" / "run" / "config.toml").read_text()


def test_a_first_start_that_did_not_finish_resumes_only_with_its_configuration(
    feed, tmp_path, capsys
):
    # A first start that ends before its first commit (here its history is refused; a
    # kill while it reads the history leaves the same) keeps its configuration's copy.
    # Started again without its --set, it ran silently with the defaults.
    bad = tmp_path / "history.csv"
    bad.write_text("time,open,high,low,close,volume\n2024-10-07 12:00:00,1,2,1,1,1\n")
    capital = "portfolio.initial_capital=2000000"
    state = tmp_path / "state"
    code, _, err = paper(feed, state, capsys, "--set", IRON_ORE, "--set", capital,
                         "--history", f"DCE/i={bad}")  # fmt: skip
    assert code == 1 and "outside the sessions" in err
    assert (state / "config.toml").is_file()
    line = refused_with(feed, state, capsys, "--set", IRON_ORE)
    assert "holds a first start that did not finish (nothing was traded)" in line
    code, _, err = paper(feed, state, capsys, "--set", IRON_ORE, "--set", capital)
    assert code == 0, err
    assert "initial_capital = 2000000" in (state / "run" / "config.toml").read_text()


def test_a_feed_folder_that_does_not_exist_starts_no_state(tmp_path, capsys):
    # It started the state, fixing --label and --bar-minutes: the corrected command was
    # refused for another --label.
    args = ["paper", "--feed", f"folder:{tmp_path / 'typo'}", "--once", "--state"]
    code, _, err = invoke([*args, tmp_path / "state", "--label", "end"], capsys)
    assert code == 1 and f"{tmp_path / 'typo'}: feed folder not found" in one_line_error(err)
    assert not (tmp_path / "state").exists()


def test_bars_a_restart_reads_that_were_never_processed_are_said_not_skipped(tmp_path, capsys):
    # A collector wrote a day's last bars after the next day's file began: a live run
    # stops on them (out of order); a restart, reading the files afresh, took them as
    # "already processed" and left them out silently.
    feed = tmp_path / "feed"
    files = write_sample_feed(feed, "2024-10-08", "2024-10-09")
    for path in files.values():
        if path.name != "DCE_i.csv":
            path.unlink()
    header, *rows = files["DCE/i"].read_text().splitlines(keepends=True)
    first_day = [r for r in rows if r < "2024-10-08 15"]  # the night of 10-07 and 10-08
    held, kept = first_day[-2:], first_day[:-2]
    files["DCE/i"].unlink()
    (feed / "DCE_i-1.csv").write_text(header + "".join(kept))
    (feed / "DCE_i-2.csv").write_text(header + "".join(rows[len(first_day) :]))
    state = tmp_path / "state"
    code, _, err = paper(feed, state, capsys, "--set", IRON_ORE)
    assert code == 0, err
    with (feed / "DCE_i-1.csv").open("a") as f:
        f.write("".join(held))
    code, _, err = paper(feed, state, capsys)
    assert code == 0, err
    log = (state / "paper.log").read_text()
    for row in held:
        stamp = row[:16]
        assert f"DCE/i bar {stamp} ({feed / 'DCE_i-1.csv'}" in log
    assert log.count("was never processed itself: left out") == 2
