"""A file a command writes where the user names it (``data resample -o``, ``data rolls -o``
and ``--spliced``, ``sample``'s files, ``compare --out``): a new file, or a file of the
same kind that twotier wrote before (run the command again, get it again). Never a file
the command reads, a folder, a symbolic link, a device or a pipe, or any other file:
twotier overwrites only what it wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from twotier.cli.common import UsageError
from twotier.csv_files import READ_ERRORS, csv_rows
from twotier.market.bars import BAR_FILE_ENDINGS
from twotier.market.rolls import SCHEDULE_COLUMNS


@dataclass(frozen=True)
class FileKind:
    """What a command writes: the endings of its names, and how to tell a file of that
    kind that twotier wrote (``written``: read only from a regular file)."""

    title: str
    endings: tuple[str, ...]
    written: Callable[[Path], bool]


PRICES = ["open", "high", "low", "close"]


def _bars_written(path: Path) -> bool:
    """The columns ``write_bars`` writes (and ``twotier sample``): the time, then the
    prices, a trading day among the rest. In Parquet the time may come last (an index)."""
    names = column_names(path)
    if names is None or "trading_day" not in names:
        return False
    return names[:5] == ["time", *PRICES] or (names[:4] == PRICES and names[-1] == "time")


def _schedule_written(path: Path) -> bool:
    """Exactly the header ``write_schedule`` writes."""
    return column_names(path) == list(SCHEDULE_COLUMNS)


def page_titled(path: Path, title: str) -> bool:
    """Whether an HTML page has this title near its start."""
    try:
        with path.open("rb") as page:
            head = page.read(2000).decode("utf-8", errors="replace")
    except OSError:
        return False
    return f"<title>{title}</title>" in head


BARS = FileKind("bar file", BAR_FILE_ENDINGS, _bars_written)
ROLL_SCHEDULE = FileKind("roll schedule", (".csv",), _schedule_written)


def column_names(path: Path) -> list[str] | None:
    """The column names of a CSV (its first line) or Parquet file; None if unreadable."""
    if path.name.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception:  # pyarrow raises several types for a file that is not Parquet
            return None
    try:
        with csv_rows(path) as rows:
            return next(rows, None)
    except READ_ERRORS:
        return None


def check_output_file(
    path: Path,
    option: str,
    kind: FileKind,
    reading: Iterable[Path] = (),
    fix: str = "give another file name",
) -> None:
    """Refuse ``path`` (before any work) unless it is new or a ``kind`` file twotier wrote,
    and none of the files the command reads. ``fix``: what the user can do instead."""
    where = f"{option} {path}"
    if not path.name.lower().endswith(kind.endings):
        raise UsageError(f"{where}: a {kind.title} is written as {' or '.join(kind.endings)}")
    if path.is_symlink():
        raise UsageError(f"{where}: a symbolic link; give the file itself")
    if not path.exists():
        return
    if path.is_dir():
        raise UsageError(f"{where}: a folder; give the file to write")
    if not path.is_file():
        raise UsageError(f"{where}: not a regular file (a device or a pipe); give a file name")
    if any(_same_file(path, other) for other in reading):
        raise UsageError(f"{where}: a file this command reads; {fix}")
    if not kind.written(path):
        raise UsageError(
            f"{where}: a file twotier did not write is there (not a {kind.title} of "
            f"twotier's); {fix} (twotier overwrites only what it wrote)"
        )


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.samefile(other)
    except OSError:
        return False
