"""RULES.md 10.1 and 10.3 decided on exact values (8.28): a settlement on a half tick
rounds up, a participation cap of 0.29 of 100 lots is 29, a blank volume is no value
(10.6 item 4), and a close the cap splits counts once as an exit that waited."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.scenario import (
    IRON,
    MON,
    NEVER_LET_GO,
    NO_BREAKERS,
    TUE,
    basket,
    day_bars,
    lines,
    packages,
    run,
)
from twotier.market.settlement import day_settlements
from twotier.money import price_units, share_of, written_ratio

NEXT_OPEN = ("execution.fill=next_open", *NO_BREAKERS)


def units(*prices: float) -> np.ndarray:
    return np.array([price_units(p) for p in prices], dtype=np.int64)


def iron_settlement(high: tuple, low: tuple, close: tuple, volume: list) -> float:
    """One day's settlement of iron ore bars (tick 0.5), as a price."""
    tick = price_units(0.5)
    settle = day_settlements(
        np.array([0]), units(*high), units(*low), units(*close), np.array(volume), tick
    )
    return settle.tolist()[0] / price_units(1.0)


def test_a_settlement_on_a_half_tick_rounds_up():
    # (751 + 750.5 + 750.5) x 1 + (773 + 770.5 + 770.5) x 7 = 18,450 over 3 x 8 lots:
    # 768.75, half of iron ore's 0.5 tick above 768.5, so 769.0. The floats made it
    # 768.74999999999989 and rounded down.
    settled = iron_settlement((751.0, 773.0), (750.5, 770.5), (750.5, 770.5), [1.0, 7.0])
    assert settled == 769.0


def test_fractional_volumes_weigh_as_the_decimals_written():
    # 768 x 0.1 + 769 x 0.3 over 0.4 is 768.75 exactly: 769.0 (the floats 0.1 and 0.3
    # are a hair off their decimals, and put the mean below the half tick).
    settled = iron_settlement((768.0, 769.0), (768.0, 769.0), (768.0, 769.0), [0.1, 0.3])
    assert settled == 769.0


def test_a_blank_volume_is_no_value_in_the_settlement():
    # The second bar's volume is unknown: the first bar alone weighs, 800.0 (not the
    # day's last close, 810.0, which a day without any volume takes).
    settled = iron_settlement((801.0, 811.0), (799.0, 809.0), (800.0, 810.0), [5.0, np.nan])
    assert settled == 800.0


@st.composite
def days_of_bars(draw):
    tick = draw(st.sampled_from([1, 5, 10, 50]))  # in 1/10 of a price: 0.1 to 5.0
    n = draw(st.integers(1, 12))
    lows = draw(st.lists(st.integers(100, 200_000), min_size=n, max_size=n))
    spans = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    into = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    volume = draw(st.lists(st.integers(0, 5_000), min_size=n, max_size=n))
    low = np.array(lows) * tick
    high = low + np.array(spans) * tick
    close = low + np.minimum(into, spans) * np.array(tick)
    scale = price_units(0.1)
    return tick * scale, high * scale, low * scale, close * scale, np.array(volume, float)


@given(days_of_bars())
def test_the_settlement_is_the_exact_volume_weighted_mean_rounded_half_up(day):
    tick, high, low, close, volume = day
    got = day_settlements(np.array([0]), high, low, close, volume, int(tick))[0]
    if volume.sum() == 0:
        assert got == close[-1]
        return
    rows = zip(high, low, close, volume, strict=True)
    value = sum(Fraction(int(h + lo + c)) * int(v) for h, lo, c, v in rows)
    mean_in_ticks = value / (3 * int(volume.sum()) * int(tick))
    assert got == int(mean_in_ticks + Fraction(1, 2)) * tick  # floor: everything is > 0


@given(st.integers(1, 99), st.integers(0, 100_000))
def test_a_share_of_a_bar_is_rounded_down_from_the_decimal_written(percent, lots):
    share = float(f"0.{percent:02d}")
    assert share_of(float(lots), written_ratio(share)) == percent * lots // 100


