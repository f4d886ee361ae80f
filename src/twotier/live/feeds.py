"""Bar feeds: where bars come from as they are written.

A feed is polled; each poll returns the raw bars that became complete since the last one
(validated, each instrument's in the order written) and whether the feed has ended.

- ``FolderFeed``: a folder of CSV files that a data collector appends to. A file belongs
  to the instrument its name starts with (``DCE_i.csv``, ``DCE_i-20241008.csv``,
  ``DCE.i.HOT.m5.csv``); files of instruments that no basket trades are ignored. Files
  are read in name order, from where the last poll stopped; new files are picked up
  when they appear. A line is complete once its newline is written: a partial last
  line waits for the rest of it.
- ``JsonLinesFeed``: one JSON object per line on standard input (or any pipe),
  ``{"instrument": "DCE/i", "time": "2024-10-08 09:05:00", "open": 760.5, ...}``.
  The feed ends at end of input; a last line without its newline is ignored (it is not
  complete).
"""

from __future__ import annotations

import csv
import json
import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from twotier.errors import DataError
from twotier.live.bars import Bar, BarReader

READ_LIMIT = 4 << 20  # bytes read from a stream in one poll, at most


@dataclass
class Batch:
    bars: list[Bar] = field(default_factory=list)
    ended: bool = False


class Feed(Protocol):
    def poll(self, timeout: float) -> Batch:
        """New raw bars, waiting up to ``timeout`` seconds for some."""
        ...

    def close(self) -> None: ...


class LineBuffer:
    """Bytes in, complete lines out (with their line numbers); a partial line waits."""

    def __init__(self, source: str):
        self.source = source
        self.pending = b""
        self.lines_read = 0

    def feed(self, data: bytes) -> list[tuple[int, str]]:
        data = self.pending + data
        cut = data.rfind(b"\n")
        if cut < 0:
            self.pending = data
            return []
        complete, self.pending = data[:cut], data[cut + 1 :]
        out = []
        for raw in complete.split(b"\n"):
            self.lines_read += 1
            # The first line may start with a byte order mark, as the batch loader allows.
            encoding = "utf-8-sig" if self.lines_read == 1 else "utf-8"
            try:
                out.append((self.lines_read, raw.decode(encoding).rstrip("\r")))
            except UnicodeDecodeError:
                raise DataError(self.source, "not UTF-8 text", self.lines_read) from None
        return out


def instrument_of(name: str, instruments: list[str]) -> str | None:
    """The instrument a file name belongs to: it starts with the key written ``DCE_i`` or
    ``DCE.i``, followed by the end of the name or a separator."""
    for key in instruments:
        for prefix in (key.replace("/", "_"), key.replace("/", ".")):
            rest = name[len(prefix) :]
            if name.startswith(prefix) and (not rest or not rest[0].isalnum()):
                return key
    return None


class _CsvFile:
    """One growing CSV file: the header, and the lines read so far."""

    def __init__(self, path: Path, instrument: str):
        self.path = path
        self.instrument = instrument
        self.offset = 0
        self.buffer = LineBuffer(str(path))
        self.header: list[str] | None = None

    def new_rows(self) -> tuple[pd.DataFrame, list[int]]:
        """The complete lines written since the last call, as a table of raw cells."""
        try:
            size = self.path.stat().st_size
            if size < self.offset:
                raise DataError(str(self.path), f"the file shrank below {self.offset} bytes")
            if size == self.offset:
                return pd.DataFrame(), []  # nothing new: most files, most of the time
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return pd.DataFrame(), []
        self.offset += len(data)
        rows, lines = [], []
        for number, text in self.buffer.feed(data):
            if not text.strip():
                continue
            cells = next(csv.reader([text]))
            if self.header is None:
                self.header = [c.strip() for c in cells]
                continue
            if len(cells) > len(self.header):  # as the file loader refuses one
                raise DataError(
                    str(self.path),
                    f"{len(cells)} fields where the header has {len(self.header)}",
                    number,
                )
            # A short line's missing cells are empty, as the file loader reads them: bad
            # bars for the policy to refuse, drop or repair, as in a backtest.
            rows.append(cells + [""] * (len(self.header) - len(cells)))
            lines.append(number)
        return pd.DataFrame(rows, columns=self.header, dtype=object), lines


