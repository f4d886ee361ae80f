"""Drawdown episodes: depth, peak, trough and recovery days, length in trading days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twotier.analysis.drawdowns import drawdowns, longest_drawdown_days, max_drawdown_details

DAYS = pd.to_datetime(
    [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
        "2024-01-10",
        "2024-01-11",
    ]
)


def steps(values_per_day: list[list[float]]):
    values, days = [], []
    for day, values_of_day in zip(DAYS, values_per_day, strict=False):
        values += values_of_day
        days += [day] * len(values_of_day)
    return pd.Series(values), pd.Series(days)


def test_two_episodes_deepest_first_with_their_days():
    # peak 100 on day 0, trough 80 on day 1 (intraday), back to 100 on day 3;
    # peak 110 on day 4, trough 99 on day 5, back to 111 on day 7.
    values, days = steps([[100], [90, 80, 95], [97], [100], [110], [99], [105], [111]])
    deep, shallow = drawdowns(values, days)
    assert deep.as_dict() == {
        "depth": pytest.approx(0.2),
        "start": "2024-01-02",
        "trough": "2024-01-03",
        "recovery": "2024-01-05",
        "days": 3,
    }
    assert shallow.as_dict() == {
        "depth": pytest.approx(0.1),
        "start": "2024-01-08",
        "trough": "2024-01-09",
        "recovery": "2024-01-11",
        "days": 3,
    }


def test_a_drawdown_not_recovered_runs_to_the_last_day():
    values, days = steps([[100], [120], [100], [90], [110]])
    (only,) = drawdowns(values, days)
    assert only.recovery is None
    assert (only.start.day, only.trough.day, only.days) == (3, 5, 3)
    assert max_drawdown_details(values, days)["recovery"] is None


def test_a_series_that_never_falls_has_no_drawdown():
    values, days = steps([[100], [100], [101]])
    assert drawdowns(values, days) == []
    assert max_drawdown_details(values, days) == {
        "depth": 0.0,
        "start": None,
        "trough": None,
        "recovery": None,
        "days": 0,
    }


def test_longest_drawdown_can_be_another_than_the_deepest():
    values, days = steps([[100], [70], [100], [99], [98], [97], [98], [101]])
    assert drawdowns(values, days)[0].days == 2
    assert longest_drawdown_days(values, days) == 5


def test_deepest_episode_matches_a_brute_force_search():
    rng = np.random.default_rng(3)
    values = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.02, 400)))
    days = pd.Series(pd.bdate_range("2024-01-01", periods=400))
    v = values.to_numpy()
    best, pair = 0.0, None
    for i in range(len(v)):  # every (peak, later low) pair
        j = i + int(np.argmin(v[i:]))
        if 1 - v[j] / v[i] > best:
            best, pair = 1 - v[j] / v[i], (i, j)
    deepest = drawdowns(values, days)[0]
    assert deepest.depth == pytest.approx(best)
    assert deepest.trough == days[pair[1]]
    assert v[days.tolist().index(deepest.start)] == pytest.approx(v[: pair[1] + 1].max())


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # the 0 peak's depth
@pytest.mark.parametrize(
    "values",
    [
        [100.0, 90.0, 95.0, 110.0, 99.0, 120.0],
        [100.0, np.nan, 90.0, 80.0, 95.0],  # NaN: pandas' cummax skips it
        [np.nan, 100.0, 50.0],
        [0.0, 0.0, -1.0],  # 0 / 0 and a negative peak
        [5.0],
    ],
)
def test_the_episodes_max_drawdown_is_the_metrics_one(values):
    from twotier.analysis.drawdowns import episodes
    from twotier.analysis.metrics import drawdown_series

    series = pd.Series(values)
    days = pd.Series(DAYS[: len(values)])
    got = episodes(series, days).max_drawdown
    want = float(drawdown_series(series).max())  # as max_drawdown computed it on pandas
    assert got == want or (np.isnan(got) and np.isnan(want))
