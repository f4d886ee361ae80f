"""The signal as a state (RULES.md 3.2): every transition, in the one-bar rule
(``next_signal``) and the vectorised series (``signal_series``), which must agree bar for
bar; and the numbering of signal episodes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.tier1.state import episodes, next_signal, signal_series


def stepped(tl, ts, trl, trs) -> list[int]:
    """next_signal applied bar after bar from a flat start."""
    signal, out = 0, []
    for bar in zip(tl, ts, trl, trs, strict=True):
        signal = next_signal(signal, *map(bool, bar))
        out.append(signal)
    return out


def both_forms(tl="", ts="", trl="", trs="", n=None) -> list[int]:
    """The signal of bars given as strings of 0/1 (one character per bar; an empty string
    is all 0), computed both ways; the two must agree."""
    n = n or max(len(tl), len(ts), len(trl), len(trs))
    arrays = [np.array([c == "1" for c in (s or "0" * n)], dtype=bool) for s in (tl, ts, trl, trs)]
    vectorised = signal_series(*arrays).tolist()
    assert vectorised == stepped(*arrays)
    return vectorised


def test_flat_becomes_long_on_a_long_trigger_and_short_on_a_short_trigger():
    assert both_forms(tl="0010", n=4) == [0, 0, 1, 0]
    assert both_forms(ts="0010", n=4) == [0, 0, -1, 0]


def test_signal_persists_while_the_trend_check_of_its_side_holds():
    assert both_forms(tl="010000", trl="011110") == [0, 1, 1, 1, 1, 0]
    assert both_forms(ts="010000", trs="011110") == [0, -1, -1, -1, -1, 0]


def test_the_other_sides_trend_does_not_hold_a_signal():
    assert both_forms(tl="0100", trs="1111") == [0, 1, 0, 0]


def test_trend_failure_returns_to_flat_and_no_reentry_without_a_new_trigger():
    # long trend breaks on bar 3, comes back on bar 4: the signal stays 0 until the next
    # trigger (bar 6)
    assert both_forms(tl="01000010", trl="01101111") == [0, 1, 1, 0, 0, 0, 1, 1]


def test_trigger_bar_sets_the_signal_whatever_its_own_trend_check_says():
    # (possible when trend is not a required check) only the later bars' trend matters
    assert both_forms(tl="100", trl="000") == [1, 0, 0]
    assert both_forms(tl="100", trl="011") == [1, 1, 1]


def test_long_switches_straight_to_short_on_a_short_trigger():
    assert both_forms(tl="1000", ts="0010", trl="1111", trs="0011") == [1, 1, -1, -1]
    assert both_forms(ts="1000", tl="0100", trs="1111", trl="0100") == [-1, 1, 0, 0]


def test_repeated_triggers_keep_the_signal():
    assert both_forms(tl="1111", trl="0000") == [1, 1, 1, 1]


def test_simultaneous_triggers_cancel_and_the_previous_state_rules():
    # from flat: nothing fires
    assert both_forms(tl="010", ts="010") == [0, 0, 0]
    # while long with its trend holding: stays long (the short trigger is cancelled)
    assert both_forms(tl="110", ts="010", trl="111") == [1, 1, 1]
    # while long without its trend: flat
    assert both_forms(tl="110", ts="010", trl="100") == [1, 0, 0]
    # while short, its trend holding: stays short
    assert both_forms(ts="11", tl="01", trs="11") == [-1, -1]


def test_empty_series_gives_an_empty_signal():
    assert signal_series(*(np.zeros(0, dtype=bool),) * 4).tolist() == []


def test_signal_series_is_int8():
    assert signal_series(*(np.ones(3, dtype=bool),) * 4).dtype == np.int8


# -- the key invariant: vectorised == one bar at a time -----------------------------------


def bar_flags(p_trigger: float):
    return st.lists(
        st.tuples(
            st.floats(0, 1).map(lambda u: u < p_trigger),
            st.floats(0, 1).map(lambda u: u < p_trigger),
            st.booleans(),
            st.booleans(),
        ),
        max_size=120,
    )


@settings(max_examples=200, deadline=None)
@given(bars=st.one_of(bar_flags(0.5), bar_flags(0.1)))
def test_signal_series_equals_next_signal_bar_after_bar(bars):
    arrays = [np.array([b[i] for b in bars], dtype=bool) for i in range(4)]
    assert signal_series(*arrays).tolist() == stepped(*arrays)


@settings(max_examples=200, deadline=None)
@given(
    runs=st.lists(
        st.tuples(st.sampled_from([1, 0, -1]), st.integers(1, 5)),
        max_size=30,
    )
)
def test_signal_series_equals_next_signal_on_long_trend_runs(runs):
    """Trends held for several bars (as in real data) with sparse triggers."""
    rng = np.random.default_rng(len(runs))
    trend = np.concatenate([[side] * length for side, length in runs] or [np.zeros(0)])
    n = len(trend)
    tl = (rng.random(n) < 0.15) & (trend == 1)
    ts = (rng.random(n) < 0.15) & (trend == -1)
    arrays = [tl, ts, trend == 1, trend == -1]
    assert signal_series(*arrays).tolist() == stepped(*arrays)


# -- episodes -----------------------------------------------------------------------------


def test_episodes_number_each_run_of_equal_nonzero_signal_from_one():
    signal = np.array([0, 1, 1, 0, 1, -1, -1, 0, 0, -1, 1])
    assert episodes(signal).tolist() == [0, 1, 1, 0, 2, 3, 3, 0, 0, 4, 5]


def test_episodes_of_an_empty_or_all_flat_signal():
    assert episodes(np.zeros(0, dtype=np.int8)).tolist() == []
    assert episodes(np.zeros(4, dtype=np.int8)).tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("first", [1, -1])
def test_a_signal_starting_on_the_first_bar_is_episode_one(first):
    assert episodes(np.array([first, first, 0], dtype=np.int8)).tolist() == [1, 1, 0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), max_size=80))
def test_episodes_change_exactly_where_a_nonzero_run_starts(values):
    signal = np.array(values, dtype=np.int8)
    ep = episodes(signal)
    previous_signal, previous_number, count = 0, 0, 0
    for s, e in zip(signal.tolist(), ep.tolist(), strict=True):
        if s == 0:
            assert e == 0
        elif s != previous_signal:
            count += 1
            assert e == count
        else:
            assert e == previous_number
        previous_signal, previous_number = s, e
