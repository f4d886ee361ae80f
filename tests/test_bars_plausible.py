"""What the loader no longer accepts silently (issue 12): times off the file's own grid,
prices that jump further than the instrument's plausible move, absurd volumes, prices of
another instrument, two columns for one value; and the hints a refusal gives."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from twotier.cli.main import app
from twotier.errors import BadBarsError, DataError
from twotier.market.bars import bars_from_frame, read_bars
from twotier.market.resample import resample
from twotier.market.validation import PAPER_HINTS, Hints

HEADER = "datetime,open,high,low,close,volume"
# Four good 5-minute iron ore bars on Tuesday 2024-03-05, lines 2-5, stamped by start.
GOOD = [
    "2024-03-05 09:00:00,800,801,799,800.5,10",
    "2024-03-05 09:05:00,800.5,802,800,801,12",
    "2024-03-05 09:10:00,801,803,800.5,802,9",
    "2024-03-05 09:15:00,802,803,801,802,9",
]


def refused(path, **options) -> BadBarsError:
    options.setdefault("bar_minutes", 5)
    with pytest.raises(BadBarsError) as info:
        read_bars(path, options.pop("instrument", "DCE/i"), **options)
    return info.value


# Times off the file's own grid.


def test_a_time_with_seconds_is_off_the_grid(write_csv):
    path = write_csv([HEADER, *GOOD[:2], "2024-03-05 09:05:30,801,803,800.5,802,9", GOOD[3]])
    error = refused(path)
    assert [(p.line, p.problem) for p in error.problems] == [
        (
            4,
            "time 2024-03-05 09:05:30 is off the file's 5-minute grid (whole minutes, 5 apart "
            "from each session's start)",
        )
    ]


def test_dropped_off_grid_bar_makes_no_extra_fifteen_minute_bar(write_csv):
    # Before: an extra 15-minute bar at 09:00:30 and nothing reported.
    path = write_csv([HEADER, *GOOD[:2], "2024-03-05 09:05:30,801,803,800.5,802,9", GOOD[3]])
    loaded = read_bars(path, "DCE/i", bar_minutes=5, on_bad_bar="drop")
    assert [p.line for p in loaded.dropped] == [4]
    bars = resample(loaded.frame, loaded.instrument, 5)
    assert bars.index.strftime("%H:%M:%S").tolist() == ["09:00:00", "09:15:00"]


def test_data_check_reports_the_off_grid_bar(write_csv):
    path = write_csv([HEADER, *GOOD[:2], "2024-03-05 09:05:30,801,803,800.5,802,9", GOOD[3]])
    result = CliRunner().invoke(
        app, ["data", "check", str(path), "-i", "DCE/i", "--on-bad-bar", "drop", "--json"]
    )
    assert result.exit_code == 0, result.output
    dropped = json.loads(result.stdout)["dropped"]
    assert dropped[0]["line"] == 4 and "off the file's 5-minute grid" in dropped[0]["problem"]


def test_a_minute_off_the_grid_anchored_at_each_session_start_is_refused(write_csv):
    path = write_csv([HEADER, *GOOD, "2024-03-05 09:22:00,802,803,801,802,9"])
    assert refused(path).problems[0].problem.startswith("time 2024-03-05 09:22:00 is off")
    # 10:30 starts a segment: on the grid of 5-minute bars.
    read_bars(write_csv([HEADER, *GOOD, "2024-03-05 10:30:00,802,803,801,802,9"]), "DCE/i")


# Implausible prices and volumes.


def test_a_thousandfold_bar_is_bad_and_its_neighbours_are_not(write_csv):
    spike = "2024-03-05 09:10:00,801,803000,800.5,802000,9"
    error = refused(write_csv([HEADER, *GOOD[:2], spike, GOOD[3]]))
    assert [p.line for p in error.problems] == [4]
    assert error.problems[0].problem == (
        "price 803000 is 100150% from the close 801 (line 3): more than the plausible move "
        "of DCE/i (33%, plausible_move)"
    )


def test_a_file_that_jumps_to_another_price_level_refuses_every_bar_after_the_jump(write_csv):
    copper = [f"2024-03-05 09:{m:02d}:00,70000,70010,69990,70000,5" for m in (20, 25, 30)]
    error = refused(write_csv([HEADER, *GOOD, *copper]))
    assert [p.line for p in error.problems] == [6, 7, 8]


def test_a_spike_on_the_first_bar_is_the_one_refused(write_csv):
    first = "2024-03-05 09:00:00,8000,8010,7990,8000,10"
    error = refused(write_csv([HEADER, first, *GOOD[1:]]))
    assert [p.line for p in error.problems] == [2]
    assert "the next bars' closes" in error.problems[0].problem


def test_a_real_move_within_the_bound_is_accepted(write_csv):
    # A 10% gap (a roll of a spliced series, a limit move) stays below 3x the limit.
    gap = "2024-03-05 09:20:00,880,885,879,884,9"
    assert len(read_bars(write_csv([HEADER, *GOOD, gap]), "DCE/i").frame) == 5


def test_an_absurd_volume_or_open_interest_is_a_bad_bar(write_csv):
    rows = [f"{r},1000" for r in GOOD[:3]]
    rows += ["2024-03-05 09:15:00,802,803,801,802,1e300,1000"]
    rows += ["2024-03-05 09:20:00,802,803,801,802,5,1e12"]
    error = refused(write_csv([f"{HEADER},open_interest", *rows]))
    assert [(p.line, p.problem) for p in error.problems] == [
        (5, "volume 1e+300 above the plausible 1e+09 lots of a bar of DCE/i (max_bar_volume)"),
        (
            6,
            "open interest 1e+12 above the plausible 1e+09 lots of a bar of DCE/i (max_bar_volume)",
        ),
    ]


def test_copper_prices_given_as_iron_ore_are_warned_about(write_csv):
    rows = [f"2024-03-05 09:{m:02d}:00,70000,70010,69990,70000,5" for m in range(0, 20, 5)]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i")
    assert len(loaded.warnings) == 1
    assert (
        "median close 70000 is far outside the plausible prices of DCE/i (150 to 2000"
        in (loaded.warnings[0])
    )
    assert read_bars(write_csv([HEADER, *rows]), "SHFE/cu").warnings == []


def test_a_backtest_warns_about_prices_of_another_instrument():
    from twotier.config import load_config
    from twotier.engine.backtest import run_backtest
    from twotier.market.sample import load_sample

    iron = load_sample("DCE/i").iloc[:300]
    as_copper = iron.assign(**{k: iron[k] * 90 for k in ("open", "high", "low", "close")})
    one = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
    result = run_backtest({"DCE/i": as_copper}, load_config(overrides=[one]))
    assert any("DCE/i: the median close" in w for w in result.warnings)


def test_prices_off_the_tick_are_warned_about_naming_the_first_line(write_csv):
    rows = [*GOOD[:2], "2024-03-05 09:10:00,801,803,800.3,802,9", GOOD[3]]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i", bar_minutes=5)
    assert loaded.warnings == [
        f"{loaded.source}: 1 bar(s) with prices off the tick of 0.5 of DCE/i (first: line 4: "
        "low 800.3): is the instrument's tick right?"
    ]
    assert read_bars(write_csv([HEADER, *GOOD]), "DCE/i", bar_minutes=5).warnings == []


def test_a_backtest_warns_about_prices_off_the_tick():
    from twotier.config import load_config
    from twotier.engine.backtest import run_backtest
    from twotier.market.sample import load_sample

    iron = load_sample("DCE/i").iloc[:300]
    config = load_config(
        overrides=['portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]']
    )
    on_tick = run_backtest({"DCE/i": iron}, config)
    assert not any("off the tick" in w for w in on_tick.warnings)
    shifted = iron.assign(close=iron["close"] + 0.25)
    result = run_backtest({"DCE/i": shifted}, config)
    assert any(w.startswith("DCE/i: 300 bar(s) with prices off the tick") for w in result.warnings)


@pytest.mark.parametrize("price", [3910.0001, 123456.5, 100.6775])
def test_the_off_tick_price_is_shown_as_it_is(price):
    """Not rounded to six digits (:g showed 3910.0001 as 3910, on the tick)."""
    from twotier.market.instruments import default_registry
    from twotier.market.plausible import off_tick_warning

    frame = pd.DataFrame({"open": [price], "high": [price], "low": [price], "close": [price]})
    (warning,) = off_tick_warning(frame, default_registry()["DCE/m"], "f")
    assert f"open {price:.4f}".rstrip("0") in warning


@given(
    tick=st.sampled_from([0.001, 0.005, 0.02, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]),
    steps=st.lists(st.integers(1, 5_000_000), min_size=4, max_size=4),
)
def test_prices_on_the_tick_are_never_warned_about_whatever_the_tick(tick, steps):
    """Prices made as whole numbers of ticks in floating point (0.2 * 18001 is
    3600.2000000000003) are on the tick."""
    from twotier.market.instruments import default_registry
    from twotier.market.plausible import off_tick_warning

    shipped = default_registry()["DCE/i"]
    spec = type(shipped).model_validate({**shipped.model_dump(exclude_none=True), "tick": tick})
    prices = [k * tick for k in steps]
    frame = pd.DataFrame([prices], columns=["open", "high", "low", "close"])
    assert off_tick_warning(frame, spec, "f") == []
    nudged = frame.assign(low=frame["low"] + tick / 2)
    assert off_tick_warning(nudged, spec, "f") != []


# Two columns for one value.


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ("datetime,open,high,low,close,close,volume", "'close' (column 5) and 'close' (column 6)"),
        ("datetime,open,high,low,close,last,volume", "'close' (column 5) and 'last' (column 6)"),
        ("datetime,open,high,low,Close,close,volume", "'Close' (column 5) and 'close' (column 6)"),
        ("datetime,open,high,low,close,vol,volume", "'vol' (column 6) and 'volume' (column 7)"),
    ],
)
def test_two_columns_for_one_value_are_refused_naming_both(write_csv, header, shown):
    path = write_csv([header, "2024-03-05 09:00:00,800,801,799,800,800,10"])
    with pytest.raises(DataError, match="can each be") as info:
        read_bars(path, "DCE/i")
    assert shown in str(info.value)
    assert str(info.value).startswith(f"{path}, line 1: columns ")


def test_an_explicit_mapping_settles_two_candidate_columns(write_csv):
    path = write_csv(
        ["datetime,open,high,low,close,last,volume", "2024-03-05 09:00:00,800,801,799,800,800.5,10"]
    )
    loaded = read_bars(path, "DCE/i", columns={"close": "last"})
    assert loaded.frame["close"].iloc[0] == 800.5


# Hints.


def test_bars_stamped_by_their_end_read_as_starts_hint_label_end(write_csv):
    # A 15-minute file stamped by bar end: every session's last bar (10:15, 11:30, 15:00)
    # is outside the sessions when read as starts.
    ends = ["09:15", "09:30", "09:45", "10:00", "10:15", "10:45", "11:00", "11:15", "11:30"]
    ends += ["13:45", "14:00", "14:15", "14:30", "14:45", "15:00"]
    rows = [f"2024-03-05 {t}:00,800,801,799,800,10" for t in ends]
    error = refused(write_csv([HEADER, *rows]), bar_minutes=15)
    assert [p.line for p in error.problems] == [6, 10, 16]
    assert "the file seems to stamp bars by their end; give --label end" in str(error)
    assert "drop" not in error.hint


def test_bars_stamped_by_their_start_read_as_ends_hint_label_start(write_csv):
    starts = ["09:00", "09:15", "09:30", "09:45", "10:00", "10:30", "10:45", "13:30", "13:45"]
    rows = [f"2024-03-05 {t}:00,800,801,799,800,10" for t in starts]
    error = refused(write_csv([HEADER, *rows]), bar_minutes=15, label="end")
    assert "the file seems to stamp bars by their start; give --label start" in error.hint


def test_envelope_errors_alone_hint_repair(write_csv):
    error = refused(write_csv([HEADER, *GOOD[:3], "2024-03-05 09:15:00,802,801.5,801,802,9"]))
    assert error.hint.startswith("use --on-bad-bar repair (on_bad_bar='repair') to widen")


def test_other_problems_hint_drop(write_csv):
    error = refused(write_csv([HEADER, *GOOD[:3], "2024-03-05 09:15:00,x,803,801,802,9"]))
    assert error.hint == (
        "use --on-bad-bar drop (on_bad_bar='drop') to drop such bars and report them"
    )


def test_bars_past_the_calendar_hint_a_calendar_file(write_csv):
    rows = [f"2027-01-04 09:{m:02d}:00,800,801,799,800.5,10" for m in range(0, 20, 5)]
    error = refused(write_csv([HEADER, *rows]))
    assert "is outside the trading calendar" in str(error)
    assert "give a calendar file with the year's trading days and holidays" in str(error)
    assert "data.calendar_file, or --calendar for twotier data" in str(error)


def test_paper_hints_name_only_options_paper_has():
    frame = pd.DataFrame(
        {"open": [800.0], "high": [799.0], "low": [799.0], "close": [800.0], "volume": [1.0]},
        index=pd.DatetimeIndex(["2024-03-05 09:00"]).tz_localize("Asia/Shanghai"),
    )
    from twotier.market.calendar import default_calendar
    from twotier.market.instruments import get_instrument
    from twotier.market.validation import validate_rows

    table = frame.rename_axis("time").reset_index()
    columns = {k: k for k in ("time", "open", "high", "low", "close", "volume")}
    for hints, absent in ((PAPER_HINTS, "--on-bad-bar"), (Hints(), "data.on_bad_bar")):
        with pytest.raises(BadBarsError) as info:
            validate_rows(
                table, columns, [2], source="feed", unit="line", spec=get_instrument("DCE/i"),
                calendar=default_calendar(), label="start", bar_minutes=15, time_format=None,
                infer_bar_minutes=lambda _: 15, policy="refuse", hints=hints,
            )  # fmt: skip
        assert absent not in str(info.value)
        assert "repair" in info.value.hint


def test_bars_from_a_frame_are_held_to_the_same_bounds():
    index = pd.DatetimeIndex(
        ["2024-03-05 09:00", "2024-03-05 09:15", "2024-03-05 09:30"]
    ).tz_localize("Asia/Shanghai")
    frame = pd.DataFrame(
        {
            "open": 800.0,
            "high": [801.0, 80100.0, 801.0],
            "low": 799.0,
            "close": 800.0,
            "volume": 1.0,
        },
        index=index,
    )
    with pytest.raises(BadBarsError, match="row 2: price 80100"):
        bars_from_frame(frame, "DCE/i", bar_minutes=15)
