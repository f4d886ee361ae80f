"""The state database: one SQLite file (WAL mode) in the state folder.

Everything a step changes is written in one transaction: the bars it consumed, the
step, Tier-2's state, the broker's book, the new decisions, fills, trades and equity row,
and the orders decided or filled. A crash leaves the database at the last committed step.
Tier-1's state is not stored as such (TA-Lib's stream handles cannot be saved): its bars
are, and a restart replays them through fresh generators.

    meta       key/value: schema version, configuration, roll information, creation time
    bars       every 15-minute bar given to Tier-1 (history, live, late), once each, with
               its contract where the feed has a contract column
    rolls      every roll Tier-1 made, at its bar (a restart must make the same ones)
    steps      one row per step taken (time unique)
    state      the latest Tier-2 state and broker book (JSON, see codec.py)
    decisions  fills  trades  equity     the rows of the run folder's files
    orders     every order with its id and status (decided, sent, filled, cancelled)
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from twotier.errors import TwotierError
from twotier.live.bars import Bar
from twotier.market.columns import SETTLE_AND_LIMITS

# 2: bars.contract and the rolls table (added to a version 1 file); 3: the gateway's trades
# keyed with their time (live/gateway_journal.py), which a version 2 file's get from theirs;
# 4: the bars' own settle and limits (none in an earlier file's bars).
SCHEMA_VERSION = 4
BLANK = -1.0  # a blank settle or limit cell as stored (prices are > 0; SQLite has no NaN)
ROW_TABLES = ("decisions", "fills", "trades")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bars (
    instrument TEXT NOT NULL, time_ns INTEGER NOT NULL, trading_day TEXT NOT NULL,
    open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
    volume REAL NOT NULL, open_interest REAL, kind TEXT NOT NULL, step INTEGER,
    source TEXT NOT NULL, line INTEGER NOT NULL, contract TEXT,
    settle REAL, limit_up REAL, limit_down REAL,
    PRIMARY KEY (instrument, time_ns)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rolls (
    instrument TEXT NOT NULL, time_ns INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (instrument, time_ns)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS steps (
    step INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL UNIQUE, trading_day TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (seq INTEGER PRIMARY KEY, step INTEGER, body TEXT);
CREATE TABLE IF NOT EXISTS fills (seq INTEGER PRIMARY KEY, step INTEGER, body TEXT);
CREATE TABLE IF NOT EXISTS trades (seq INTEGER PRIMARY KEY, step INTEGER, body TEXT);
CREATE TABLE IF NOT EXISTS equity (step INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, step INTEGER NOT NULL, body TEXT NOT NULL,
    status TEXT NOT NULL, fill TEXT
);
"""


class StateFolderError(TwotierError):
    """A state folder that can be neither resumed nor started afresh."""


