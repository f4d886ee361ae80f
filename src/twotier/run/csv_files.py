"""The run folder's CSV files (trades, fills, equity): times in exchange time without the
zone, money to the cent, other floats with 10 significant digits, missing values empty,
text quoted as the csv module quotes it; the same bytes whichever way they are made.

Every value becomes its text column by column, vectorised or once per distinct value (a
run's columns repeat few: a flat equity, a constant reserve). The rows are then joined by
pyarrow's CSV writer, which lets go of the GIL and so runs on the background thread
(``twotier.io.WritesBehind``) while this one goes on; or, where pyarrow would not write
what the csv module writes (a value that needs quotes, a lone column), by Python a chunk
of rows at a time. Both are several times faster than pandas' to_csv with a float_format
or the csv module's writer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from twotier.run.stamps import stamps

MONEY_COLUMNS = {
    "pv",
    "peak",
    "day_start",
    "gross_pnl",
    "fees",
    "net_pnl",
    "fee",
    "committed",
}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHUNK_ROWS = 8192
_SPECIAL = frozenset(',"\n\r')  # what makes the csv module quote a field
_ROWS_ONLY = pa_csv.WriteOptions(include_header=False, quoting_style="none")

# A column's text: (codes, texts) for texts[codes], or (None, texts), one per row; and
# whether any of them is quoted.
ColumnText = tuple[np.ndarray | None, list[str], bool]


def csv_parts(frame: pd.DataFrame) -> list[str | Callable[[], pa.Buffer]]:
    """The frame as CSV in parts, for ``WritesBehind.write``: the header, then a function
    that writes the rows with pyarrow (called on the background thread); or the header
    and the rows as text chunks (``csv_chunks``) where pyarrow cannot write them."""
    table = _arrow_table(frame)
    if table is None:
        return list(csv_chunks(frame))
    return [_csv_line(frame.columns), partial(_arrow_rows, table)]


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV, as ``csv_parts`` makes it."""
    parts = csv_parts(frame)
    return "".join(p if isinstance(p, str) else p().to_pybytes().decode() for p in parts)


def csv_chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[str]:
    """The frame as CSV text, ``rows`` rows at a time, joined by Python. A chunk's strings
    are let go once written (ten years of equity.csv would otherwise hold 1.4 million of
    them, about 80 MB)."""
    yield _csv_line(frame.columns)
    for first in range(0, len(frame), rows):
        part = frame.iloc[first : first + rows]
        columns = [_expanded(*_column_text(name, part[name])[:2]) for name in part.columns]
        if len(columns) == 1:  # the csv module quotes a lone empty field; keep its rows
            yield "".join(_csv_line(row) for row in zip(*columns, strict=True))
        else:
            yield "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"


def _arrow_table(frame: pd.DataFrame) -> pa.Table | None:
    """Each column as pyarrow writes its text: times as whole seconds and days (pyarrow
    writes them as strftime does, on the background thread), the others as their text (a
    dictionary array where distinct values were formatted once). None if pyarrow would
    not write the rows as the csv module does: a lone column (the csv module quotes a
    lone empty field) or a value that needs quotes (pyarrow quotes every text value or
    none)."""
    if len(frame.columns) == 1:
        return None
    columns = {}
    for name in frame.columns:
        column = _arrow_times(frame[name])
        if column is None:
            codes, texts, quoted = _column_text(name, frame[name])
            if quoted:
                return None
            column = pa.array(texts, pa.string())
            if codes is not None:
                column = pa.DictionaryArray.from_arrays(pa.array(codes), column)
        columns[str(name)] = column
    return pa.table(columns)


def _arrow_times(series: pd.Series) -> pa.Array | None:
    """A time column as pyarrow's timestamps in whole seconds or a column of days as its
    dates, NaT as null (written empty): the values ``stamps`` writes, truncated as it
    truncates them. None for any other column."""
    times = _naive_times(series)
    if times is None:
        return None
    values, unit = times
    seconds = values.astype("datetime64[s]")
    return pa.array(seconds if unit == "s" else seconds.astype("datetime64[D]"))


def _naive_times(series: pd.Series) -> tuple[np.ndarray, str] | None:
    """A column of times (exchange time without the zone, written to the second: "s") or
    of days ("D") as numpy's datetimes; None for any other column."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None).to_numpy(), "s"
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy(), "D"
    return None


def _arrow_rows(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, _ROWS_ONLY)
    return sink.getvalue()


def _expanded(codes: np.ndarray | None, texts: list[str]) -> list[str]:
    return texts if codes is None else np.array(texts, dtype=object)[codes].tolist()


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _column_text(name, series: pd.Series) -> ColumnText:
    times = _naive_times(series)
    if times is not None:
        return None, stamps(*times), False
    if name in MONEY_COLUMNS or str(name).startswith("equity_"):
        return _floats(series.to_numpy(), "{:.2f}")
    if pd.api.types.is_float_dtype(series) and isinstance(series.dtype, np.dtype):
        return _floats(series.to_numpy(), "{:.10g}")
    if pd.api.types.is_integer_dtype(series) and isinstance(series.dtype, np.dtype):
        codes, distinct = pd.factorize(series.to_numpy())
        return codes, [str(v) for v in distinct.tolist()], False
    # text, booleans, nullable columns: None, NaN and NA empty
    texts = ["" if pd.isna(v) else str(v) for v in series.tolist()]
    if all(_SPECIAL.isdisjoint(t) for t in texts):
        return None, texts, False
    return None, [_quoted(t) for t in texts], True


def _quoted(text: str) -> str:
    """``text`` as the csv module writes a field: plain text as it is, and the csv module
    itself asked about any with a comma, a quote or a line break."""
    if _SPECIAL.isdisjoint(text):
        return text
    return _csv_line([text])[:-1]


def _floats(values: np.ndarray, spec: str) -> ColumnText:
    """Floats formatted by ``spec`` (NaN empty; a negative zero, such as a ratio to a
    negative PV, as 0), each distinct bit pattern once. pandas' factorize finds them by
    hashing, three times faster than numpy's unique, which sorts."""
    bits = (np.asarray(values, dtype=np.float64) + 0.0).view(np.int64)  # -0.0 + 0.0 is 0.0
    codes, distinct = pd.factorize(bits)
    texts = [spec.format(v) if v == v else "" for v in distinct.view(np.float64).tolist()]
    return codes, texts, False
