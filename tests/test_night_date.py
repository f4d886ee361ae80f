"""Night bars dated with their trading day (RULES.md 11; DCE's ActionDay in CTP):
``night_date = "trading_day"`` reads them on the evening they traded, and a file read the
other way is warned about or refused with a hint."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from twotier.cli.main import app
from twotier.errors import BadBarsError
from twotier.market.bars import read_bars
from twotier.market.calendar import default_calendar

HEADER = "datetime,open,high,low,close,volume"


def shanghai(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


def test_trading_day_dates_move_each_night_to_its_evening(write_csv):
    rows = [
        "2024-03-08 14:45:00,800,801,799,800,10",  # Friday's day session
        "2024-03-11 21:00:00,801,802,800,801,10",  # Friday's night, dated Monday
        "2024-03-11 22:45:00,801,802,800,801,10",
        "2024-03-11 09:00:00,801,802,800,801,10",  # Monday's day session
        "2024-03-12 21:00:00,801,802,800,801,10",  # Monday's night, dated Tuesday
    ]
    frame = read_bars(write_csv([HEADER, *rows]), "DCE/i", night_date="trading_day").frame
    assert list(frame.index) == [
        shanghai("2024-03-08 14:45"),
        shanghai("2024-03-08 21:00"),
        shanghai("2024-03-08 22:45"),
        shanghai("2024-03-11 09:00"),
        shanghai("2024-03-11 21:00"),
    ]
    assert frame["trading_day"].dt.strftime("%m-%d").tolist() == [
        "03-08",
        "03-11",
        "03-11",
        "03-11",
        "03-12",
    ]


def test_trading_day_dates_after_midnight_and_stamped_by_end(write_csv):
    # Copper's Friday night to 01:00, stamped by bar end and dated Monday throughout.
    rows = [
        "2024-03-11 23:59:00,70000,70010,69990,70000,3",
        "2024-03-11 00:00:00,70000,70010,69990,70000,3",  # the bar 23:59-00:00
        "2024-03-11 00:01:00,70000,70010,69990,70000,3",
    ]
    loaded = read_bars(write_csv([HEADER, *rows]), "SHFE/cu", label="end", night_date="trading_day")
    assert list(loaded.frame.index) == [
        shanghai("2024-03-08 23:58"),
        shanghai("2024-03-08 23:59"),
        shanghai("2024-03-09 00:00"),
    ]
    assert (loaded.frame["trading_day"] == pd.Timestamp("2024-03-11")).all()


def test_a_night_file_dated_with_the_trading_day_read_as_calendar_hints_night_date(write_csv):
    # In the order they traded: Friday 15:00, Friday's night (dated Monday), Monday 09:00.
    rows = [
        "2024-03-08 14:45:00,800,801,799,800,10",
        "2024-03-11 21:00:00,801,802,800,801,10",
        "2024-03-11 09:00:00,801,802,800,801,10",
    ]
    with pytest.raises(BadBarsError) as info:
        read_bars(write_csv([HEADER, *rows]), "DCE/i", bar_minutes=15)
    assert info.value.hint.startswith(
        "night bars written before the day session of their own date: does the file date "
        "nights with their trading day? (--night-date trading_day"
    )


def test_night_bars_dated_on_a_saturday_hint_night_date_and_data_check_warns(write_csv):
    rows = [
        "2024-03-08 14:45:00,800,801,799,800,10",
        "2024-03-09 21:00:00,801,802,800,801,10",  # Friday's night, dated the next day
        "2024-03-11 09:00:00,801,802,800,801,10",
    ]
    path = write_csv([HEADER, *rows])
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/i", bar_minutes=15)
    assert info.value.hint.startswith("night bars dated on a weekend")
    result = CliRunner().invoke(
        app, ["data", "check", str(path), "-i", "DCE/i", "--on-bad-bar", "drop", "--json"]
    )
    warnings = json.loads(result.stdout)["warnings"]
    assert any(w.startswith("1 night bar(s) dated on a Saturday or Sunday") for w in warnings)


def test_a_file_of_night_bars_only_is_checked_without_a_night_dating_warning(write_csv):
    # The warning compares nights with day sessions; with none it crashed (KeyError).
    rows = ["2024-03-05 21:00:00,760,761,759,760,5", "2024-03-05 21:15:00,760,762,759,761,5"]
    result = CliRunner().invoke(
        app, ["data", "check", str(write_csv([HEADER, *rows])), "-i", "DCE/i", "--json"]
    )
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert not any("night bars look dated" in w for w in warnings)


# The real iron ore file, re-dated as a CTP feed dates DCE's nights.


@pytest.fixture(scope="module")
def iron(real_bars):
    return real_bars("DCE.i.HOT.m5.csv")


@pytest.fixture(scope="module")
def redated(iron, tmp_path_factory) -> pd.DataFrame:
    """The real file's rows with each night stamped with its trading day (by bar end)."""
    frame = iron.frame
    ends = frame.index + pd.Timedelta(minutes=5)
    night = (frame.index.hour >= 18) | (frame.index.hour < 6)
    stamp_day = np.where(night, frame["trading_day"].to_numpy(), ends.normalize().tz_localize(None))
    stamps = pd.to_datetime(stamp_day) + (
        ends.tz_localize(None) - ends.tz_localize(None).normalize()
    )
    out = frame.drop(columns=["trading_day"]).reset_index(drop=True)
    out.insert(0, "datetime", stamps.strftime("%Y-%m-%d %H:%M:%S"))
    return out


def test_real_file_dated_with_the_trading_day_reads_back_as_the_original(iron, redated, tmp_path):
    path = tmp_path / "i_ctp.csv"
    redated.to_csv(path, index=False)
    again = read_bars(path, "DCE/i", label="end", night_date="trading_day")
    pd.testing.assert_frame_equal(again.frame, iron.frame)


def test_real_file_dated_with_the_trading_day_and_sorted_is_warned_about(redated, tmp_path):
    path = tmp_path / "i_sorted.csv"
    redated.sort_values("datetime", kind="stable").to_csv(path, index=False)
    # Read as calendar dates, the nights dated with the day after a holiday fall on the
    # holiday's eve, which has no night: dropped; the rest look shifted by their prices.
    result = CliRunner().invoke(
        app,
        ["data", "check", str(path), "-i", "DCE/i", "--label", "end", "--on-bad-bar", "drop",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert all("no night session on the evening" in p["problem"] for p in summary["dropped"])
    shifted = [w for w in summary["warnings"] if "look dated with their trading day" in w]
    assert len(shifted) == 1 and "--night-date trading_day" in shifted[0]


def test_the_real_files_as_they_are_do_not_look_shifted(iron):
    from twotier.market.summary import shifted_nights

    assert shifted_nights(iron.frame, iron.instrument) == []
    assert default_calendar().has_night(np.array(["2019-08-01"], dtype="datetime64[D]"))[0]
