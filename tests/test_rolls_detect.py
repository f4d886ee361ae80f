"""Without roll information: session-open jumps that look like rolls, on made-up bars and
on the real iron ore series; and what the data summary says about rolls."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from twotier.market.bars import LoadedBars, bars_from_frame
from twotier.market.instruments import get_instrument
from twotier.market.resample import resample
from twotier.market.rolls import Roll, RollSchedule, session_opens, suspected_rolls
from twotier.market.summary import summarize

TZ = "Asia/Shanghai"


def flat_days(jump_at: str | None, jump: float = 25.0) -> pd.DataFrame:
    """DCE iron ore 15-minute day-session bars, Monday 2024-03-04 to Friday 03-08, every
    bar 800 +- 1 (true range 2, so ATR(14) = 2), prices ``jump`` higher from ``jump_at``."""
    spec = get_instrument("DCE/i")
    starts = [
        pd.Timestamp(day) + pd.Timedelta(minutes=int(m))
        for day in pd.bdate_range("2024-03-04", "2024-03-08")
        for s in spec.sessions.segments
        if not s.night
        for m in range(s.start, s.end, 15)
    ]
    index = pd.DatetimeIndex(starts).tz_localize(TZ)
    level = 800.0 + np.where(index >= pd.Timestamp(jump_at or "2100-01-01", tz=TZ), jump, 0)
    frame = pd.DataFrame(
        {"open": level, "high": level + 1, "low": level - 1, "close": level, "volume": 1.0},
        index=index,
    )
    return bars_from_frame(frame, "DCE/i", bar_minutes=15).frame


def test_a_jump_at_a_day_open_is_measured_in_the_atr_before_it():
    frame = flat_days("2024-03-06 09:00")
    (found,) = suspected_rolls(frame, atr_multiple=12.4)
    assert found.time == pd.Timestamp("2024-03-06 09:00", tz=TZ)
    assert found.trading_day == date(2024, 3, 6)
    assert found.previous_time == pd.Timestamp("2024-03-05 14:45", tz=TZ)
    assert (found.previous_close, found.open, found.jump) == (800.0, 825.0, 25.0)
    assert found.atrs == pytest.approx(12.5)  # 25 / 2: the gap's own bar is not in the ATR
    assert suspected_rolls(frame, atr_multiple=12.5) == []  # strictly larger


@pytest.mark.parametrize("inside", ["2024-03-06 10:00", "2024-03-06 10:30", "2024-03-06 13:30"])
def test_a_jump_that_is_not_at_a_session_open_is_not_a_suspect(inside):
    assert suspected_rolls(flat_days(inside), atr_multiple=1.0) == []


def test_too_few_bars_for_an_atr_give_no_suspects():
    frame = flat_days("2024-03-04 09:30").iloc[:10]
    assert suspected_rolls(frame, atr_multiple=0.1) == []


def test_session_opens_are_the_first_night_and_the_first_day_bar_of_each_trading_day():
    times = pd.DatetimeIndex(
        [
            "2024-03-04 14:45",
            "2024-03-04 21:00",
            "2024-03-04 21:15",
            "2024-03-05 09:00",
            "2024-03-05 09:15",
            "2024-03-05 10:30",
            "2024-03-06 09:00",
        ]
    ).tz_localize(TZ)
    frame = pd.DataFrame(
        {"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=times
    )
    frame = bars_from_frame(frame, "DCE/i", bar_minutes=15).frame
    assert session_opens(frame).tolist() == [True, True, False, True, False, False, True]


@pytest.fixture(scope="module")
def iron_15min(real_bars):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    return resample(loaded.frame, loaded.instrument, loaded.bar_minutes)


def test_real_iron_ore_suspects_are_its_three_rolls_and_the_new_year_gap(iron_15min):
    found = suspected_rolls(iron_15min, atr_multiple=10)
    assert [(f"{s.time:%Y-%m-%d %H:%M}", s.previous_close, s.open) for s in found] == [
        ("2019-12-05 21:00", 654.5, 619.5),  # roll, at the night open (trading day 12-06)
        ("2020-02-03 09:00", 649.5, 606.5),  # Chinese New Year gap
        ("2020-02-04 09:00", 606.5, 570.5),  # and its second day
        ("2020-03-31 09:00", 645.5, 576.5),  # roll
        ("2020-08-07 21:00", 896.0, 817.0),  # roll, at the night open (trading day 08-10)
    ]
    march = found[3]
    assert march.trading_day == date(2020, 3, 31)
    assert 13 < march.atrs < 14.5
    assert [s.trading_day for s in found][-1] == date(2020, 8, 10)
    assert all(s.atrs > 10 for s in found)
    # The next largest session-open jump is far below: 6.7 ATRs.
    assert len(suspected_rolls(iron_15min, atr_multiple=6)) == 6


def test_suspects_are_the_jumps_at_every_session_open(iron_15min):
    """Found among the jumps alone, they are the session opens' jumps over the multiple."""
    import talib

    high, low, close, open_ = (iron_15min[c].to_numpy() for c in ("high", "low", "close", "open"))
    atr = talib.ATR(high, low, close, timeperiod=14)
    multiple = np.abs(open_[1:] - close[:-1]) / atr[:-1]
    for atrs in (1.0, 3.0, 10.0):
        rows = np.flatnonzero(session_opens(iron_15min)[1:] & (multiple > atrs)) + 1
        found = suspected_rolls(iron_15min, atr_multiple=atrs)
        assert [s.time for s in found] == list(iron_15min.index[rows])
        assert [s.previous_time for s in found] == list(iron_15min.index[rows - 1])
        assert [s.atrs for s in found] == multiple[rows - 1].tolist()


