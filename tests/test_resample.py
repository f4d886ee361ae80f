"""Resampling to 15-minute bars on session edges: a bar never spans a session break."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twotier.errors import DataError
from twotier.market.bars import bars_from_frame
from twotier.market.instruments import get_instrument
from twotier.market.resample import resample

TZ = "Asia/Shanghai"


def shanghai(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def one_trading_day(key: str, minutes: int) -> pd.DataFrame:
    """Every bar of trading day Tuesday 2024-03-05 (night of Monday 03-04 included),
    validated, with distinct made-up prices."""
    spec = get_instrument(key)
    starts = []
    for segment in spec.sessions.segments:
        base = pd.Timestamp("2024-03-04" if segment.night else "2024-03-05")
        starts.append(
            pd.date_range(
                base + pd.Timedelta(minutes=segment.start),
                base + pd.Timedelta(minutes=segment.end),
                freq=f"{minutes}min",
                inclusive="left",
            )
        )
    times = pd.DatetimeIndex(np.sort(np.concatenate([s.values for s in starts])))
    close = 1000.0 + np.arange(len(times))
    frame = pd.DataFrame(
        {"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close},
        index=times.tz_localize(TZ),
    )
    frame["volume"] = np.arange(1, len(times) + 1, dtype=float)
    return bars_from_frame(frame, key, bar_minutes=minutes).frame


def bar_ends(frame: pd.DataFrame) -> list[str]:
    return sorted({f"{t + pd.Timedelta(minutes=15):%H:%M}" for t in frame.index})


IRON_ENDS = [
    *("09:15", "09:30", "09:45", "10:00", "10:15", "10:45", "11:00", "11:15", "11:30"),
    *("13:45", "14:00", "14:15", "14:30", "14:45", "15:00"),
    *("21:15", "21:30", "21:45", "22:00", "22:15", "22:30", "22:45", "23:00"),
]
COPPER_NIGHT_ENDS = ["23:15", "23:30", "23:45", "00:00", "00:15", "00:30", "00:45", "01:00"]


@pytest.mark.parametrize("minutes", [1, 5])
def test_iron_ore_bars_end_on_the_session_edges_and_never_span_a_break(minutes):
    bars = resample(one_trading_day("DCE/i", minutes), get_instrument("DCE/i"), minutes)
    assert bar_ends(bars) == sorted(IRON_ENDS)
    assert len(bars) == 23
    assert "10:30" not in bar_ends(bars) and "13:30" not in bar_ends(bars)


@pytest.mark.parametrize("minutes", [1, 5])
def test_copper_night_bars_end_at_0100(minutes):
    bars = resample(one_trading_day("SHFE/cu", minutes), get_instrument("SHFE/cu"), minutes)
    assert bar_ends(bars) == sorted([*IRON_ENDS, *COPPER_NIGHT_ENDS])
    assert len(bars) == 31
    assert bars.index.max() == shanghai("2024-03-05 14:45")
    night = bars[bars.index < shanghai("2024-03-05 06:00")]
    assert night.index[-1] == shanghai("2024-03-05 00:45")  # the last night bar ends 01:00
    assert (bars["trading_day"] == pd.Timestamp("2024-03-05")).all()


def test_resampled_bar_aggregates_open_high_low_close_volume_and_open_interest():
    frame = pd.DataFrame(
        {
            "open": [10.0, 11.0, 12.0, 20.0, 21.0],
            "high": [11.5, 13.0, 12.5, 22.0, 23.0],
            "low": [9.5, 10.5, 9.0, 19.0, 20.5],
            "close": [11.0, 12.0, 10.0, 21.0, 22.5],
            "volume": [100.0, 50.0, 25.0, 7.0, 3.0],
            "open_interest": [1000.0, 1010.0, 990.0, 995.0, 999.0],
        },
        index=pd.DatetimeIndex(
            [
                *("2024-03-05 10:00", "2024-03-05 10:05", "2024-03-05 10:10"),
                *("2024-03-05 10:30", "2024-03-05 10:40"),  # 10:35 missing
            ]
        ).tz_localize(TZ),
    )
    iron = get_instrument("DCE/i").model_copy(update={"plausible_move": None})  # toy prices
    bars = resample(bars_from_frame(frame, iron).frame, iron, 5)
    expected = pd.DataFrame(
        {
            "open": [10.0, 20.0],
            "high": [13.0, 23.0],
            "low": [9.0, 19.0],
            "close": [10.0, 22.5],
            "volume": [175.0, 10.0],
            "open_interest": [990.0, 999.0],
        },
        index=pd.DatetimeIndex(["2024-03-05 10:00", "2024-03-05 10:30"], name="time").tz_localize(
            TZ
        ),
    )
    pd.testing.assert_frame_equal(bars.drop(columns="trading_day"), expected, check_freq=False)
    assert (bars["trading_day"] == pd.Timestamp("2024-03-05")).all()


def test_copper_bars_before_and_after_midnight_fall_in_separate_buckets():
    frame = one_trading_day("SHFE/cu", 1)
    inside = (frame.index >= shanghai("2024-03-04 23:45")) & (
        frame.index < shanghai("2024-03-05 00:15")
    )
    around = frame[inside]
    bars = resample(around, get_instrument("SHFE/cu"), 1)
    assert bars.index.tolist() == [shanghai("2024-03-04 23:45"), shanghai("2024-03-05 00:00")]
    volume = around["volume"].to_numpy()
    assert bars["volume"].tolist() == [volume[:15].sum(), volume[15:].sum()]
    assert bars["open"].iloc[1] == around["open"].iloc[15]  # 00:00's own open
    assert bars["close"].iloc[0] == around["close"].iloc[14]  # 23:59's close
    assert (bars["trading_day"] == pd.Timestamp("2024-03-05")).all()


@pytest.mark.parametrize(("bar_minutes", "to_minutes"), [(4, 15), (15, 5), (5, 0), (5, 90)])
def test_impossible_resampling_is_a_data_error(bar_minutes, to_minutes):
    frame = one_trading_day("DCE/i", 5)
    with pytest.raises(DataError, match=f"cannot resample {bar_minutes}-minute bars"):
        resample(frame, get_instrument("DCE/i"), bar_minutes, to_minutes, "bars.csv")


def test_resampling_to_the_same_length_returns_an_equal_copy():
    frame = one_trading_day("DCE/i", 5)
    bars = resample(frame, get_instrument("DCE/i"), 15, 15)
    assert bars is not frame
    pd.testing.assert_frame_equal(bars, frame)


def test_bar_outside_the_sessions_is_refused_by_resample():
    frame = one_trading_day("DCE/i", 5)
    stray = frame.iloc[:1].copy()
    stray.index = pd.DatetimeIndex([shanghai("2024-03-05 12:00")])
    with pytest.raises(DataError, match="outside the sessions of DCE/i"):
        resample(pd.concat([frame, stray]).sort_index(), get_instrument("DCE/i"), 5)


def test_bar_straddling_a_bucket_boundary_is_refused():
    frame = one_trading_day("DCE/i", 5).iloc[:2].copy()
    frame.index = pd.DatetimeIndex([shanghai("2024-03-05 09:00"), shanghai("2024-03-05 09:12")])
    with pytest.raises(DataError, match=r"bar at 2024-03-05 09:12:00\S* straddles a 15-minute"):
        resample(frame, get_instrument("DCE/i"), 5)


def floor_groupby(frame: pd.DataFrame) -> pd.DataFrame:
    """An independent resampler: every session of the three instruments starts on a
    quarter hour, so a 15-minute bucket is the bar start floored to 15 minutes."""
    keys = frame.index.floor("15min")
    grouped = frame.groupby(keys)
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    if "open_interest" in frame.columns:
        out["open_interest"] = grouped["open_interest"].last()
    out["trading_day"] = grouped["trading_day"].first()
    out.index.name = "time"
    return out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DCE.i.HOT.m5.csv", 5_232),
        ("DCE.m.HOT.m5.csv", 2_314),
        ("SHFE.cu2202.m1.csv", 774),
        ("SHFE.cu.HOT.m1.csv.gz", 8_279),
    ],
)
def test_real_files_resample_to_15_minutes_on_session_edges(real_bars, name, expected):
    loaded = real_bars(name)
    bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    assert len(bars) == expected
    allowed = set(IRON_ENDS) | (set(COPPER_NIGHT_ENDS) if "cu" in name else set())
    assert set(bar_ends(bars)) <= allowed
    pd.testing.assert_frame_equal(bars, floor_groupby(loaded.frame), check_freq=False)
    assert bars["volume"].sum() == loaded.frame["volume"].sum()


def test_real_iron_ore_five_minute_bars_make_whole_fifteen_minute_bars(real_bars):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    bars = resample(loaded.frame, loaded.instrument, 5)
    assert len(bars) * 3 == len(loaded.frame) == 15_696


def test_resample_refuses_bars_not_as_the_loader_gives_them():
    bars = one_trading_day("DCE/i", 5)
    with pytest.raises(DataError, match="a time index and a trading_day column"):
        resample(bars.drop(columns="trading_day"), get_instrument("DCE/i"), 5, 15)
    with pytest.raises(DataError, match="not in time order"):
        resample(bars.iloc[::-1], get_instrument("DCE/i"), 5, 15)


def test_a_file_of_longer_bars_than_a_backtest_trades_is_one_error(tmp_path, capsys):
    # `data resample --to 30min` writes such files; a backtest refused each bar at a
    # session break as outside the sessions (252 of them on the real iron ore), never
    # saying that 30-minute bars are not taken.
    from helpers.cli import invoke, one_line_error

    frame = one_trading_day("DCE/i", 5)
    thirty = resample(frame, get_instrument("DCE/i"), 5, 30, "test")
    path = tmp_path / "i30.csv"
    thirty.to_csv(path, index_label="time")
    code, _, err = invoke(["backtest", "--bars", f"DCE/i={path}", "--out", tmp_path / "r"], capsys)
    assert code == 1
    assert one_line_error(err) == (
        f"error: {path}: its bars are 30 minutes apart (the most common step between them); "
        "twotier trades 15-minute bars, made of bars of 1, 3, 5 or 15 minutes"
    )
    code, out, err = invoke(["data", "check", str(path), "-i", "DCE/i"], capsys)  # as before
    assert "its bars are 30 minutes apart" not in out + err