def test_a_cap_of_29_percent_of_100_lots_fills_29():
    # 0.29 x 100 in floats is 28.999999999999996: the cap was one contract short.
    t = day_bars(MON)[:3]
    frame = basket(IRON, t, 800.0, signal=1, confidence=1.0, strength=1.0)
    frame["high"], frame["low"], frame["volume"] = 801.0, 799.0, [1000.0, 100.0, 1000.0]
    r = run(packages(frame), *NEXT_OPEN, "market.max_participation=0.29")
    assert r.fills["contracts"].tolist() == [29]


@pytest.mark.parametrize("cap", ["market.max_participation=0.1", "market.max_participation=0"])
def test_a_fill_bar_with_a_blank_volume_is_neither_refused_nor_capped(cap):
    t = day_bars(MON)[:3]
    frame = basket(IRON, t, 800.0, signal=1, confidence=1.0, strength=1.0)
    frame["high"], frame["low"], frame["volume"] = 801.0, 799.0, [1000.0, np.nan, 1000.0]
    r = run(packages(frame), *NEXT_OPEN, cap)
    assert r.fills["contracts"].tolist() == [37]
    assert lines(r, "CANCEL") == []


def test_the_margin_after_a_half_tick_settlement_is_on_the_rounded_up_price():
    # Monday settles at 769.0 (above); Tuesday's margin of the 39 lots held is
    # 39 x 100 x 769.0 x 11% = 329,901.00.
    t = day_bars(MON)[:2] + day_bars(TUE)[:2]
    frame = basket(IRON, t, [750.5, 770.5, 770.5, 770.5], signal=1, confidence=1.0, strength=1.0)
    frame["high"] = [751.0, 773.0, 771.0, 771.0]
    frame["low"] = [750.5, 770.5, 770.0, 770.0]
    frame["volume"] = [1.0, 7.0, 10.0, 10.0]
    r = run(packages(frame), "execution.fill=close", *NEVER_LET_GO[1:], "execution.fees=false")
    assert r.fills["contracts"].tolist() == [39]
    tuesday = r.equity[r.equity["trading_day"] == np.datetime64(TUE)]
    assert tuesday["margin"].tolist() == [329_901.0, 329_901.0]


def test_a_close_split_by_the_cap_counts_once_as_an_exit_that_waited():
    # Cap 10%: the entry fills 15 of 37 on 159 lots; the close decided at T2 finds 9
    # lots at T3 (nothing: it waits), 109 at T4 (10 fill, 5 wait), then the rest.
    t = day_bars(MON)[:7]
    confidence = [1, 1, 0.1, 0.1, 0.1, 0.1, 0.1]
    frame = basket(IRON, t, 800.0, signal=1, confidence=confidence, strength=1.0)
    frame["high"], frame["low"] = 801.0, 799.0
    frame["volume"] = [1000.0, 159.0, 1000.0, 9.0, 109.0, 1000.0, 1000.0]
    r = run(packages(frame), *NEXT_OPEN, "market.max_participation=0.1")
    assert r.fills["contracts"].tolist() == [15, 10, 5]
    assert r.fills["bars_waited"].tolist() == [0, 1, 2]
    assert r.summary["market"]["exits_delayed"] == 1
    assert r.summary["market"]["bars_waited"] == 2


def test_the_counts_stand_without_a_risk_degree_when_forced_liquidation_is_off():
    t = day_bars(MON)[:3]
    frame = basket(IRON, t, 800.0, signal=1, confidence=1.0, strength=1.0)
    frame["high"], frame["low"], frame["volume"] = 801.0, 799.0, [1000.0, 100.0, 1000.0]
    r = run(packages(frame), *NEXT_OPEN, "market.forced_liquidation=false")
    assert "risk_degree" not in r.equity.columns
    assert r.summary["market"]["max_risk_degree"] is None
    assert r.summary["market"]["exits_delayed"] == 0