class FolderFeed:
    """CSV files in a folder that a data collector appends to."""

    def __init__(
        self,
        folder: str | Path,
        instruments: list[str],
        reader: BarReader,
        *,
        once: bool = False,
        interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        warn: Callable[[str], None] = lambda message: None,
    ):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataError(str(self.folder), "feed folder not found")
        self.instruments = instruments
        self.reader = reader
        self.once = once
        self.interval = interval
        self.sleep = sleep
        self.warn = warn
        self.files: dict[Path, _CsvFile] = {}
        self._ignored: set[Path] = set()

    def poll(self, timeout: float) -> Batch:
        bars = self._scan()
        if self.once:  # the folder as it is now, then the end
            return Batch(bars, ended=True)
        deadline = time.monotonic() + timeout
        while not bars and time.monotonic() < deadline:
            self.sleep(min(self.interval, max(0.0, deadline - time.monotonic())))
            bars = self._scan()
        return Batch(bars)

    def _scan(self) -> list[Bar]:
        bars: list[Bar] = []
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() != ".csv":
                continue
            if path not in self.files:
                instrument = instrument_of(path.name, self.instruments)
                if instrument is None:
                    self._ignore(path)
                    continue
                self.files[path] = _CsvFile(path, instrument)
            file = self.files[path]
            table, lines = file.new_rows()
            bars += self.reader.read(file.instrument, table, lines, str(path))
        # An instrument's files in time order, whatever their names' order: on a restart
        # DCE_i-20241008.csv is read before DCE_i.csv ('-' sorts before '.'), and its
        # bars ahead of the older file's were taken as out of order. (Stable: a bar of two
        # files stays twice, which the aggregator refuses as it should.)
        return sorted(bars, key=lambda bar: bar.time_ns)

    def _ignore(self, path: Path) -> None:
        """Say that a CSV file of the folder is no traded instrument's (one added on a
        restart, say: the state trades the baskets it was started with), for the first
        such file only: a shared folder may gain one every day."""
        if not self._ignored:
            traded = ", ".join(self.instruments)
            self.warn(
                f"{path}: not named after an instrument this run trades ({traded}); ignored, "
                "as other such files will be"
            )
        self._ignored.add(path)

    def close(self) -> None:
        pass


class JsonLinesFeed:
    """Newline-delimited JSON bars from a pipe (standard input)."""

    def __init__(
        self,
        fd: int,
        instruments: list[str],
        reader: BarReader,
        *,
        source: str = "<stdin>",
        warn: Callable[[str], None],
    ):
        self.fd = fd
        self.instruments = instruments
        self.reader = reader
        self.source = source
        self.warn = warn
        self.buffer = LineBuffer(source)
        self.ended = False
        self._ignored: set[str] = set()

    def poll(self, timeout: float) -> Batch:
        if self.ended:
            return Batch(ended=True)
        data, eof = self._read(timeout)
        lines = self.buffer.feed(data)
        if eof:
            self.ended = True
            if self.buffer.pending.strip():
                self.warn(
                    f"{self.source}: ignored the last line ({self.buffer.lines_read + 1}): "
                    "it has no newline, so it is not complete"
                )
        return Batch(self._bars(lines), ended=eof)

    def _read(self, timeout: float) -> tuple[bytes, bool]:
        chunks, size = [], 0
        ready, _, _ = select.select([self.fd], [], [], timeout)
        while ready and size < READ_LIMIT:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
            ready, _, _ = select.select([self.fd], [], [], 0)
        return b"".join(chunks), False

    def _bars(self, lines: list[tuple[int, str]]) -> list[Bar]:
        groups: dict[str, tuple[list[dict], list[int]]] = {}
        for number, text in lines:
            if not text.strip():
                continue
            record = self._record(number, text)
            if record is None:
                continue
            instrument = str(record.pop("instrument"))
            if instrument not in self.instruments:
                if instrument not in self._ignored:
                    self._ignored.add(instrument)
                    self.warn(f"{self.source}: ignoring bars of {instrument}: no basket trades it")
                continue
            rows, numbers = groups.setdefault(instrument, ([], []))
            rows.append(record)
            numbers.append(number)
        bars: list[Bar] = []
        for instrument, (rows, numbers) in groups.items():
            table = pd.DataFrame.from_records(rows)
            bars += self.reader.read(instrument, table, numbers, self.source)
        return bars

    def _record(self, number: int, text: str) -> dict | None:
        try:
            record = json.loads(text)
            problem = None if isinstance(record, dict) else "not a JSON object"
        except json.JSONDecodeError as exc:
            record, problem = None, f"not valid JSON ({exc.msg})"
        if problem is None and "instrument" not in record:
            problem = 'no "instrument" field'
        if problem is None:
            return record
        if self.reader.policy == "refuse":
            raise DataError(self.source, problem, number)
        self.warn(f"{self.source}: dropped line {number}: {problem}")
        return None

    def close(self) -> None:
        pass


def make_feed(
    spec: str,
    instruments: list[str],
    reader: BarReader,
    *,
    once: bool,
    interval: float,
    warn: Callable[[str], None],
    stdin_fd: int = 0,
) -> Feed:
    """``folder:DIR`` or ``stdin``."""
    check_feed(spec)
    kind, _, where = spec.partition(":")
    if kind == "folder":
        return FolderFeed(where, instruments, reader, once=once, interval=interval, warn=warn)
    return JsonLinesFeed(stdin_fd, instruments, reader, warn=warn)


def check_feed(spec: str) -> None:
    """A feed that can be read: ``stdin``, or ``folder:DIR`` of a folder that exists
    (checked before a state folder is started: a misspelt feed started it, and fixed the
    feed's label and bar length in it)."""
    kind, _, where = spec.partition(":")
    if kind == "folder" and where:
        if not Path(where).is_dir():
            raise DataError(where, "feed folder not found")
        return
    if spec != "stdin":
        raise DataError(spec, "a feed is 'folder:DIR' or 'stdin'")
