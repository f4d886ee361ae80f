"""Signal packages in storage (RULES.md 3.4): written to a run folder's namespace and read
back unchanged; tables written by hand accepted; every kind of bad table refused with a
message that names the row or line."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twotier.errors import DataError
from twotier.tier1.generator import CopperIndicator, IronOreIndicator
from twotier.tier1.package import (
    METADATA_KEY,
    PACKAGE_COLUMNS,
    REQUIRED_COLUMNS,
    SCHEMA_VERSION,
    namespace_path,
    package_metadata,
    read_namespace,
    read_packages,
    validate_packages,
    write_packages,
)

TZ = "Asia/Shanghai"
HEADER = "time,instrument,signal,confidence,signal_strength,regime,close"


def bars(n: int, seed: int, start: str = "2024-01-02 09:00") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 700 + np.cumsum(rng.normal(0, 2, n))
    index = pd.date_range(start, periods=n, freq="15min", tz=TZ, name="time")
    return pd.DataFrame(
        {
            "open": close + 0.5,
            "high": close + 2,
            "low": close - 2,
            "close": close,
            "volume": rng.lognormal(8, 0.5, n),
        },
        index=index,
    )


@pytest.fixture(scope="module")
def iron_packages() -> pd.DataFrame:
    return IronOreIndicator().run(bars(300, 1))


def write_text(tmp_path, lines: list[str], name: str = "packages.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def error_of(path, **options) -> str:
    with pytest.raises(DataError) as caught:
        read_packages(path, **options)
    return str(caught.value)


# -- round trip ---------------------------------------------------------------------------


def test_packages_written_to_the_run_folder_namespace_read_back_unchanged(tmp_path, iron_packages):
    params = IronOreIndicator().params.model_dump(mode="json")
    path = write_packages(iron_packages, tmp_path, "DCE/i", "IronOreIndicator", params)
    assert path == tmp_path / "signals" / "DCE_i.parquet" == namespace_path(tmp_path, "DCE/i")
    back = read_packages(path)
    pd.testing.assert_frame_equal(back, iron_packages)


def test_package_file_metadata_carries_schema_version_generator_and_params(tmp_path, iron_packages):
    params = IronOreIndicator().params.model_dump(mode="json")
    path = write_packages(iron_packages, tmp_path, "DCE/i", "IronOreIndicator", params)
    meta = package_metadata(path)
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["kind"] == "signal_packages"
    assert (meta["instrument"], meta["generator"]) == ("DCE/i", "IronOreIndicator")
    assert meta["params"] == params
    assert meta["params"]["min_confidence"] == 0.2


def test_read_namespace_gives_every_generators_packages_sorted_by_time(tmp_path, iron_packages):
    copper = CopperIndicator().run(bars(200, 2, start="2024-01-02 09:15"))
    write_packages(iron_packages, tmp_path, "DCE/i", "IronOreIndicator")
    write_packages(copper, tmp_path, "SHFE/cu", "CopperIndicator")
    table = read_namespace(tmp_path)
    assert len(table) == len(iron_packages) + len(copper)
    assert table["time"].is_monotonic_increasing
    assert set(table["instrument"]) == {"DCE/i", "SHFE/cu"}
    mine = table[table["instrument"] == "SHFE/cu"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, copper)


def test_read_namespace_of_a_folder_without_packages_says_so(tmp_path):
    with pytest.raises(DataError, match="no signal packages found"):
        read_namespace(tmp_path)


def test_file_without_twotier_metadata_is_read_as_the_current_schema(tmp_path, iron_packages):
    path = tmp_path / "other.parquet"
    iron_packages.to_parquet(path)
    assert package_metadata(path) == {}
    assert len(read_packages(path)) == len(iron_packages)


def test_newer_schema_version_is_refused(tmp_path, iron_packages):
    path = write_packages(iron_packages, tmp_path, "DCE/i", "IronOreIndicator")
    table = pq.read_table(path)
    meta = {**package_metadata(path), "schema_version": SCHEMA_VERSION + 1}
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})
    pq.write_table(table, path)
    message = error_of(path)
    assert f"schema version {SCHEMA_VERSION + 1} is newer" in message
    assert str(path) in message


# -- tables written by hand ---------------------------------------------------------------


def test_hand_written_csv_with_the_required_columns_is_accepted(tmp_path):
    path = write_text(
        tmp_path,
        [
            HEADER + ",note,open",
            "2024-03-05 09:00,DCE/i,1,0.68,0.72,1,765.0,first,764",
            "2024-03-05 09:15,DCE/i,0,0,0,3,766.5,,765",
            "2024-03-05 09:00,SHFE/cu,-1,0.58,0.45,2,76770,x,76760",
        ],
    )
    table = read_packages(path, require_open=True)
    assert list(table.columns) == [*REQUIRED_COLUMNS[:-1], "open", "close"]  # 'note' ignored
    assert table["instrument"].tolist() == ["DCE/i", "SHFE/cu", "DCE/i"]  # by time
    assert table["signal"].tolist() == [1, -1, 0]
    assert table["signal"].dtype == np.int8 and table["regime"].dtype == np.int8
    assert table["close"].tolist() == [765.0, 76770.0, 766.5]
    assert table["time"].iloc[0] == pd.Timestamp("2024-03-05 09:00", tz=TZ)


def test_times_with_an_offset_are_converted_and_naive_times_are_exchange_time(tmp_path):
    path = write_text(
        tmp_path,
        [
            HEADER,
            "2024-03-05T01:00:00Z,DCE/i,0,0,0,3,765",  # 09:00 in Shanghai
            "2024-03-05 09:15,DCE/i,0,0,0,3,765",
            "2024-03-05T09:30:00+08:00,DCE/i,0,0,0,3,765",
        ],
    )
    times = read_packages(path)["time"]
    assert times.tolist() == list(pd.date_range("2024-03-05 09:00", periods=3, freq="15min", tz=TZ))


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path):
    path = write_text(
        tmp_path,
        [HEADER, "2024-03-05 09:00,DCE/i,0,0,0,3,765", "", "2024-03-05 09:15,DCE/i,2,0,0,3,765"],
    )
    assert "line 4: signal must be -1, 0 or 1, not 2" in error_of(path)


def test_validate_packages_accepts_a_dataframe(iron_packages):
    table = validate_packages(iron_packages, "<frame>")
    assert list(table.columns) == list(PACKAGE_COLUMNS)


# -- bad tables ---------------------------------------------------------------------------

GOOD = "2024-03-05 09:00,DCE/i,1,0.5,0.4,1,765"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("2024-03-05 09:15,DCE/i,2,0.5,0.4,1,765", "signal must be -1, 0 or 1, not 2"),
        ("2024-03-05 09:15,DCE/i,0.5,0.5,0.4,1,765", "signal must be -1, 0 or 1, not 0.5"),
        ("2024-03-05 09:15,DCE/i,1,1.2,0.4,1,765", "confidence must be in [0, 1], not 1.2"),
        ("2024-03-05 09:15,DCE/i,1,-0.1,0.4,1,765", "confidence must be in [0, 1], not -0.1"),
        ("2024-03-05 09:15,DCE/i,1,0.5,1.5,1,765", "signal_strength must be in [0, 1], not 1.5"),
        ("2024-03-05 09:15,DCE/i,1,0.5,-1,1,765", "signal_strength must be in [0, 1], not -1"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,5,765", "regime must be 1, 2, 3 or 4, not 5"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,0,765", "regime must be 1, 2, 3 or 4, not 0"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,1,0", "close must be > 0, not 0"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,1,-765", "close must be > 0, not -765"),
        ("2024-03-05 09:00,DCE/i,1,0.5,0.4,1,765", "times of DCE/i not increasing"),
        ("2024-03-05 08:45,DCE/i,1,0.5,0.4,1,765", "times of DCE/i not increasing"),
        ("5th March,DCE/i,1,0.5,0.4,1,765", "unparsable time '5th March'"),
        (
            "1600-03-05 09:15,DCE/i,1,0.5,0.4,1,765",
            "time '1600-03-05 09:15' is outside the years twotier handles (1678 to 2261)",
        ),
        ("2024-03-05 01:15Z,DCE/i,1,0.5,0.4,1,765", "times of DCE/i not increasing"),  # 09:15
        ("2024-03-05 09:15,DCE/i,long,0.5,0.4,1,765", "unparsable value 'long' in column 'signal'"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,1,inf", "unparsable value 'inf' in column 'close'"),
        (",DCE/i,1,0.5,0.4,1,765", "empty value in column 'time'"),
        ("2024-03-05 09:15,,1,0.5,0.4,1,765", "empty value in column 'instrument'"),
        ("2024-03-05 09:15,DCE/i,,0.5,0.4,1,765", "empty value in column 'signal'"),
        ("2024-03-05 09:15,DCE/i,1,,0.4,1,765", "empty value in column 'confidence'"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,,765", "empty value in column 'regime'"),
        ("2024-03-05 09:15,DCE/i,1,0.5,0.4,1,", "empty value in column 'close'"),
    ],
)
def test_bad_value_is_refused_naming_its_line(tmp_path, bad_line, message):
    path = write_text(tmp_path, [HEADER, GOOD, GOOD.replace("09:00", "09:30"), bad_line])
    text = error_of(path)
    assert text.startswith(f"{path}: line 4: {message}")


def test_times_may_repeat_across_instruments_but_not_within_one(tmp_path):
    ok = write_text(tmp_path, [HEADER, GOOD, GOOD.replace("DCE/i", "DCE/m")], "ok.csv")
    assert len(read_packages(ok)) == 2
    bad = write_text(
        tmp_path,
        [HEADER, GOOD, GOOD.replace("DCE/i", "DCE/m"), GOOD.replace("DCE/i", "DCE/m")],
        "bad.csv",
    )
    assert "line 4: times of DCE/m not increasing" in error_of(bad)


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_missing_required_column_is_named(tmp_path, column):
    names = HEADER.split(",")
    keep = [i for i, name in enumerate(names) if name != column]
    rows = [",".join(row.split(",")[i] for i in keep) for row in (HEADER, GOOD)]
    message = error_of(write_text(tmp_path, rows))
    assert re.search(rf"missing required column\(s\) {column}$", message)


def test_next_open_fills_need_an_open_column(tmp_path):
    path = write_text(tmp_path, [HEADER, GOOD])
    assert len(read_packages(path)) == 1
    assert "missing required column(s) open (fill = 'next_open' needs the open price)" in (
        error_of(path, require_open=True)
    )


def test_open_price_is_checked_where_given(tmp_path):
    path = write_text(tmp_path, [HEADER + ",open", GOOD + ",764", GOOD.replace("09:00", "09:15")])
    assert "line 3: empty value in column 'open'" in error_of(path)
    path = write_text(tmp_path, [HEADER + ",open", GOOD + ",-1"])
    assert "line 2: open must be > 0, not -1" in error_of(path, require_open=True)


BAR_HEADER = HEADER + ",open,high,low,volume,settle,limit_up,limit_down"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("764,766,abc,100,765,800,700", "unparsable value 'abc' in column 'low'"),
        ("764,766,763,lots,765,800,700", "unparsable value 'lots' in column 'volume'"),
        ("764,inf,763,100,765,800,700", "unparsable value 'inf' in column 'high'"),
        ("764,766,763,-5,765,800,700", "negative volume -5"),
        ("764,766,763,1e300,765,800,700", "volume 1e+300 beyond 1e+12"),
        ("764,763,766,100,765,800,700", "high 763 below low 766"),
        ("764,764.5,763,100,765,800,700", "close 765 above high 764.5"),
        ("762,766,763,100,765,800,700", "open 762 below low 763"),
        ("764,766,763,100,-765,800,700", "settle must be > 0, not -765"),
        ("764,766,763,100,765,700,800", "limit_up 700 below limit_down 800"),
    ],
)
def test_a_packages_bar_values_are_checked_where_given(tmp_path, cells, message):
    # What the market rules read of each bar (volume, high, low, settlement, limits) was
    # taken as it came: text became "no value", a negative volume cancelled every entry,
    # and a text cell ended in an internal error in the report.
    good = GOOD + ",764,766,763,100,765,800,700"
    bad = GOOD.replace("09:00", "09:15") + "," + cells
    path = write_text(tmp_path, [BAR_HEADER, good, bad])
    assert error_of(path).startswith(f"{path}: line 3: {message}")


def test_blank_bar_values_are_no_value(tmp_path):
    path = write_text(tmp_path, [BAR_HEADER, GOOD + ",764,,,,,,"])
    table = read_packages(path)
    assert table[["high", "low", "volume", "settle"]].isna().all(axis=None)


def test_bad_values_in_parquet_are_named_by_row(tmp_path, iron_packages):
    table = iron_packages.copy()
    table.loc[7, "confidence"] = 1.5
    path = tmp_path / "bad.parquet"
    table.to_parquet(path)
    assert error_of(path).startswith(f"{path}: row 8: confidence must be in [0, 1], not 1.5")


def test_missing_time_in_parquet_is_an_empty_value(tmp_path, iron_packages):
    table = iron_packages.copy()
    table.loc[3, "time"] = pd.NaT
    path = tmp_path / "bad.parquet"
    table.to_parquet(path)
    assert "row 4: empty value in column 'time'" in error_of(path)


def test_a_parquet_time_nanoseconds_cannot_hold_is_named_by_row(tmp_path, iron_packages):
    table = iron_packages.copy()
    times = table["time"].dt.tz_localize(None).astype("datetime64[us]")
    table["time"] = times.where(table.index != 2, pd.Timestamp("1600-03-05 09:00"))
    path = tmp_path / "bad.parquet"
    table.to_parquet(path)
    assert "row 3: time '1600-03-05 09:00:00' is outside the years" in error_of(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        (HEADER + "\n", "no packages in the table"),
        (HEADER + "\n" + GOOD + ",1,2\n", "not a readable CSV file: line 2 has 9 fields"),
        (HEADER + "\n" + GOOD + "\n" + GOOD + ",1\n", "line 3: 8 fields where the header has 7"),
    ],
)
def test_unreadable_or_empty_csv_is_refused(tmp_path, content, message):
    path = tmp_path / "packages.csv"
    path.write_text(content, encoding="utf-8")
    assert message in error_of(path)


def test_a_truncated_or_uncompressible_csv_is_refused_not_aborted(tmp_path):
    # A truncated gzip raised EOFError, which the CLI library reports as "aborted"; a
    # .zst file without zstandard installed raised ImportError (an internal error).
    data = gzip.compress(((HEADER + "\n") + (GOOD + "\n") * 500).encode())
    truncated = tmp_path / "packages.csv.gz"
    truncated.write_bytes(data[: len(data) // 2])
    assert "not a readable CSV file" in error_of(truncated)
    long_row = tmp_path / "long.csv.bz2"
    long_row.write_bytes(bz2.compress(f"{HEADER}\n{GOOD},1,2\n".encode()))
    assert "line 2 has 9 fields" in error_of(long_row)
    if importlib.util.find_spec("zstandard") is None:  # pandas reads .zst with it
        zst = tmp_path / "packages.csv.zst"
        with pa.CompressedOutputStream(str(zst), "zstd") as out:
            out.write(f"{HEADER}\n{GOOD}\n".encode())
        assert "not a readable CSV file: `Import zstandard` failed" in error_of(zst)


def test_missing_or_damaged_files_are_refused(tmp_path):
    assert "file not found" in error_of(tmp_path / "nowhere.parquet")
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1 not really")
    assert "not a readable Parquet file" in error_of(damaged)


def test_writing_replaces_an_earlier_file_atomically(tmp_path, iron_packages):
    write_packages(iron_packages, tmp_path, "DCE/i", "IronOreIndicator")
    shorter = iron_packages.iloc[:10]
    path = write_packages(shorter, tmp_path, "DCE/i", "IronOreIndicator")
    assert len(read_packages(path)) == 10
    assert [p.name for p in (tmp_path / "signals").iterdir()] == ["DCE_i.parquet"]
    assert pa.types.is_int8(pq.read_schema(path).field("signal").type)


def test_a_row_of_an_unknown_instrument_is_named_as_written(tmp_path):
    path = write_text(tmp_path, [HEADER, GOOD.replace("DCE/i", "DCE/zz")])
    message = error_of(path, instruments=["DCE/i"])
    assert "line 2: unknown instrument 'DCE/zz'; known: DCE/i" in message


@pytest.mark.parametrize("values", [[True, True], [True, None]], ids=["bool", "with-a-null"])
def test_a_parquet_bar_column_of_true_and_false_is_refused(tmp_path, values):
    # A volume of true/false was read as 1 and 0 (with a null among them, as object).
    times = pd.to_datetime(["2024-10-21 09:00", "2024-10-21 09:15"])
    table = pa.table({
        "time": pa.array(times), "instrument": ["DCE/i"] * 2, "signal": [1, 1],
        "confidence": [0.9, 0.9], "signal_strength": [0.8, 0.8], "regime": [1, 1],
        "close": [800.0, 801.0], "volume": pa.array(values, pa.bool_()),
    })  # fmt: skip
    path = tmp_path / "packages.parquet"
    pq.write_table(table, path)
    assert "row 1: 'volume' holds true/false, not numbers" in error_of(path)