# --- The data summary --------------------------------------------------------------------


def loaded(frame: pd.DataFrame) -> LoadedBars:
    return LoadedBars(frame, get_instrument("DCE/i"), "bars.csv", 15)


def test_summary_without_roll_information_lists_the_suspects():
    summary = summarize(loaded(flat_days("2024-03-06 09:00")), atr_multiple=10)
    assert summary.roll_source is None
    assert [s.trading_day for s in summary.suspected_rolls] == [date(2024, 3, 6)]
    shown = summary.as_dict()
    assert shown["rolls"] is None
    assert shown["suspected_rolls"]["found"][0]["atrs"] == 12.5


def test_summary_with_a_schedule_lists_the_rolls_and_skips_the_detector():
    schedule = RollSchedule(
        (
            Roll(date(2024, 3, 6), "i2405", "i2409", 800.0, 825.0),
            Roll(date(2024, 4, 1), "i2409", "i2501", 800.0, 825.0),  # after the data
        )
    )
    summary = summarize(loaded(flat_days("2024-03-06 09:00")), rolls=schedule, roll_source="f")
    assert summary.suspected_rolls == [] and summary.as_dict()["suspected_rolls"] is None
    assert summary.roll_times == [pd.Timestamp("2024-03-06 09:00", tz=TZ), None]
    assert summary.as_dict()["rolls"]["rolls"][1]["bar"] is None
    assert any("1 of 2 rolls are not inside the data" in w for w in summary.warnings)


def test_summary_warns_where_a_contract_column_disagrees_with_the_schedule():
    frame = flat_days("2024-03-06 09:00")
    frame["contract"] = np.where(frame["trading_day"] >= pd.Timestamp("2024-03-07"), "b", "a")
    schedule = RollSchedule((Roll(date(2024, 3, 6), "a", "b", 800.0, 825.0),))
    summary = summarize(loaded(frame), rolls=schedule, roll_source="f")
    (warning,) = [w for w in summary.warnings if "night" not in w]  # flat_days has no nights
    assert "disagrees with the roll schedule on 15 bars" in warning
    assert "2024-03-06 09:00 is a in the column, b by the schedule" in warning
    from_column = summarize(loaded(frame))
    assert from_column.roll_source == "contract column"
    assert not any("disagrees" in w for w in from_column.warnings)
    # A schedule without rolls names no contract: nothing to disagree with (it said the
    # column's "a" disagreed with "" by the schedule).
    empty = summarize(loaded(frame), rolls=RollSchedule(()), roll_source="f")
    assert not any("disagrees" in w for w in empty.warnings)
    assert [r.trading_day for r in from_column.rolls] == [date(2024, 3, 7)]
