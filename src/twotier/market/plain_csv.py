"""A plain CSV bar file read by pyarrow's CSV reader (three times faster than pandas'),
and read ahead: the ``twotier`` program starts reading the bar files its command line
names on the background thread before it imports pandas and the rest (about 0.2 s), and
the loader takes what was read if it was read exactly as the loader reads it.

Light to import (pyarrow, no pandas). Reading ahead is a guess that never changes a
result: the header and the numeric columns are guessed as the loader finds them with no
column mapping (``twotier.market.columns``), and a table read ahead is used only where
the loader asks for the same file, unchanged since, with the same header and numeric
columns; otherwise it is dropped and the loader reads the file itself."""

from __future__ import annotations

import csv
import gzip
import io
import os
from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from twotier.background import background
from twotier.errors import DataError
from twotier.market.columns import NUMERIC, resolve_columns

# One thread: pyarrow's threads left the ten-year backtest's peak memory 20 MB higher
# (each thread's own malloc arena) for no gain in the whole process's time.
_READ = pa_csv.ReadOptions(use_threads=False)
_PARSE = pa_csv.ParseOptions(ignore_empty_lines=False)  # a blank line: not plain
READ_FAILURES = (pa.ArrowException, OSError, EOFError)

# A file's identity and how it is read: (real path, size, mtime_ns, inode, names, numeric).
_Key = tuple[str, int, int, int, tuple[str, ...], frozenset[str]]
_ahead: dict[str, tuple[_Key, Future]] = {}


def read_plain(path: Path, names: list[str], numeric: set[str]) -> pa.Table:
    """The file as pyarrow reads it: ``names`` its header, the ``numeric`` columns as
    float64 (every cell a number, or it raises), the others as text; as read ahead if it
    was (``read_ahead``). Raises one of ``READ_FAILURES``."""
    key = _key(path, names, numeric)
    earlier = _ahead.pop(key[0], None) if key is not None else None
    if earlier is not None and earlier[0] == key:
        return earlier[1].result()
    return _read(path, names, numeric)


def read_ahead(path: Path) -> None:
    """Start reading ``path`` on the background thread, as ``read_plain`` would read it
    if the loader finds the header and numeric columns as guessed here; nothing if they
    cannot be guessed (a compression other than gzip, a header that does not resolve),
    nor for what is not a regular file (a pipe would wait for its writer)."""
    try:
        if not path.is_file():
            return
        names = _header(path)
        resolved = resolve_columns(names, None, str(path))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, DataError):
        return
    numeric = {own for canonical, own in resolved.items() if canonical in NUMERIC}
    key = _key(path, names, numeric)
    if key is not None:
        _ahead[key[0]] = (key, background().submit(_read, path, names, numeric))


def _read(path: Path, names: list[str], numeric: set[str]) -> pa.Table:
    types = {name: pa.float64() if name in numeric else pa.string() for name in names}
    convert = pa_csv.ConvertOptions(
        column_types=types,
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return pa_csv.read_csv(path, read_options=_READ, parse_options=_PARSE, convert_options=convert)


def _key(path: Path, names: list[str], numeric: set[str]) -> _Key | None:
    try:
        real = os.path.realpath(path)
        stat = os.stat(real)
    except (OSError, ValueError):
        return None
    return (real, stat.st_size, stat.st_mtime_ns, stat.st_ino, tuple(names), frozenset(numeric))


def plain_header(path: Path) -> list[str] | None:
    """The names on the first line of a plain or gzipped CSV file if that line is plain:
    printable, without quotes, every name given and given once. pandas reads such a
    header as its commas split it (it renames a repeated name and names an empty one,
    and quotes are where parsers differ); None for any other line or file, for pandas to
    read."""
    try:
        line = _first_line(path)
    except (OSError, EOFError, UnicodeDecodeError):
        return None
    text = line.rstrip("\r\n")
    if len(line) >= _LONGEST_LINE or '"' in text or not text.isprintable():
        return None
    names = text.split(",")
    if "" in names or len(set(names)) != len(names):
        return None
    return names


_LONGEST_LINE = 1 << 16  # a header is read no further


def _first_line(path: Path) -> str:
    """A plain or gzipped CSV file's first line (OSError for other compressions)."""
    name = path.name.lower()
    if name.endswith(".gz"):
        opened = gzip.open(path, "rt", encoding="utf-8-sig", newline="")  # noqa: SIM115
    elif name.endswith((".bz2", ".xz", ".zip", ".zst", ".tar", ".lz4")):
        raise OSError(f"{path}: not read ahead")
    else:
        opened = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    with opened as lines:  # either
        return lines.readline(_LONGEST_LINE)


def _header(path: Path) -> list[str]:
    """The names on a plain or gzipped CSV file's first line (OSError for others). Not
    ``twotier.csv_files.csv_rows``, which opens every compression pandas reads: it
    imports pandas, which this runs before (a guess need not cover every file)."""
    return next(csv.reader(io.StringIO(_first_line(path))), [])
