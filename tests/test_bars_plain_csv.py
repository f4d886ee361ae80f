"""A plain CSV file is read by pyarrow, anything else by pandas as before: both give the
same bars, and every file that is not plain goes to pandas (whose cells the validator
reports one by one)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import REAL_FILES
from twotier.market import bars as bars_module
from twotier.market.bars import _CSV_OPTIONS, _plain_csv, _read_csv, read_bars
from twotier.market.plain_csv import plain_header

NUMERIC = {"open", "volume"}
NAMES = ["time", "open", "volume", "note"]


def through_pandas(monkeypatch) -> None:
    monkeypatch.setattr(bars_module, "_plain_csv", lambda *args: None)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_a_real_file_loads_the_same_through_pyarrow_as_through_pandas(name, real_file, monkeypatch):
    path = real_file(name)
    options = {"label": "end", "on_bad_bar": "drop"}
    fast = read_bars(path, REAL_FILES[name], **options)
    assert _plain_csv(path, list(pd.read_csv(path, nrows=0).columns), {"open"}) is not None
    through_pandas(monkeypatch)
    slow = read_bars(path, REAL_FILES[name], **options)
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    assert described(fast) == described(slow)


def described(loaded) -> tuple:
    """What the loader did, as values (``BarProblem`` compares by identity)."""
    problems = (loaded.dropped, loaded.repaired, loaded.merged)
    rows = [[(p.line, p.problem, p.time, p.kind) for p in kind] for kind in problems]
    return (*rows, loaded.warnings)


NUMBER = st.one_of(
    st.integers(min_value=-(10**18), max_value=10**18).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.tuples(st.integers(1, 10**17), st.integers(-30, 30)).map(lambda t: f"{t[0]}e{t[1]}"),
)
ROW = st.tuples(NUMBER, NUMBER, st.text("abc xyz-_", max_size=6))


@settings(max_examples=80, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=30))
@example([("-0.0", "7", "a"), ("1.5", "-0", "b")])
@example([("0.1", "12345678901234567", "")])
def test_plain_numbers_read_by_pyarrow_equal_those_pandas_reads(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("plain") / "bars.csv"
    lines = [",".join(NAMES)]
    lines += [f"2024-03-05 09:{k % 60:02d}:00,{a},{b},{c}" for k, (a, b, c) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast = _plain_csv(path, NAMES, NUMERIC)
    if any(float(n) == 0 and n.startswith("-") for row in rows for n in row[:2]):
        assert fast is None  # a negative zero: pandas may read it as the integer 0
        return
    assert fast is not None
    slow = pd.read_csv(path, dtype={"time": str, "note": str}, keep_default_na=False)
    for name in NUMERIC:
        assert np.array_equal(fast[name].to_numpy(), slow[name].to_numpy(dtype=float))
    for name in ("time", "note"):
        assert fast[name].tolist() == slow[name].tolist()
        assert fast[name].dtype == slow[name].dtype


GOOD = "2024-03-05 09:00:00,800,10,x"
NOT_PLAIN = {
    "a blank line": [GOOD, "", GOOD],
    "an empty number": [GOOD, "2024-03-05 09:05:00,,12,y"],
    "a word for a number": [GOOD, "2024-03-05 09:05:00,n/a,12,y"],
    "nan": [GOOD, "2024-03-05 09:05:00,nan,12,y"],
    "inf": [GOOD, "2024-03-05 09:05:00,800,inf,y"],
    "a negative zero": [GOOD, "2024-03-05 09:05:00,800,-0,y"],
    "a short row": [GOOD, "2024-03-05 09:05:00,800"],
    "a long row": [GOOD, "2024-03-05 09:05:00,800,12,y,z"],
    "no rows": [],
}


@pytest.mark.parametrize("problem", sorted(NOT_PLAIN))
def test_a_file_that_is_not_plain_is_left_to_pandas(problem, write_csv):
    path = write_csv([",".join(NAMES), *NOT_PLAIN[problem]])
    assert _plain_csv(path, NAMES, NUMERIC) is None


def test_a_repeated_column_name_or_bytes_that_are_not_utf8_are_left_to_pandas(tmp_path):
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("time,open,open\n2024-03-05 09:00:00,1,2\n", encoding="utf-8")
    assert _plain_csv(repeated, ["time", "open", "open.1"], {"open"}) is None
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"time,open,volume,note\n2024-03-05 09:00:00,800,10,caf\xe9\n")
    assert _plain_csv(latin, NAMES, NUMERIC) is None


@pytest.mark.parametrize("problem", ["a word for a number", "nan", "a blank line"])
def test_a_file_that_is_not_plain_is_read_as_pandas_reads_it(problem, write_csv, monkeypatch):
    path = write_csv([",".join(NAMES), *NOT_PLAIN[problem]])
    text = {"time", "note"}
    read = _read_csv(path, NAMES, text, NUMERIC, str(path))
    through_pandas(monkeypatch)
    pd.testing.assert_frame_equal(read, _read_csv(path, NAMES, text, NUMERIC, str(path)))


@pytest.mark.parametrize("layout", ["crlf", "bom", "quoted", "gzip"])
def test_line_endings_a_byte_order_mark_quotes_and_gzip_are_still_plain(layout, tmp_path):
    lines = [",".join(NAMES), GOOD, '"2024-03-05 09:05:00","800.5","12","a, b"']
    newline = "\r\n" if layout == "crlf" else "\n"
    data = (("\ufeff" if layout == "bom" else "") + newline.join(lines) + newline).encode()
    if layout == "quoted":
        data = data.replace(b"800,10,x", b'"800","10","x"')
    path = tmp_path / ("bars.csv.gz" if layout == "gzip" else "bars.csv")
    path.write_bytes(gzip.compress(data) if layout == "gzip" else data)
    fast = _plain_csv(path, NAMES, NUMERIC)
    assert fast is not None
    slow = pd.read_csv(path, dtype={"time": str, "note": str}, keep_default_na=False)
    assert fast["open"].tolist() == [800.0, 800.5] == slow["open"].tolist()
    assert fast["note"].tolist() == ["x", "a, b"] == slow["note"].tolist()
    assert fast["time"].tolist() == slow["time"].tolist()


@pytest.mark.parametrize(
    "first_line",
    [
        "time,open,high,low,close,volume\n",
        "\ufefftime,open,high,low,close,volume\r\n",
        " time , open,high,low,close,volume\n",
        "time,open,high,low,close,volume",
        "1,2,3\n",
        "time,open,open,close\n",
        "time,open,,close\n",
        "time,open,close,\n",
        '"time","open",close\n',
        "time,open\tclose\n",
        "\n",
    ],
)
def test_a_plain_header_is_read_as_pandas_reads_it(tmp_path, first_line):
    path = tmp_path / "bars.csv"
    path.write_text(first_line + "2024-03-05 09:00:00,1,2,3\n", encoding="utf-8")
    names = plain_header(path)
    if names is not None:
        assert names == [str(c) for c in pd.read_csv(path, nrows=0, **_CSV_OPTIONS).columns]
    plain = first_line.strip("\ufeff\r\n")
    if '"' in plain or "\t" in plain or "," not in plain:
        assert names is None  # left to pandas
