"""The five checks and their scores (RULES.md 3.1) on hand-made indicator values whose
answers are known: pass rules, scores and their clipping, divisor-zero cases, the
confidence as a weighted mean and the strength as sqrt(volume x momentum)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.numeric import decided
from twotier.tier1.checks import percent_b, side_checks
from twotier.tier1.params import CHECKS, CheckParams, CheckWeights

P = CheckParams()
W = CheckWeights()

# A bar where every long check passes, with scores chosen to be exact in binary:
# trend (103-100)/(2*2) = 0.75; momentum 0.5/(0.5*2) = 0.5; rsi (70-50)/40 = 0.5;
# volume 150/100 - 1 = 0.5; %B (95-90)/(110-90) = 0.25, bollinger 1 - 0.25 = 0.75.
LONG_BAR = {
    "ema_12": 103.0,
    "ema_26": 102.0,
    "ema_50": 100.0,
    "macd": 1.0,
    "macd_signal": 0.5,
    "macd_hist": 0.5,
    "rsi": 50.0,
    "bb_upper": 110.0,
    "bb_lower": 90.0,
    "atr": 2.0,
    "volume_ema": 100.0,
}
LONG_CLOSE, LONG_VOLUME = 95.0, 150.0

# Its mirror image: every short check passes with the same scores.
SHORT_BAR = {
    **LONG_BAR,
    "ema_12": 97.0,
    "ema_26": 98.0,
    "macd": -1.0,
    "macd_signal": -0.5,
    "macd_hist": -0.5,
}
SHORT_CLOSE = 105.0


def checks(d: int, close=LONG_CLOSE, volume=LONG_VOLUME, p=P, w=W, **values):
    """side_checks of one bar given as 1-element arrays: LONG_BAR with ``values`` changed.
    Returns (passed, scores, confidence, strength) as plain Python values."""
    bar = {**LONG_BAR, **values}
    ind = {k: np.array([v], dtype=float) for k, v in bar.items()}
    side = side_checks(d, ind, np.array([close]), np.array([volume]), p, w)
    passed = {k: bool(v[0]) for k, v in side.passed.items()}
    scores = {k: float(v[0]) for k, v in side.scores.items()}
    return passed, scores, float(side.confidence[0]), float(side.strength[0])


def test_long_bar_passes_every_long_check_with_the_scores_of_the_table():
    passed, scores, confidence, strength = checks(1)
    assert passed == dict.fromkeys(CHECKS, True)
    assert scores == {
        "trend": 0.75,
        "momentum": 0.5,
        "rsi": 0.5,
        "volume": 0.5,
        "bollinger": 0.75,
    }
    assert confidence == pytest.approx(0.30 * 0.75 + 0.25 * 0.5 + 0.15 * (0.5 + 0.5 + 0.75))
    assert strength == 0.5


def test_long_bar_fails_the_short_trend_momentum_and_bollinger_checks():
    passed, scores, confidence, strength = checks(-1)
    assert passed == {
        "trend": False,
        "momentum": False,
        "rsi": True,  # the rsi and volume checks do not depend on the side
        "volume": True,
        "bollinger": False,
    }
    # negative ratios clip to 0; short rsi score (50-30)/40; short bollinger score = %B
    assert scores == {"trend": 0.0, "momentum": 0.0, "rsi": 0.5, "volume": 0.5, "bollinger": 0.25}
    assert confidence == pytest.approx(0.15 * (0.5 + 0.5 + 0.25))
    assert strength == 0.0  # sqrt(volume 0.5 x momentum 0)


def test_short_side_is_the_mirror_image_of_the_long_side():
    passed, scores, confidence, strength = checks(-1, close=SHORT_CLOSE, **SHORT_BAR)
    long_passed, long_scores, long_confidence, long_strength = checks(1)
    assert passed == long_passed == dict.fromkeys(CHECKS, True)
    assert scores == long_scores
    assert (confidence, strength) == (long_confidence, long_strength)


@pytest.mark.parametrize(
    ("values", "check", "long_passes", "short_passes"),
    [
        ({"ema_12": 101.0, "ema_26": 102.0}, "trend", False, False),  # 12 < 26 > 50
        ({"ema_26": 100.0}, "trend", False, False),  # 26 == 50: strict
        ({"ema_12": 102.0}, "trend", False, False),  # 12 == 26: strict
        ({"macd": 0.0, "macd_signal": -0.5}, "momentum", False, False),  # macd 0: strict
        ({"macd": 1.0, "macd_signal": 1.0}, "momentum", False, False),  # macd == signal
        ({"macd": 1.0, "macd_signal": 1.5}, "momentum", False, False),  # above 0, below signal
        ({"macd": -1.0, "macd_signal": 0.5}, "momentum", False, True),
        ({"rsi": 30.0}, "rsi", False, False),  # 30 < rsi < 70, strict
        ({"rsi": 70.0}, "rsi", False, False),
        ({"rsi": 30.000001}, "rsi", True, True),
        ({"rsi": 69.999999}, "rsi", True, True),
        ({"volume_ema": 125.0}, "volume", False, False),  # 150 == 1.2 * 125: strict
        ({"volume_ema": 124.0}, "volume", True, True),
    ],
)
def test_pass_rules_and_their_strict_boundaries(values, check, long_passes, short_passes):
    assert checks(1, **values)[0][check] is long_passes
    assert checks(-1, **values)[0][check] is short_passes


@pytest.mark.parametrize(
    ("close", "long_passes", "short_passes"),
    [(95.0, True, False), (100.0, True, True), (105.0, False, True), (80.0, True, False)],
)
def test_bollinger_check_long_at_or_below_the_middle_short_at_or_above(
    close, long_passes, short_passes
):
    assert checks(1, close=close)[0]["bollinger"] is long_passes
    assert checks(-1, close=close)[0]["bollinger"] is short_passes


@pytest.mark.parametrize(
    ("values", "close", "volume", "check", "long_score", "short_score"),
    [
        # trend: (ema12 - ema50) / (2 atr), 10/4 = 2.5 clips to 1; the other side 0
        ({"ema_12": 110.0}, 95.0, 150.0, "trend", 1.0, 0.0),
        ({"ema_12": 99.0, "ema_26": 100.5}, 95.0, 150.0, "trend", 0.0, 0.25),
        # momentum: macd_hist / (0.5 atr), 3/1 clips to 1
        ({"macd_hist": 3.0}, 95.0, 150.0, "momentum", 1.0, 0.0),
        ({"macd_hist": -0.25}, 95.0, 150.0, "momentum", 0.0, 0.25),
        # rsi: long (70-rsi)/40, short (rsi-30)/40, clipped even where the check fails
        ({"rsi": 20.0}, 95.0, 150.0, "rsi", 1.0, 0.0),
        ({"rsi": 90.0}, 95.0, 150.0, "rsi", 0.0, 1.0),
        ({"rsi": 60.0}, 95.0, 150.0, "rsi", 0.25, 0.75),
        # volume: volume/volume_ema - 1, below the average 0, three times it 1
        ({}, 95.0, 50.0, "volume", 0.0, 0.0),
        ({}, 95.0, 300.0, "volume", 1.0, 1.0),
        ({}, 95.0, 125.0, "volume", 0.25, 0.25),
        # bollinger: long 1 - %B, short %B; %B outside [0, 1] clips
        ({}, 85.0, 150.0, "bollinger", 1.0, 0.0),  # %B -0.25
        ({}, 115.0, 150.0, "bollinger", 0.0, 1.0),  # %B 1.25
        ({}, 100.0, 150.0, "bollinger", 0.5, 0.5),
    ],
)
def test_scores_follow_the_table_and_clip_to_zero_one(
    values, close, volume, check, long_score, short_score
):
    assert checks(1, close=close, volume=volume, **values)[1][check] == long_score
    assert checks(-1, close=close, volume=volume, **values)[1][check] == short_score


def test_atr_zero_gives_trend_and_momentum_scores_zero_though_the_checks_pass():
    for d, bar, close in ((1, LONG_BAR, LONG_CLOSE), (-1, SHORT_BAR, SHORT_CLOSE)):
        passed, scores, _, strength = checks(d, close=close, **{**bar, "atr": 0.0})
        assert passed["trend"] and passed["momentum"]
        assert scores["trend"] == 0.0 and scores["momentum"] == 0.0
        assert strength == 0.0


def test_volume_ema_zero_gives_volume_score_zero():
    for d in (1, -1):
        _, scores, _, strength = checks(d, volume_ema=0.0)
        assert scores["volume"] == 0.0
        assert strength == 0.0


def test_touching_bands_give_bollinger_score_zero_and_percent_b_one_half():
    assert float(percent_b(np.array([95.0]), np.array([100.0]), np.array([100.0]))[0]) == 0.5
    for d in (1, -1):
        passed, scores, _, _ = checks(d, close=95.0, bb_upper=100.0, bb_lower=100.0)
        assert scores["bollinger"] == 0.0
        assert passed["bollinger"]  # %B taken as 0.5 passes both sides' rules


def test_confidence_is_the_weighted_mean_with_weights_30_25_15_15_15():
    # scores: trend 0.25, momentum 1, rsi 0.75, volume 0, bollinger 0.5
    _, scores, confidence, _ = checks(
        1, close=100.0, volume=90.0, ema_12=101.0, macd_hist=2.0, rsi=40.0
    )
    assert scores == {"trend": 0.25, "momentum": 1.0, "rsi": 0.75, "volume": 0.0, "bollinger": 0.5}
    assert confidence == pytest.approx(0.30 * 0.25 + 0.25 * 1.0 + 0.15 * 0.75 + 0.15 * 0.5)


def test_confidence_divides_by_the_total_weight_of_custom_weights():
    only_trend = CheckWeights(trend=2.0, momentum=0, rsi=0, volume=0, bollinger=0)
    assert checks(1, w=only_trend)[2] == 0.75  # the trend score, not twice it
    halves = CheckWeights(trend=1, momentum=1, rsi=0, volume=0, bollinger=0)
    assert checks(1, w=halves)[2] == pytest.approx((0.75 + 0.5) / 2)


@pytest.mark.parametrize(
    ("volume", "macd_hist", "strength"),
    [(150.0, 0.5, 0.5), (125.0, 1.0, 0.5), (200.0, 0.25, 0.5), (100.0, 1.0, 0.0)],
)
def test_strength_is_the_square_root_of_volume_score_times_momentum_score(
    volume, macd_hist, strength
):
    # momentum score = macd_hist / 1, volume score = volume/100 - 1
    assert checks(1, volume=volume, macd_hist=macd_hist)[3] == strength


def test_custom_check_params_move_the_thresholds():
    p = CheckParams(rsi_lower=40, rsi_upper=60, volume_ratio=1.6, bollinger_pivot=0.2)
    passed, scores, _, _ = checks(1, p=p, rsi=55.0)
    assert not passed["volume"]  # 150 < 1.6 * 100
    assert not passed["bollinger"]  # %B 0.25 > 0.2
    assert passed["rsi"]
    assert scores["rsi"] == 0.25  # (60 - 55) / 20


def test_nan_inputs_fail_every_check_that_uses_them():
    passed, scores, confidence, _ = checks(1, ema_50=math.nan)
    assert not passed["trend"]
    assert math.isnan(scores["trend"]) and math.isnan(confidence)


def test_whole_series_arrays_give_each_bar_its_own_answer():
    bars = [LONG_BAR, SHORT_BAR]
    ind = {k: np.array([b[k] for b in bars]) for k in LONG_BAR}
    close = np.array([LONG_CLOSE, SHORT_CLOSE])
    volume = np.array([LONG_VOLUME, LONG_VOLUME])
    long = side_checks(1, ind, close, volume, P, W)
    short = side_checks(-1, ind, close, volume, P, W)
    assert long.passed["trend"].tolist() == [True, False]
    assert short.passed["trend"].tolist() == [False, True]
    assert long.confidence[0] == short.confidence[1]


def test_decided_rounds_one_float_exactly_as_numpy_rounds_arrays():
    values = [0.32249999999999995, 0.1 + 0.2, 2.5e-11, 1.5e-10, 0.55, -0.55, 0.0, 7, 1e300]
    rng = np.random.default_rng(0)
    values += [*rng.random(2000), *((np.arange(2000) + 0.5) / 1e10)]  # incl. exact halves
    with np.errstate(over="ignore"):  # 1e300 * 1e10 is inf in both
        expected = decided(np.array(values, dtype=float))
    assert [decided(float(v)) for v in values] == expected.tolist()
    assert decided(math.inf) == math.inf and decided(-math.inf) == -math.inf
    assert math.isnan(decided(math.nan))


# -- one bar as plain floats (the live form) gives what arrays give ------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)
maybe = st.one_of(finite, st.just(0.0), st.just(math.nan))


@settings(max_examples=150, deadline=None)
@given(
    ind=st.fixed_dictionaries({k: maybe for k in LONG_BAR}),
    close=st.floats(0.01, 1e6),
    volume=st.one_of(st.floats(0, 1e9), st.just(0.0)),
    d=st.sampled_from([1, -1]),
    touch=st.booleans(),
)
def test_floats_and_arrays_give_bit_identical_checks(ind, close, volume, d, touch):
    if touch:
        ind["bb_lower"] = ind["bb_upper"]
    one = side_checks(d, ind, close, volume, P, W)
    arrays = {k: np.array([v]) for k, v in ind.items()}
    with np.errstate(over="ignore"):  # e.g. 1e6 / 1e-300 is inf (clipped to 1) in both
        many = side_checks(d, arrays, np.array([close]), np.array([volume]), P, W)
    for name in CHECKS:
        assert one.passed[name] == bool(many.passed[name][0])
        assert _same(one.scores[name], many.scores[name][0])
    assert _same(one.confidence, many.confidence[0])
    assert _same(one.strength, many.strength[0])


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
