"""Roll information from a schedule file and from a contract column in the bars: reading,
writing, and every refusal with its file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from twotier.errors import BadBarsError, DataError
from twotier.market.bars import bars_from_frame, read_bars
from twotier.market.resample import resample
from twotier.market.rolls import (
    Roll,
    RollSchedule,
    read_schedule,
    schedule_from_contracts,
    validate_schedule,
    write_schedule,
)

HEADER = "trading_day,old_contract,new_contract,old_price,new_price"
IRON_ROLLS = RollSchedule(
    (
        Roll(date(2019, 12, 6), "i2001", "i2005", 654.5, 619.5),
        Roll(date(2020, 3, 31), "i2005", "i2009", 645.5, 576.5),
        Roll(date(2020, 8, 10), "i2009", "i2101", 896.0, 817.0),
    )
)


def test_schedule_file_round_trip_keeps_every_roll_exactly(tmp_path):
    awkward = RollSchedule(
        (*IRON_ROLLS.rolls, Roll(date(2020, 12, 1), "i2101", "i2105", 0.1 + 0.2, 70510.0))
    )
    path = tmp_path / "sub" / "rolls.csv"
    write_schedule(awkward, path)
    assert read_schedule(path) == awkward
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER
    assert lines[2] == "2020-03-31,i2005,i2009,645.5,576.5"
    assert lines[4].endswith(",70510")
    assert [p.name for p in path.parent.iterdir()] == ["rolls.csv"]  # no temporary left


def test_schedule_file_accepts_any_column_order_extra_columns_and_blank_lines(write_csv):
    path = write_csv(
        [
            "new_price,old_price,note,trading_day,new_contract,old_contract",
            "576.5,645.5,spring,2020-03-31,i2009,i2005",
            "",
            "817,896,,2020-08-10,i2101,i2009",
        ]
    )
    assert read_schedule(path).rolls == IRON_ROLLS.rolls[1:]


def test_an_empty_schedule_file_with_a_header_has_no_rolls(write_csv):
    assert len(read_schedule(write_csv([HEADER]))) == 0


ROW1 = "2020-03-31,i2005,i2009,645.5,576.5"
BAD_SCHEDULES = [
    # (rows after the header, line, problem)
    (["2020-03-31,i2005,i2009,645.5"], 2, "4 fields where the header has 5"),
    (["2020-03-31,,i2009,645.5,576.5"], 2, "empty value in column 'old_contract'"),
    (["31/03/2020,i2005,i2009,645.5,576.5"], 2, "trading_day '31/03/2020' is not a date"),
    (["2020-03-31,i2005,i2009,0,576.5"], 2, "old_price must be > 0, not 0"),
    (["2020-03-31,i2005,i2009,645.5,-1"], 2, "new_price must be > 0, not -1"),
    (["2020-03-31,i2005,i2009,645.5,abc"], 2, "new_price 'abc' is not a number"),
    (["2020-03-31,i2005,i2009,nan,576.5"], 2, "old_price must be > 0, not nan"),
    (
        ["2020-03-31,i2005,i2009,1e308,576.5"],
        2,
        "old_price 1e308 is beyond the largest price twotier carries (1e+08)",
    ),
    (["2020-03-31,i2005,i2005,645.5,576.5"], 2, "old and new contract are both i2005"),
    (
        [ROW1, "2020-03-31,i2009,i2101,896,817"],
        3,
        "trading day 2020-03-31 is not after the previous roll's 2020-03-31",
    ),
    (
        [ROW1, "2020-03-01,i2009,i2101,896,817"],
        3,
        "trading day 2020-03-01 is not after the previous roll's 2020-03-31",
    ),
    (
        [ROW1, "", "2020-08-10,i2101,i2105,896,817"],
        4,
        "old contract i2101 is not the previous roll's new contract i2009",
    ),
    (
        [ROW1, "2020-08-10,i2009,i2005,896,817"],
        3,
        "contract i2005 comes back after being replaced on 2020-03-31",
    ),
]


@pytest.mark.parametrize(("rows", "line", "problem"), BAD_SCHEDULES)
def test_a_bad_schedule_file_is_refused_naming_the_file_and_line(write_csv, rows, line, problem):
    path = write_csv([HEADER, *rows], name="rolls.csv")
    with pytest.raises(DataError) as info:
        read_schedule(path)
    assert info.value.source == str(path)
    assert info.value.line == line
    assert problem in info.value.problem


def test_a_schedule_file_without_a_column_is_refused_on_its_header(write_csv):
    path = write_csv(["trading_day,old_contract,new_contract,old_price", ROW1])
    with pytest.raises(DataError, match=r"line 1: missing column\(s\) new_price"):
        read_schedule(path)


def test_a_missing_or_empty_schedule_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="roll schedule file not found"):
        read_schedule(tmp_path / "nowhere.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        read_schedule(empty)


def test_writing_refuses_a_schedule_that_could_not_be_read_back(tmp_path):
    backwards = RollSchedule((IRON_ROLLS.rolls[1], IRON_ROLLS.rolls[0]))
    with pytest.raises(DataError, match="roll 2: trading day 2019-12-06 is not after"):
        write_schedule(backwards, tmp_path / "rolls.csv")
    assert not (tmp_path / "rolls.csv").exists()
    validate_schedule(IRON_ROLLS)  # a sound one passes


# --- A contract column -------------------------------------------------------------------

BARS_HEADER = "datetime,open,high,low,close,volume,symbol"


def bar_line(time: str, open_: float, close: float, contract: str) -> str:
    return f"{time},{open_},{max(open_, close) + 1},{min(open_, close) - 1},{close},5,{contract}"


# DCE iron ore, 15-minute bars stamped by start: Friday 2024-03-01 day, Friday night
# (-> Monday 03-04), Monday day (the roll: i2409 from the night bar), Tuesday.
CONTRACT_BARS = [
    BARS_HEADER,
    bar_line("2024-03-01 14:30:00", 800, 801, "i2405"),
    bar_line("2024-03-01 14:45:00", 801, 802, "i2405"),
    bar_line("2024-03-01 21:00:00", 770, 771, "i2409"),
    bar_line("2024-03-04 09:00:00", 771, 772, "i2409"),
    bar_line("2024-03-05 09:00:00", 772, 773, "i2409"),
]


def test_loader_keeps_the_contract_column_as_text(write_csv):
    loaded = read_bars(write_csv(CONTRACT_BARS), "DCE/i", contract_column="symbol")
    assert loaded.frame["contract"].tolist() == ["i2405"] * 2 + ["i2409"] * 3
    assert "symbol" not in loaded.frame.columns
    plain = read_bars(write_csv(CONTRACT_BARS), "DCE/i")
    assert "contract" not in plain.frame.columns


def test_contract_column_of_digits_stays_text_and_is_refused_as_no_contract_code(write_csv):
    lines = [line.replace("i2405", "02405").replace("i2409", "02409") for line in CONTRACT_BARS]
    with pytest.raises(BadBarsError) as info:
        read_bars(write_csv(lines), "DCE/i", contract_column="symbol")
    assert info.value.problems[0].problem.startswith("contract '02405' is not a DCE/i contract")


def test_schedule_from_contracts_rolls_where_the_contract_changes(write_csv):
    frame = read_bars(write_csv(CONTRACT_BARS), "DCE/i", contract_column="symbol").frame
    # The night bar of Friday 21:00 belongs to Monday: that is the roll's trading day;
    # the old contract's last close and the new one's first open price it.
    assert schedule_from_contracts(frame).rolls == (
        Roll(date(2024, 3, 4), "i2405", "i2409", 802.0, 770.0),
    )


def test_one_contract_throughout_has_no_rolls(write_csv):
    lines = [line.replace("i2409", "i2405") for line in CONTRACT_BARS]
    frame = read_bars(write_csv(lines), "DCE/i", contract_column="symbol").frame
    assert len(schedule_from_contracts(frame)) == 0


def test_loader_refuses_a_contract_that_comes_back_naming_its_line(write_csv):
    lines = [*CONTRACT_BARS[:5], bar_line("2024-03-05 09:00:00", 772, 773, "i2405")]
    with pytest.raises(DataError) as info:
        read_bars(write_csv(lines), "DCE/i", contract_column="symbol")
    assert info.value.line == 6
    assert "contract i2405 comes back after being replaced (by i2409" in info.value.problem


def test_loader_refuses_a_contract_change_inside_a_trading_day_naming_its_line(write_csv):
    # The night bar (trading day Monday) is still i2405; Monday's day session is i2409.
    lines = [*CONTRACT_BARS]
    lines[3] = bar_line("2024-03-01 21:00:00", 770, 771, "i2405")
    with pytest.raises(DataError) as info:
        read_bars(write_csv(lines), "DCE/i", contract_column="symbol")
    assert info.value.line == 5
    assert "from i2405 to i2409 inside trading day 2024-03-04" in info.value.problem


def test_an_empty_contract_is_a_bad_bar_reported_with_its_line(write_csv):
    lines = [*CONTRACT_BARS]
    lines[2] = bar_line("2024-03-01 14:45:00", 801, 802, " ")
    with pytest.raises(BadBarsError) as info:
        read_bars(write_csv(lines), "DCE/i", contract_column="symbol")
    assert [(p.line, p.problem) for p in info.value.problems] == [
        (3, "empty value in column 'symbol'")
    ]
    kept = read_bars(write_csv(lines), "DCE/i", contract_column="symbol", on_bad_bar="drop")
    assert len(kept.frame) == 4 and [p.line for p in kept.dropped] == [3]


def test_a_missing_contract_column_is_named_on_the_header(write_csv):
    with pytest.raises(DataError, match=r"line 1: contract column 'contract' not found"):
        read_bars(write_csv(CONTRACT_BARS), "DCE/i", contract_column="contract")


def test_bars_from_frame_keeps_a_named_contract_column_and_resampling_carries_it(write_csv):
    five = pd.DataFrame(
        {"open": 800.0, "high": 801.0, "low": 799.0, "close": 800.0, "volume": 1.0},
        index=pd.date_range("2024-03-04 09:00", periods=6, freq="5min", tz="Asia/Shanghai"),
    )
    five["code"] = "i2405"
    loaded = bars_from_frame(five, "DCE/i", contract_column="code")
    assert loaded.frame["contract"].tolist() == ["i2405"] * 6
    fifteen = resample(loaded.frame, loaded.instrument, 5)
    assert fifteen["contract"].tolist() == ["i2405", "i2405"]
    with pytest.raises(DataError, match="contract column 'symbol' not found"):
        bars_from_frame(five, "DCE/i", contract_column="symbol")


def test_schedule_from_contracts_checks_frames_built_elsewhere_naming_the_bar():
    times = pd.date_range("2024-03-04 09:00", periods=3, freq="D", tz="Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "open": [1.0, 2.0, 3.0],
            "close": [1.0, 2.0, 3.0],
            "contract": ["a2405", "a2409", "a2405"],
            "trading_day": times.tz_localize(None).normalize(),
        },
        index=times,
    )
    with pytest.raises(DataError, match=r"bar 2024-03-06 09:00 \(row 3\): contract a2405 comes"):
        schedule_from_contracts(frame, source="mine")
    with pytest.raises(DataError, match="no 'contract' column"):
        schedule_from_contracts(frame.drop(columns="contract"))


def test_the_documented_schedule_example_reads(tmp_path):
    text = Path(__file__).resolve().parents[1].joinpath("docs", "rolls.md").read_text()
    block = text.split("```csv\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "rolls.csv"
    path.write_text(block)
    assert read_schedule(path) == IRON_ROLLS


def test_a_device_given_as_a_roll_schedule_is_refused():
    # /dev/zero was read to the end (never); /dev/null read as an empty schedule.
    with pytest.raises(DataError, match="the roll schedule is not a file"):
        read_schedule(Path("/dev/null"))


def test_a_schedule_column_written_twice_is_refused(write_csv):
    # Which old_price is meant cannot be told; the first was taken silently.
    path = write_csv(["trading_day,old_contract,new_contract,old_price,new_price,old_price",
                      ROW1 + ",1"])  # fmt: skip
    with pytest.raises(DataError, match="line 1: column 'old_price' appears more than once"):
        read_schedule(path)
