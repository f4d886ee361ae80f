"""Loading and validating bar files: every bad row is refused with the file, the line
and the problem; labels, vendor layouts, Parquet and gzip."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random

import numpy as np
import pandas as pd
import pytest

from twotier.errors import BadBarsError, DataError
from twotier.market.bars import bars_from_frame, read_bars, write_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import get_instrument

HEADER = "datetime,open,high,low,close,volume"
# Three good 5-minute iron ore bars on Tuesday 2024-03-05, on lines 2-4, stamped by start.
GOOD = [
    "2024-03-05 09:00:00,800,801,799,800.5,10",
    "2024-03-05 09:05:00,800.5,802,800,801,12",
    "2024-03-05 09:10:00,801,803,800.5,802,9",
]


def shanghai(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


def refused(path, **options) -> BadBarsError:
    options.setdefault("bar_minutes", 5)
    with pytest.raises(BadBarsError) as info:
        read_bars(path, options.pop("instrument", "DCE/i"), **options)
    return info.value


def test_good_file_loads_with_bar_start_index_and_trading_day(write_csv):
    loaded = read_bars(write_csv([HEADER, *GOOD]), "DCE/i")
    frame = loaded.frame
    assert loaded.bar_minutes == 5  # the most common step
    assert list(frame.columns) == ["open", "high", "low", "close", "volume", "trading_day"]
    assert frame.index.name == "time"
    assert frame.index[0] == shanghai("2024-03-05 09:00")
    assert frame["close"].tolist() == [800.5, 801.0, 802.0]
    assert (frame["trading_day"] == pd.Timestamp("2024-03-05")).all()
    assert loaded.dropped == [] and loaded.repaired == []


# One test per kind of bad row: the bad row is on line 5 (after the three good ones).
@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2024-03-05 09:15:00,80x,803,801,802,5", "unparsable value '80x' in column 'open'"),
        ("2024-03-05 09:15:00,802,803,801,802,1e", "unparsable value '1e' in column 'volume'"),
        ("2024-03-05 09:15:00,802,,801,802,5", "empty value in column 'high'"),
        ("2024-03-05 09:15:00,802,803,801,802,", "empty value in column 'volume'"),
        (",802,803,801,802,5", "empty value in column 'datetime'"),
        ("2024-03-05 09:75:00,802,803,801,802,5", "unparsable time '2024-03-05 09:75:00'"),
        ("2024-03-05 09:15:00,0,803,801,802,5", "price <= 0: open=0"),
        ("2024-03-05 09:15:00,-802,-801,-803,-802,5", "price <= 0: open=-802"),
        ("2024-03-05 09:15:00,804,803,801,802,5", "high 803 below open 804"),
        ("2024-03-05 09:15:00,802,803,801,803.5,5", "high 803 below close 803.5"),
        ("2024-03-05 09:15:00,800,803,801,802,5", "low 801 above open 800"),
        ("2024-03-05 09:15:00,802,803,801,800.5,5", "low 801 above close 800.5"),
        ("2024-03-05 09:15:00,802,801,803,802,5", "high 801 below low 803"),
        ("2024-03-05 09:15:00,802,803,801,802,-3", "negative volume -3"),
        ("1990-01-03 10:00:00,802,803,801,802,5", "is outside the trading calendar"),
        # Times nanoseconds cannot hold (pandas parses them, in microseconds).
        ("1600-03-05 09:15:00,802,803,801,802,5",
         "time '1600-03-05 09:15:00' is outside the years twotier handles (1678 to 2261)"),
        ("2262-03-05 09:15:00,802,803,801,802,5", "is outside the years twotier handles"),
    ],
)  # fmt: skip
def test_bad_row_is_refused_naming_file_line_and_problem(write_csv, row, problem):
    path = write_csv([HEADER, *GOOD, row])
    error = refused(path)
    assert [p.line for p in error.problems] == [5]
    assert problem in error.problems[0].problem
    assert error.line == 5
    assert str(error).startswith(f"{path}: 1 bad bar(s)\n  line 5: ")
    assert problem in str(error)


def test_duplicated_time_is_refused_naming_the_first_line(write_csv):
    error = refused(write_csv([HEADER, *GOOD, "2024-03-05 09:10:00,802,803,801,802,5"]))
    assert (error.line, error.problem) == (
        5,
        "duplicated time 2024-03-05 09:10:00 (first on line 4)",
    )


def test_time_going_backwards_is_refused_naming_the_later_bar(write_csv):
    error = refused(write_csv([HEADER, *GOOD, "2024-03-04 14:55:00,802,803,801,802,5"]))
    assert (error.line, error.problem) == (
        5,
        "time 2024-03-04 14:55:00 goes backwards (after 2024-03-05 09:10:00 on line 4)",
    )


@pytest.mark.parametrize(
    "stamp",
    ["2024-03-05 08:00:00", "2024-03-05 12:00:00", "2024-03-05 10:15:00", "2024-03-05 23:00:00"],
)
def test_bar_outside_the_sessions_is_refused_naming_line_and_sessions(write_csv, stamp):
    path = write_csv([HEADER, *GOOD, f"{stamp},802,803,801,802,5"])
    error = refused(path)
    assert error.line == 5
    assert error.problem == (
        f"bar {stamp} (start) is outside the sessions of DCE/i "
        "(09:00-10:15, 10:30-11:30, 13:30-15:00, 21:00-23:00 (night))"
    )
    assert f"{path}: 1 bad bar(s)\n  line 5: bar {stamp} (start)" in str(error)


@pytest.mark.parametrize(
    ("stamp", "closed_day"),
    [
        ("2024-03-09 10:00:00", "2024-03-09 (Saturday)"),
        ("2024-10-01 10:00:00", "2024-10-01 (Tuesday)"),  # National Day
        ("2024-03-10 21:00:00", "2024-03-10 (Sunday)"),  # no night session on Sunday
    ],
)
def test_bar_on_a_day_without_trading_is_refused_naming_the_day(write_csv, stamp, closed_day):
    error = refused(write_csv([HEADER, *GOOD, f"{stamp},802,803,801,802,5"]))
    assert error.line == 5
    assert error.problem == (
        f"bar {stamp} (start) is not in a trading session: {closed_day} is not a trading day"
    )


def test_negative_open_interest_is_refused(write_csv):
    rows = [f"{row},1000" for row in GOOD] + ["2024-03-05 09:15:00,802,803,801,802,5,-1"]
    error = refused(write_csv([f"{HEADER},open_interest", *rows]))
    assert (error.line, error.problem) == (5, "negative open interest -1")


def test_every_bad_row_is_listed_not_only_the_first(write_csv):
    path = write_csv(
        [HEADER, GOOD[0], "2024-03-05 09:05:00,x,1,1,1,1", GOOD[2], "2024-03-05 12:00:00,1,1,1,1,1"]
    )
    error = refused(path)
    assert [p.line for p in error.problems] == [3, 5]
    assert "line 3: unparsable value 'x'" in str(error)
    assert "line 5: bar 2024-03-05 12:00:00" in str(error)
    assert "--on-bad-bar drop" in str(error)  # how to go on anyway


def test_row_with_several_problems_reports_the_first_in_check_order(write_csv):
    # An unparsable time comes before anything wrong with the values.
    error = refused(write_csv([HEADER, *GOOD, "someday,-1,x,,1,-5"]))
    assert error.problem == "unparsable time 'someday'"


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file(write_csv):
    path = write_csv([HEADER, GOOD[0], "", GOOD[1], "  ", GOOD[2], "2024-03-05 12:00:00,1,1,1,1,1"])
    error = refused(path)
    assert error.line == 7
    loaded = read_bars(path, "DCE/i", on_bad_bar="drop")
    assert len(loaded.frame) == 3


def test_short_row_is_reported_as_empty_values(write_csv):
    error = refused(write_csv([HEADER, *GOOD, "2024-03-05 09:15:00,802,803"]))
    assert (error.line, error.problem) == (5, "empty value in column 'low'")


def test_a_comma_at_the_end_of_every_line_is_read_as_the_header_says(write_csv):
    loaded = read_bars(write_csv([HEADER, *(f"{row}," for row in GOOD)]), "DCE/i", bar_minutes=5)
    assert loaded.frame["close"].tolist() == [800.5, 801.0, 802.0]
    assert loaded.frame.index[0] == shanghai("2024-03-05 09:00")


def test_a_value_beyond_the_header_in_every_row_is_refused_not_dropped(write_csv):
    # pandas would drop the extra values with a warning (or take the first column as an
    # index, shifting every value into the next column's name).
    with pytest.raises(DataError) as info:
        read_bars(write_csv([HEADER, *(f"{row},7" for row in GOOD)]), "DCE/i")
    assert (info.value.line, info.value.problem) == (2, "7 fields where the header has 6")


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz"])
def test_a_value_beyond_the_header_in_a_compressed_file_is_refused_naming_its_line(
    tmp_path, suffix
):
    # The scan for values beyond the header opens the file as pandas did (it used to
    # open only .gz, so a .bz2 file failed as "not a readable CSV file").
    compress = {".csv.gz": gzip.compress, ".csv.bz2": bz2.compress, ".csv.xz": lzma.compress}
    lines = [HEADER, f"{GOOD[0]},", f"{GOOD[1]},7", f"{GOOD[2]},"]  # pandas only warns
    path = tmp_path / f"bars{suffix}"
    path.write_bytes(compress[suffix](("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataError) as info:
        read_bars(path, "DCE/i")
    assert (info.value.line, info.value.problem) == (3, "7 fields where the header has 6")


def test_a_file_with_empty_fields_beyond_the_header_is_parsed_once(write_csv, monkeypatch):
    reads = []
    read_csv = pd.read_csv

    def counted(path, *args, **kwargs):
        if kwargs.get("nrows") != 0:  # the header alone is read first
            reads.append(path)
        return read_csv(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counted)
    rows = [f"{row}," for row in GOOD[:2]] + [f"{GOOD[2].replace(',9', ',x')},"]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i", on_bad_bar="drop", bar_minutes=5)
    assert [p.line for p in loaded.dropped] == [4]
    assert len(reads) == 1


def test_a_word_in_the_high_column_and_a_repair_in_another_row(write_csv):
    rows = [GOOD[0], GOOD[1].replace(",802,", ",x,"), "2024-03-05 09:10:00,801,800.5,800,802,9"]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i", on_bad_bar="repair")
    assert [p.line for p in loaded.dropped] == [3]
    assert [p.line for p in loaded.repaired] == [4]
    assert loaded.frame["high"].tolist() == [801.0, 802.0]


def test_a_cell_of_megabytes_is_quoted_in_part_and_a_field_beyond_the_csv_limit_refused(
    write_csv,
):
    big = "x" * 200_000  # beyond the csv module's field limit (131,072)
    error = refused(write_csv([HEADER, GOOD[0], GOOD[1].replace(",12", f",{big}")]))
    assert error.problem == f"unparsable value '{'x' * 60}…' in column 'volume'"
    long_rows = [HEADER, f"{GOOD[0]},", f'{GOOD[1]},"{big}"']  # the scan reads it by csv
    with pytest.raises(DataError, match="not a readable CSV file: field larger than field"):
        read_bars(write_csv(long_rows), "DCE/i")


def test_a_time_without_a_year_is_unparsable_not_dated_today(write_csv):
    for cell in ("09:15", "9:15 March 5"):
        error = refused(write_csv([HEADER, *GOOD, f"{cell},802,803,801,802,5"]))
        assert (error.line, error.problem) == (5, f"unparsable time {cell!r}")


def test_a_year_nanoseconds_cannot_hold_among_mixed_zones_is_a_bad_row(write_csv):
    rows = [GOOD[0], "2024-03-05 01:05:00Z,800.5,802,800,801,12", "-1,1,1,1,1,1"]
    error = refused(write_csv([HEADER, *rows]))
    assert (error.line, error.problem) == (4, "unparsable time '-1'")


def test_empty_file_is_a_data_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="the file is empty") as info:
        read_bars(path, "DCE/i")
    assert str(path) in str(info.value)


def test_file_with_only_a_header_is_a_data_error(write_csv):
    path = write_csv([HEADER])
    with pytest.raises(DataError, match="header but no rows") as info:
        read_bars(path, "DCE/i")
    assert str(path) in str(info.value)


def test_file_with_only_blank_lines_after_the_header_is_a_data_error(write_csv):
    with pytest.raises(DataError, match="no rows"):
        read_bars(write_csv([HEADER, "", ""]), "DCE/i")


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_bars(tmp_path / "nope.csv", "DCE/i")


def test_row_with_too_many_fields_is_refused_naming_its_line(write_csv):
    path = write_csv([HEADER, GOOD[0], "", "2024-03-05 09:05:00,800,1,5,799,800,12", GOOD[2]])
    with pytest.raises(DataError) as info:
        read_bars(path, "DCE/i")
    assert info.value.line == 4
    assert str(info.value) == f"{path}, line 4: 7 fields where the header has 6"


def test_directory_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not a file"):
        read_bars(tmp_path, "DCE/i")


def test_truncated_gzip_is_a_data_error(write_csv, tmp_path):
    rows = [HEADER, *(GOOD * 200)]
    data = gzip.compress("\n".join(rows).encode())
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a readable CSV file: Compressed file ended"):
        read_bars(path, "DCE/i")


def test_missing_column_is_refused_on_the_header_line(write_csv):
    path = write_csv(["datetime,open,high,low,close", *(r.rsplit(",", 1)[0] for r in GOOD)])
    with pytest.raises(DataError) as info:
        read_bars(path, "DCE/i")
    assert info.value.line == 1
    assert str(info.value).startswith(f"{path}, line 1: missing column 'volume'")


def test_missing_time_column_lists_the_names_tried(write_csv):
    path = write_csv(["when,open,high,low,close,volume", *GOOD])
    with pytest.raises(DataError, match=r"line 1: missing column: no time column \(tried time"):
        read_bars(path, "DCE/i")


def test_all_bars_bad_with_drop_is_a_clear_no_valid_bars_error(write_csv):
    path = write_csv([HEADER, "2024-03-05 12:00:00,1,1,1,1,1", "2024-03-05 12:05:00,1,0.5,1,1,1"])
    with pytest.raises(DataError) as info:
        read_bars(path, "DCE/i", on_bad_bar="drop", bar_minutes=5)
    assert not isinstance(info.value, BadBarsError)
    assert "no valid bars" in str(info.value)
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


def test_drop_removes_bad_rows_and_reports_each_with_its_line(write_csv):
    path = write_csv(
        [
            HEADER,
            GOOD[0],
            "2024-03-05 09:05:00,800.5,799,800,801,12",
            GOOD[2],
            "2024-03-05 12:00:00,1,1,1,1,1",
            "2024-03-05 09:15:00,802,803,801,802,5",
        ]
    )
    loaded = read_bars(path, "DCE/i", on_bad_bar="drop", bar_minutes=5)
    assert [(p.line, p.problem) for p in loaded.dropped] == [
        (3, "high 799 below low 800"),
        (5, "bar 2024-03-05 12:00:00 (start) is outside the sessions of DCE/i "
            "(09:00-10:15, 10:30-11:30, 13:30-15:00, 21:00-23:00 (night))"),
    ]  # fmt: skip
    assert loaded.frame.index.strftime("%H:%M").tolist() == ["09:00", "09:10", "09:15"]


def test_drop_keeps_the_first_of_duplicated_times(write_csv):
    path = write_csv([HEADER, *GOOD, "2024-03-05 09:10:00,1,1,1,1,1"])
    loaded = read_bars(path, "DCE/i", on_bad_bar="drop")
    assert loaded.frame["close"].tolist() == [800.5, 801.0, 802.0]
    assert [p.line for p in loaded.dropped] == [5]


def test_repair_widens_the_high_low_envelope_and_reports_it(write_csv):
    path = write_csv(
        [
            HEADER,
            GOOD[0],
            "2024-03-05 09:05:00,800.5,801,800,801.5,12",  # high below close
            "2024-03-05 09:10:00,799,803,800.5,802,9",  # low above open
        ]
    )
    loaded = read_bars(path, "DCE/i", on_bad_bar="repair")
    assert [(p.line, p.problem) for p in loaded.repaired] == [
        (3, "repaired: high 801 below close 801.5"),
        (4, "repaired: low 800.5 above open 799"),
    ]
    assert loaded.dropped == []
    assert loaded.frame["high"].tolist() == [801.0, 801.5, 803.0]
    assert loaded.frame["low"].tolist() == [799.0, 800.0, 799.0]


def test_repair_does_not_repair_other_problems_but_drops_and_reports_them(write_csv):
    path = write_csv(
        [
            HEADER,
            *GOOD,
            "2024-03-05 09:15:00,802,801,803,802,5",  # high below low: not an envelope repair
            "2024-03-05 09:20:00,802,803,801,802,-1",  # negative volume
            "2024-03-05 12:00:00,802,801,801,802,5",  # envelope AND outside the sessions
        ]
    )
    loaded = read_bars(path, "DCE/i", on_bad_bar="repair", bar_minutes=5)
    assert loaded.repaired == []
    assert [p.line for p in loaded.dropped] == [5, 6, 7]
    assert "outside the sessions" in loaded.dropped[2].problem
    assert len(loaded.frame) == 3
    assert loaded.frame["trading_day"].notna().all()


def test_unknown_policy_and_label_are_data_errors(write_csv):
    path = write_csv([HEADER, *GOOD])
    with pytest.raises(DataError, match="on_bad_bar must be"):
        read_bars(path, "DCE/i", on_bad_bar="fix")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="label must be 'start' or 'end'"):
        read_bars(path, "DCE/i", label="middle")  # type: ignore[arg-type]


def test_bad_bar_length_is_a_data_error(write_csv):
    with pytest.raises(DataError, match="bar length must be 1-60 minutes"):
        read_bars(write_csv([HEADER, *GOOD]), "DCE/i", bar_minutes=90)


# Labels.


def test_label_end_shifts_five_minute_bars_back_to_their_start(write_csv):
    path = write_csv(
        [
            HEADER,
            "2024-03-05 21:05:00,800,801,799,800,1",
            "2024-03-05 21:10:00,800,801,799,800,1",
            "2024-03-06 09:05:00,800,801,799,800,1",
        ]
    )
    frame = read_bars(path, "DCE/i", label="end").frame
    assert frame.index.tolist() == [
        shanghai("2024-03-05 21:00"),
        shanghai("2024-03-05 21:05"),
        shanghai("2024-03-06 09:00"),
    ]
    assert (frame["trading_day"] == pd.Timestamp("2024-03-06")).all()


def test_label_end_refuses_a_bar_ending_at_the_session_open_unless_auctions_merge(write_csv):
    path = write_csv([HEADER, "2024-03-05 09:00:00,800,800,800,800,1", *GOOD[1:]])
    error = refused(path, label="end", auction="refuse")
    assert (error.line, error.problem[:40]) == (2, "bar 2024-03-05 09:00:00 (end) is outside")
    # Merged (the default), it is the opening auction: folded into the first bar.
    loaded = read_bars(path, "DCE/i", label="end", bar_minutes=5)
    assert len(loaded.frame) == 2 and loaded.frame["volume"].iloc[0] == 13


def test_copper_minute_bar_stamped_midnight_starts_2359_and_belongs_to_the_next_day(write_csv):
    rows = [HEADER]
    for stamp in pd.date_range("2024-03-08 23:58", "2024-03-09 01:00", freq="1min"):
        rows.append(f"{stamp:%Y-%m-%d %H:%M:%S},70000,70010,69990,70000,3")
    frame = read_bars(write_csv(rows), "SHFE/cu", label="end").frame  # Friday night
    assert frame.index[0] == shanghai("2024-03-08 23:57")
    assert frame.index[2] == shanghai("2024-03-08 23:59")  # stamped 2024-03-09 00:00
    assert frame.index[-1] == shanghai("2024-03-09 00:59")  # stamped 01:00
    assert len(frame) == 63
    assert (frame["trading_day"] == pd.Timestamp("2024-03-11")).all()  # Monday


def test_copper_minute_bar_stamped_0101_by_end_is_outside_the_night(write_csv):
    rows = [HEADER, *(f"2024-03-06 00:{m:02d}:00,70000,70010,69990,70000,3" for m in range(58, 60))]
    rows.append("2024-03-06 01:01:00,70000,70010,69990,70000,3")
    error = refused(write_csv(rows), instrument="SHFE/cu", label="end", bar_minutes=1)
    assert error.line == 4 and "outside the sessions of SHFE/cu" in error.problem


# Vendor layouts.


def test_separate_date_and_time_columns_with_hold_as_open_interest(write_csv):
    path = write_csv(
        [
            "date,time,open,high,low,close,volume,turnover,hold",
            "2022-01-04,09:01:00,70510.0,70550.0,70200.0,70230.0,2389.0,839934050.0,133232.0",
            "2022-01-04,09:02:00,70240.0,70280.0,70100.0,70140.0,1281.0,449674300.0,132783.0",
        ]
    )
    frame = read_bars(path, "SHFE/cu", label="end").frame
    assert frame.index.tolist() == [shanghai("2022-01-04 09:00"), shanghai("2022-01-04 09:01")]
    assert frame["open_interest"].tolist() == [133232.0, 132783.0]
    assert "turnover" not in frame.columns


def test_empty_time_part_of_a_date_and_time_layout_is_refused_not_read_as_midnight(write_csv):
    path = write_csv(
        [
            "date,time,open,high,low,close,volume",
            "2022-01-04,23:59:00,70510,70550,70200,70230,2389",
            "2022-01-05,,70510,70550,70200,70230,2389",
        ]
    )
    error = refused(path, instrument="SHFE/cu", bar_minutes=1)
    assert (error.line, error.problem) == (3, "empty value in column 'time'")


@pytest.mark.parametrize("name", ["hold", "oi", "open_interest", "OpenInterest", "position"])
def test_open_interest_aliases_are_recognised(write_csv, name):
    rows = [f"{row},500" for row in GOOD]
    frame = read_bars(write_csv([f"{HEADER},{name}", *rows]), "DCE/i").frame
    assert frame["open_interest"].tolist() == [500.0, 500.0, 500.0]


def test_column_mapping_reads_a_vendor_layout(write_csv):
    path = write_csv(
        [
            "bar_end;o;hi;lo;last_price;qty",
            *(row.replace(",", ";") for row in GOOD),
        ]
    )
    path.write_text(path.read_text().replace(";", ","))
    mapping = {"time": "bar_end", "high": "hi", "low": "lo", "close": "last_price", "volume": "qty"}
    frame = read_bars(path, "DCE/i", columns=mapping).frame
    assert frame["close"].tolist() == [800.5, 801.0, 802.0]
    assert frame["volume"].tolist() == [10.0, 12.0, 9.0]


def test_column_mapping_to_a_missing_column_is_refused(write_csv):
    with pytest.raises(DataError, match=r"column 'last_price' \(mapped to 'close'\) not found"):
        read_bars(write_csv([HEADER, *GOOD]), "DCE/i", columns={"close": "last_price"})


def test_column_mapping_to_an_unknown_name_is_refused(write_csv):
    with pytest.raises(DataError, match="cannot map column 'close' to 'vwap'; known names"):
        read_bars(write_csv([HEADER, *GOOD]), "DCE/i", columns={"vwap": "close"})


def test_vendor_time_layout_is_parsed(write_csv):
    rows = [r.replace("2024-03-05 ", "2024/03/05 ").replace(":00,", ",", 1) for r in GOOD]
    frame = read_bars(write_csv([HEADER, *rows]), "DCE/i").frame
    assert frame.index[2] == shanghai("2024-03-05 09:10")


# Formats.


def test_gzip_csv_loads_the_same_as_plain_csv(write_csv, tmp_path):
    plain = write_csv([HEADER, *GOOD])
    zipped = tmp_path / "bars.csv.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    pd.testing.assert_frame_equal(read_bars(zipped, "DCE/i").frame, read_bars(plain, "DCE/i").frame)


def test_bad_gzip_csv_names_its_line(write_csv, tmp_path):
    zipped = tmp_path / "bars.csv.gz"
    zipped.write_bytes(gzip.compress("\n".join([HEADER, *GOOD, "x,1,1,1,1,1"]).encode()))
    error = refused(zipped)
    assert error.line == 5 and str(zipped) in str(error)


def parquet_table(times, closes) -> pd.DataFrame:
    closes = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {
            "datetime": pd.to_datetime(times),
            "open": closes,
            "high": closes + 1,
            "low": closes - 1,
            "close": closes,
            "volume": np.ones(len(closes)),
        }
    )


def test_parquet_bad_row_is_refused_naming_the_row(tmp_path):
    table = parquet_table(
        ["2024-03-05 09:00", "2024-03-05 09:05", "2024-03-05 12:00", "2024-03-05 09:15"],
        [800, 801, 802, -1],
    )
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    error = refused(path)
    assert [p.line for p in error.problems] == [3, 4]
    assert error.unit == "row"
    assert f"{path}: 2 bad bar(s)\n  row 3: bar 2024-03-05 12:00:00 (start)" in str(error)
    assert "row 4: price <= 0: open=-1" in str(error)


def test_a_parquet_column_of_true_and_false_is_not_numbers(tmp_path):
    # A CSV's "True" is refused; Parquet's booleans were read as 1 and 0 (a volume of one
    # lot on every bar, an open of 1 that "repair" then took the low down to).
    table = parquet_table(["2024-03-05 09:00", "2024-03-05 09:05"], [800, 801])
    table["volume"] = [True, True]
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    error = refused(path)
    assert (error.line, error.problem) == (1, "unparsable value 'True' in column 'volume'")


def test_parquet_missing_time_is_an_empty_value(tmp_path):
    table = parquet_table(["2024-03-05 09:00", None, "2024-03-05 09:10"], [800, 801, 802])
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    error = refused(path)
    assert (error.line, error.problem) == (2, "empty value in column 'datetime'")


def test_times_with_and_without_a_zone_in_one_file_are_each_read_in_exchange_time(write_csv):
    zoned = [
        "2024-03-05 01:05:00Z,800.5,802,800,801,12",
        "2024-03-05T09:10:00+08:00,801,803,800.5,802,9",
    ]
    loaded = read_bars(write_csv([HEADER, GOOD[0], *zoned]), "DCE/i")
    assert list(loaded.frame.index) == [shanghai(f"2024-03-05 09:{m}") for m in ("00", "05", "10")]


def test_parquet_time_nanoseconds_cannot_hold_is_a_bad_row_and_can_be_dropped(tmp_path):
    table = parquet_table(["2024-03-05 09:00", "1600-03-05 09:05", "2024-03-05 09:10"], [8, 8, 8])
    assert table["datetime"].dt.unit != "ns"  # pandas keeps the year 1600 in a coarser unit
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    error = refused(path)
    assert (error.line, error.problem) == (
        2,
        "time '1600-03-05 09:05:00' is outside the years twotier handles (1678 to 2261)",
    )
    loaded = read_bars(path, "DCE/i", bar_minutes=5, on_bad_bar="drop")
    assert [p.line for p in loaded.dropped] == [2]
    assert list(loaded.frame.index) == [shanghai("2024-03-05 09:00"), shanghai("2024-03-05 09:10")]


def test_damaged_parquet_is_a_data_error(tmp_path):
    path = tmp_path / "bars.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_bars(path, "DCE/i")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz"])
def test_bars_written_by_write_bars_read_back_identical(write_csv, tmp_path, suffix):
    loaded = read_bars(write_csv([f"{HEADER},hold", *(f"{r},7" for r in GOOD)]), "DCE/i")
    out = tmp_path / f"out{suffix}"
    write_bars(loaded.frame, out)
    again = read_bars(out, "DCE/i")
    pd.testing.assert_frame_equal(again.frame, loaded.frame)
    assert list(tmp_path.glob(".out*")) == []  # no temporary file left behind
    first = out.read_bytes()
    write_bars(loaded.frame, out)  # gzip's header holds no time or temporary name
    assert out.read_bytes() == first


def test_write_bars_refuses_a_name_it_would_write_in_another_format(write_csv, tmp_path):
    # A .json or .xlsx name got CSV text; a .csv.gz name got plain, unreadable, text.
    loaded = read_bars(write_csv([HEADER, *GOOD]), "DCE/i")
    with pytest.raises(DataError, match=r"not a bar file name: end it in \.csv, \.csv\.gz"):
        write_bars(loaded.frame, tmp_path / "bars.json")
    assert list(tmp_path.iterdir()) == [tmp_path / "bars.csv"]


def test_bars_from_frame_validates_and_numbers_rows_from_one():
    frame = parquet_table(["2024-03-05 09:00", "2024-03-05 09:05"], [800, 801]).set_index(
        "datetime"
    )
    frame.loc[frame.index[1], "high"] = 700.0
    with pytest.raises(BadBarsError) as info:
        bars_from_frame(frame, "DCE/i", bar_minutes=5)
    assert (info.value.line, info.value.unit) == (2, "row")
    assert "<DataFrame>: 1 bad bar(s)\n  row 2: high 700 below low 800" in str(info.value)


def test_calendar_can_be_overridden_when_loading(write_csv, tmp_path):
    calendar_file = tmp_path / "calendar.toml"
    calendar_file.write_text('holidays = ["2024-03-05"]\n')
    error = refused(write_csv([HEADER, *GOOD]), calendar=TradingCalendar.load(calendar_file))
    assert [p.line for p in error.problems] == [2, 3, 4]
    assert "2024-03-05 (Tuesday) is not a trading day" in error.problem


@pytest.mark.parametrize("spoil", [False, True], ids=["numeric-columns", "text-columns"])
def test_prices_are_read_exactly_as_python_float_reads_them(write_csv, spoil):
    # A clean numeric column takes the parser's fast path; a column with one bad cell the
    # text path. Both must give the same, correctly rounded, values.
    rnd = random.Random(7)
    texts = []
    for _ in range(240):
        digits = str(rnd.randint(10**6, 10**17))
        cut = rnd.randint(1, len(digits) - 1)
        texts.append(f"{digits[:cut]}.{digits[cut:]}")
    stamps = pd.date_range("2024-03-05 21:00", periods=240, freq="1min")
    rows = [f"{s:%Y-%m-%d %H:%M:%S},{t},{t},{t},{t},1" for s, t in zip(stamps, texts, strict=True)]
    if spoil:
        rows.append("2024-03-06 01:00:00,x,x,x,x,x")
    # Prices of every magnitude: no plausible move or price range to keep to here.
    copper = get_instrument("SHFE/cu").model_copy(update={"plausible_move": None})
    loaded = read_bars(write_csv([HEADER, *rows]), copper, on_bad_bar="drop")
    expected = [float(t) for t in texts]
    for column in ("open", "high", "low", "close"):
        assert loaded.frame[column].tolist() == expected
    assert len(loaded.dropped) == int(spoil)


# The real files.


def test_real_copper_file_refuses_its_malformed_bar_with_its_line(real_file):
    with pytest.raises(BadBarsError) as info:
        read_bars(real_file("SHFE.cu.HOT.m1.csv.gz"), "SHFE/cu", label="end")
    assert [(p.line, p.problem) for p in info.value.problems] == [
        (85146, "high 71920 below close 71940")
    ]
    assert info.value.problems[0].time == "2021-10-14 10:50:00"


def test_real_copper_file_with_drop_keeps_all_other_bars(real_bars):
    loaded = real_bars("SHFE.cu.HOT.m1.csv.gz")
    assert len(loaded.frame) == 124_175 - 1
    assert [p.line for p in loaded.dropped] == [85146]
    assert loaded.bar_minutes == 1
    assert shanghai("2021-10-14 10:49") not in loaded.frame.index


def test_real_iron_ore_file_loads_by_end_label(real_bars):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    frame = loaded.frame
    assert (len(frame), loaded.bar_minutes, loaded.dropped) == (15_696, 5, [])
    assert frame.index[0] == shanghai("2019-07-31 21:00")  # stamped 21:05
    assert frame["trading_day"].iloc[0] == pd.Timestamp("2019-08-01")
    assert frame.index[-1] == shanghai("2020-08-13 14:55")


def test_real_cu2202_file_loads_date_time_columns_and_hold(real_bars):
    loaded = real_bars("SHFE.cu2202.m1.csv")
    assert (len(loaded.frame), loaded.bar_minutes) == (11_610, 1)
    assert loaded.frame["open_interest"].iloc[0] == 133232.0


def test_time_going_backwards_names_the_later_bar_as_written_with_label_end(write_csv):
    path = write_csv(
        [
            HEADER,
            "2024-03-05 21:05:00,1,1,1,1,1",
            "2024-03-05 21:15:00,1,1,1,1,1",
            "2024-03-05 21:10:00,1,1,1,1,1",
        ]
    )
    error = refused(path, label="end")
    assert error.problem == (
        "time 2024-03-05 21:10:00 goes backwards (after 2024-03-05 21:15:00 on line 3)"
    )


def test_repair_works_on_parquet_float_columns(tmp_path):
    table = parquet_table(["2024-03-05 09:00", "2024-03-05 09:05"], [800, 801])
    table.loc[1, "high"] = 800.5  # below open and close 801
    path = tmp_path / "bars.parquet"
    table.to_parquet(path)
    loaded = read_bars(path, "DCE/i", on_bad_bar="repair", bar_minutes=5)
    assert [(p.line, p.problem) for p in loaded.repaired] == [
        (2, "repaired: high 800.5 below open 801")
    ]
    assert loaded.frame["high"].tolist() == [801.0, 801.0]


@pytest.mark.parametrize(
    "header",
    ["datetime,time,open,high,low,close,volume", "time,open,high,low,close,volume,time"],
)
def test_two_columns_that_can_each_be_the_time_are_refused(write_csv, header):
    # The first was taken silently (a `datetime` of other dates beside `time`; `time`
    # twice, the second full of anything).
    cells = {"datetime": "2024-03-05 09:00", "time": "2024-03-05 09:00"}
    row = ",".join(cells.get(name, "800") for name in header.split(","))
    with pytest.raises(DataError, match=r"line 1: columns .* can each be 'time'"):
        read_bars(write_csv([header, row]), "DCE/i")
