"""Walk-forward windows in trading days: rolling and anchored, never overlapping a test
period with its training period."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from twotier.errors import ConfigError
from twotier.optimize.windows import trading_days, untested_days, walk_forward, whole_period

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(100)]


def test_rolling_windows_move_on_by_the_test_length_and_keep_the_training_length():
    windows = walk_forward(DAYS, "rolling", train=40, test=20)
    assert [(DAYS.index(w.train.start), DAYS.index(w.train.end)) for w in windows] == [
        (0, 39),
        (20, 59),
        (40, 79),
    ]
    assert [(DAYS.index(w.test.start), DAYS.index(w.test.end)) for w in windows] == [
        (40, 59),
        (60, 79),
        (80, 99),
    ]


def test_anchored_windows_keep_the_first_day_and_grow():
    windows = walk_forward(DAYS, "anchored", train=40, test=25)
    assert [w.train.start for w in windows] == [DAYS[0], DAYS[0]]
    assert [DAYS.index(w.train.end) for w in windows] == [39, 64]
    assert [DAYS.index(w.test.end) for w in windows] == [64, 89]
    assert untested_days(DAYS, windows) == 10


@pytest.mark.parametrize("mode", ["rolling", "anchored"])
def test_every_training_period_ends_before_its_test_period_starts(mode):
    for w in walk_forward(DAYS, mode, train=15, test=7):
        assert w.train.start <= w.train.end < w.test.start <= w.test.end
        assert DAYS.index(w.test.start) == DAYS.index(w.train.end) + 1


def test_test_windows_follow_each_other_without_gap_or_overlap():
    windows = walk_forward(DAYS, "rolling", train=10, test=9)
    for before, after in itertools.pairwise(windows):
        assert DAYS.index(after.test.start) == DAYS.index(before.test.end) + 1


@pytest.mark.parametrize(
    ("mode", "train", "test", "words"),
    [
        ("rolling", 90, 20, "needs at least 110 trading days"),
        ("rolling", 0, 20, "at least 1 trading day"),
        ("sliding", 10, 10, "rolling or anchored"),
    ],
)
def test_windows_that_cannot_be_made_are_refused(mode, train, test, words):
    with pytest.raises(ConfigError, match=words):
        walk_forward(DAYS, mode, train, test)


def test_trading_days_are_those_of_any_instrument_within_start_and_end():
    bars = {
        "a": pd.DataFrame({"trading_day": pd.to_datetime(["2024-01-02", "2024-01-03"])}),
        "b": pd.DataFrame({"trading_day": pd.to_datetime(["2024-01-03", "2024-01-04"])}),
    }
    assert trading_days(bars) == [dt.date(2024, 1, d) for d in (2, 3, 4)]
    assert trading_days(bars, start="2024-01-03") == [dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    assert whole_period(trading_days(bars, end="2024-01-03"))[0].train.end == dt.date(2024, 1, 3)
    with pytest.raises(ConfigError, match="no trading day"):
        trading_days(bars, start="2025-01-01")


def test_a_start_after_the_bars_names_the_bars_days_not_none():
    bars = {"DCE/i": pd.DataFrame({"trading_day": pd.to_datetime(["2024-01-02", "2024-01-03"])})}
    with pytest.raises(ConfigError) as info:
        trading_days(bars, start="2024-06-29")
    assert str(info.value) == (
        "no trading day of the bars lies between 2024-06-29 and their end "
        "(the bars' trading days: 2024-01-02 to 2024-01-03)"
    )