class Store:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL"):
        self.path = Path(path)
        self.db = _connect(self.path)
        try:
            _check_database(self.db, self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous}")
            self.db.executescript(SCHEMA)
            self._upgrade()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise _unreadable(self.path, exc) from None
        except BaseException:
            self.db.close()
            raise

    def _upgrade(self) -> None:
        """A file of an earlier version, brought to this one in one transaction: a version
        1 file (before rolls) gets the contract column, its bars have none; a file before
        version 4 gets the settle and limit columns, its bars have none; the gateway's
        trades of a version 1 or 2 file get their time in their key, as
        ``gateway_journal.trade_key`` makes it (a repeat of a trade carries that time)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(bars)")}
        version = self.meta("schema_version")  # None: new, or created and never started
        stale = version is not None and int(version) < SCHEMA_VERSION
        if {"contract", *SETTLE_AND_LIMITS} <= columns and not stale:
            return
        untimed = version is not None and int(version) < 3
        with self.transaction():
            if "contract" not in columns:
                self.db.execute("ALTER TABLE bars ADD COLUMN contract TEXT")
            for name in SETTLE_AND_LIMITS:
                if name not in columns:
                    self.db.execute(f"ALTER TABLE bars ADD COLUMN {name} REAL")
            if untimed and self._has_table("gateway_trades"):
                self.db.execute("UPDATE gateway_trades SET trade_key = trade_key || '@' || time_ns")
            if version is not None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _has_table(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.db.execute(query, (name,)).fetchone() is not None

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside are committed together, or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- writes (inside a transaction) ---------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def add_bars(self, bars: list[Bar], kind: str, step: int | None) -> None:
        self.db.executemany(
            "INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    b.instrument, b.time_ns, b.trading_day.isoformat(), b.open, b.high,
                    b.low, b.close, b.volume, b.open_interest, kind, step, b.source, b.line,
                    b.contract, *map(_stored, b.market),
                )
                for b in bars
            ],
        )  # fmt: skip

    def add_rolls(self, rolls: list[tuple[str, int, str]]) -> None:
        """(instrument, time of the roll's bar, the roll as JSON)."""
        self.db.executemany("INSERT INTO rolls VALUES (?, ?, ?)", rolls)

    def add_step(self, step: int, time_ns: int, trading_day: date) -> None:
        self.db.execute(
            "INSERT INTO steps VALUES (?, ?, ?)", (step, time_ns, trading_day.isoformat())
        )

    def put_state(self, name: str, body: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (name, body))

    def add_rows(self, table: str, step: int, bodies: list[str]) -> None:
        assert table in ROW_TABLES
        self.db.executemany(
            f"INSERT INTO {table} (step, body) VALUES (?, ?)", [(step, b) for b in bodies]
        )

    def add_equity(self, step: int, body: str) -> None:
        self.db.execute("INSERT INTO equity VALUES (?, ?)", (step, body))

    def put_order(self, order_id: str, step: int, body: str, status: str) -> None:
        self.db.execute(
            "INSERT INTO orders (order_id, step, body, status) VALUES (?, ?, ?, ?)",
            (order_id, step, body, status),
        )

    def set_order_status(self, order_id: str, status: str, fill: str | None = None) -> None:
        self.db.execute(
            "UPDATE orders SET status = ?, fill = coalesce(?, fill) WHERE order_id = ?",
            (status, fill, order_id),
        )

    # -- reads ---------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def state(self, name: str) -> str | None:
        row = self.db.execute("SELECT body FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def bars(self) -> Iterator[tuple[Bar, str]]:
        """Every stored bar with its kind, each instrument's in time order."""
        rows = self.db.execute(
            "SELECT instrument, time_ns, trading_day, open, high, low, close, volume, "
            "open_interest, source, line, contract, settle, limit_up, limit_down, kind "
            "FROM bars ORDER BY instrument, time_ns"
        )
        for r in rows:
            market = (_read(v) for v in r[12:15])
            yield Bar(r[0], r[1], date.fromisoformat(r[2]), *r[3:12], *market), r[15]

    def rolls(self) -> list[tuple[str, int, str]]:
        """The rolls stored, each instrument's in time order (as ``add_rolls`` takes them)."""
        query = "SELECT instrument, time_ns, body FROM rolls ORDER BY instrument, time_ns"
        return [tuple(r) for r in self.db.execute(query)]

    def last_trading_days(self) -> dict[str, date]:
        """The trading day of each instrument's last bar."""
        rows = self.db.execute("SELECT instrument, max(trading_day) FROM bars GROUP BY instrument")
        return {key: date.fromisoformat(day) for key, day in rows}

    def last_bar_times(self) -> dict[str, int]:
        rows = self.db.execute("SELECT instrument, max(time_ns) FROM bars GROUP BY instrument")
        return dict(rows.fetchall())

    def last_step(self) -> tuple[int, int | None]:
        """The number and time of the last step (0 and None before the first)."""
        row = self.db.execute("SELECT step, time_ns FROM steps ORDER BY step DESC LIMIT 1")
        found = row.fetchone()
        return (0, None) if found is None else (found[0], found[1])

    def rows(self, table: str) -> list[str]:
        assert table in ROW_TABLES
        return [r[0] for r in self.db.execute(f"SELECT body FROM {table} ORDER BY seq")]

    def equity_rows(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT body FROM equity ORDER BY step")]

    def orders(self, *statuses: str) -> list[tuple[str, str, str]]:
        """(order id, body, status) of the orders with these statuses, in id order."""
        marks = ", ".join("?" for _ in statuses)
        query = f"SELECT order_id, body, status FROM orders WHERE status IN ({marks}) "
        return self.db.execute(query + "ORDER BY rowid", statuses).fetchall()


# -- opening a state folder and its database -------------------------------------------------

# What a state folder holds besides its database once a run has used it (the lock and
# the marker aside): a folder holding any of these but no database cannot be resumed.
EARLIER_STATE = ("state.db-wal", "state.db-journal", "config.toml", "paper.log", "run")


def _stored(value: float | None) -> float | None:
    """A settle or limit as stored: NULL without the column, ``BLANK`` for a blank cell."""
    return BLANK if value is not None and value != value else value


def _read(value: float | None) -> float | None:
    return math.nan if value == BLANK else value


def check_state_folder(folder: Path) -> None:
    """A state folder to resume or to start in: new, empty, or a twotier state folder
    with its database. One that holds an earlier state without its database, a user's
    files or another kind of twotier folder is refused. Nothing is written: the folder is
    marked once its database has been found sound (``mark_state_folder``), and made by
    ``make_state_folder`` once the run's other checks have passed."""
    from twotier.run.folder import MARKER, PAPER_STATE, check

    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    ours = set(PAPER_STATE.entries) | {MARKER}
    if names and set(names) <= ours and "state.db" not in names:
        left = [n for n in names if n in EARLIER_STATE]
        if left:
            raise StateFolderError(
                f"--state {folder}: holds an earlier paper state ({', '.join(left)}) but no "
                "state.db, without which it cannot be resumed; put the database back, or "
                f"{FRESH_HINT}"
            )
    check(folder, PAPER_STATE, option="--state", force_hint=False)


def make_state_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateFolderError(f"--state {folder}: cannot create it ({exc.strerror})") from None


def mark_state_folder(folder: Path) -> None:
    from twotier.run.folder import PAPER_STATE, marked_kind, write_marker

    if marked_kind(folder) is None:
        write_marker(folder, PAPER_STATE)


# -- opening a state database ---------------------------------------------------------------

FRESH_HINT = "start afresh with a new or empty --state folder"


def _connect(path: Path) -> sqlite3.Connection:
    if path.is_file() and path.stat().st_size == 0:
        raise StateFolderError(
            f"{path}: the state database is empty (0 bytes): the state it held is lost; "
            f"put the database back, or {FRESH_HINT}"
        )
    try:
        return sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None


def _check_database(db: sqlite3.Connection, path: Path) -> None:
    """A database this version can resume (or a new one): intact, twotier's, and of a
    schema version it knows. Checked before anything is written to it."""
    found = db.execute("PRAGMA quick_check").fetchall()
    if found != [("ok",)]:
        problem = "; ".join(str(row[0]) for row in found[:2])
        raise StateFolderError(
            f"{path}: the state database is damaged ({problem}); restore it from a copy, "
            f"or {FRESH_HINT}"
        )
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return  # new
    if "meta" not in tables:
        raise StateFolderError(f"{path}: not a twotier state database; {FRESH_HINT}")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = None if row is None else row[0]
    if version is None:
        if "steps" in tables and db.execute("SELECT count(*) FROM steps").fetchone()[0]:
            raise StateFolderError(f"{path}: the state database has no schema version")
        return  # created, never started
    if not str(version).isdigit() or not 1 <= int(version) <= SCHEMA_VERSION:
        raise StateFolderError(
            f"{path}: state schema version {version!r} is not one this twotier reads "
            f"(1 to {SCHEMA_VERSION}); use the twotier version that wrote it, or {FRESH_HINT}"
        )


def _unreadable(path: Path, exc: sqlite3.Error) -> StateFolderError:
    return StateFolderError(
        f"{path}: not a readable state database ({exc}); restore it from a copy, or {FRESH_HINT}"
    )


def state_damaged(path: Path, exc: BaseException) -> StateFolderError:
    """What a stored row that cannot be read back (truncated, edited) is reported as."""
    what = "the database cannot be read" if isinstance(exc, sqlite3.Error) else "a stored row"
    return StateFolderError(
        f"{path}: the state is damaged ({what}: {type(exc).__name__}: {exc}); restore the "
        f"state database from a copy, or {FRESH_HINT}"
    )
