"""A file a command writes where the user names it (``data resample -o``, ``data rolls -o``
and ``--spliced``): a new file, or a file of the same kind that twotier wrote before (run
the command again, get it again). Never a file the command reads, a folder, a symbolic
link, a device or a pipe, or any other file: twotier overwrites only what it wrote."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from twotier.cli.common import UsageError
from twotier.csv_files import READ_ERRORS, csv_rows
from twotier.market.bars import BAR_FILE_ENDINGS
from twotier.market.rolls import SCHEDULE_COLUMNS


@dataclass(frozen=True)
class FileKind:
    """What a command writes, and the columns that tell a file of that kind: all of
    ``columns`` among the file's (``exact``: the file's columns are those, in order)."""

    title: str
    columns: tuple[str, ...]
    endings: tuple[str, ...]  # of the file names it can be written to
    exact: bool = False

    def written(self, path: Path) -> bool:
        names = column_names(path)
        if names is None:
            return False
        if self.exact:
            return tuple(names) == self.columns
        return set(self.columns) <= set(names)


# What write_bars writes: the time, the prices and the trading day of each bar.
BARS = FileKind(
    "bar file", ("time", "open", "high", "low", "close", "trading_day"), BAR_FILE_ENDINGS
)
ROLL_SCHEDULE = FileKind("roll schedule", SCHEDULE_COLUMNS, (".csv",), exact=True)


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
