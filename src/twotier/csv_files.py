"""Reading a user's CSV files: what can go wrong as pandas reads one, how to say it, and
opening one as pandas does (the compression its name implies) to look at its lines."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from pandas.io.common import get_handle  # pandas' own opener: the compressions it reads

from twotier.errors import DataError

READ_ERRORS = (
    pd.errors.EmptyDataError,
    pd.errors.ParserError,
    UnicodeDecodeError,
    OSError,  # e.g. not gzip after all
    EOFError,  # a truncated gzip file (the CLI library would call it "aborted")
    ImportError,  # a compression whose module is not installed (zstandard for .zst)
    csv.Error,  # the csv module's: a field beyond its limit (131,072 characters)
)


def read_error(source: str, exc: Exception) -> DataError:
    """One of ``READ_ERRORS`` as the file's error, its line where the parser names one."""
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError(source, "the file is empty")
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if fields:  # the parser counts lines as the file does (header = line 1)
        expected, line, saw = (int(g) for g in fields.groups())
        return DataError(source, f"{saw} fields where the header has {expected}", line)
    return DataError(source, f"not a readable CSV file: {exc}")


@contextmanager
def csv_rows(path: Path) -> Iterator[csv.reader]:
    """The file's rows as the csv module reads them (``line_num`` counts the file's
    lines), the file opened as pandas opens it."""
    with get_handle(path, "r", encoding="utf-8-sig", compression="infer") as handles:
        yield csv.reader(handles.handle)


def first_long_row(
    path: Path, header: int | None = None, *, values_only: bool = False
) -> tuple[int, int, int] | None:
    """The first row with more fields than the header (``header`` of them, else as many
    as the first line has): its line, its fields and the header's; ``values_only``: the
    first with a value in such a field (a comma at the end of a line adds an empty one).
    None where there is none."""
    with csv_rows(path) as rows:
        first = len(next(rows, []))
        header = first if header is None else header
        for row in rows:
            beyond = row[header:]
            if beyond and (not values_only or any(cell.strip() for cell in beyond)):
                return rows.line_num, len(row), header
    return None
