"""Indicators (RULES.md section 2): TA-Lib's own numbers and look-backs, the same bar at a
time as over the whole series, and the project's edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.indicators import COLUMNS, LOOKBACKS, IndicatorParams, IndicatorStream, compute, series
from twotier.market.resample import resample

RULES_LOOKBACKS = {
    "ema_12": 11,
    "ema_26": 25,
    "ema_50": 49,
    "macd": 33,
    "macd_signal": 33,
    "macd_hist": 33,
    "rsi": 14,
    "bb_upper": 19,
    "bb_middle": 19,
    "bb_lower": 19,
    "bb_width": 19,
    "atr": 14,
    "volume_ema": 19,
    "atr_base": 113,
    "bbw_base": 118,
}


def random_bars(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 800.0 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    spread = np.abs(rng.normal(0, 0.003, n)) * close
    return pd.DataFrame(
        {
            "open": close,
            "high": close + spread,
            "low": close - spread,
            "close": close,
            "volume": rng.integers(100, 10_000, n).astype(float),
        }
    )


def streamed(bars: pd.DataFrame, params: IndicatorParams | None = None) -> pd.DataFrame:
    stream = IndicatorStream(params)
    rows = [
        stream.update(high, low, close, volume)
        for high, low, close, volume in zip(
            bars["high"].to_numpy(),
            bars["low"].to_numpy(),
            bars["close"].to_numpy(),
            bars["volume"].to_numpy(),
            strict=True,
        )
    ]
    return pd.DataFrame(rows, index=bars.index, columns=list(COLUMNS))


def assert_bitwise_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    for column in COLUMNS:
        x, y = a[column].to_numpy(dtype=float), b[column].to_numpy(dtype=float)
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        assert same.all(), f"{column}: first difference at bar {int(np.argmin(same))}"


def leading_nans(values: np.ndarray) -> int:
    defined = np.flatnonzero(~np.isnan(values))
    return int(defined[0]) if len(defined) else len(values)


def test_lookbacks_are_those_of_the_rules():
    assert LOOKBACKS == RULES_LOOKBACKS
    assert set(COLUMNS) == set(RULES_LOOKBACKS)


def test_each_indicator_has_its_lookback_of_leading_nans_then_no_nan():
    result = compute(random_bars(400))
    for column in COLUMNS:
        values = result[column].to_numpy()
        assert leading_nans(values) == LOOKBACKS[column], column
        assert not np.isnan(values[LOOKBACKS[column] :]).any(), column


def test_warmups_agree_with_the_lookbacks():
    params = IndicatorParams()
    assert params.signal_warmup() == LOOKBACKS["ema_50"] == 49
    assert params.regime_warmup() == LOOKBACKS["bbw_base"] == 118


def test_values_are_talib_functions_called_directly():
    bars = random_bars(300, seed=5)
    high, low = bars["high"].to_numpy(), bars["low"].to_numpy()
    close, volume = bars["close"].to_numpy(), bars["volume"].to_numpy()
    result = compute(bars)
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    width = (upper - lower) / middle
    atr = talib.ATR(high, low, close, 14)
    expected = {
        "ema_12": talib.EMA(close, 12),
        "ema_26": talib.EMA(close, 26),
        "ema_50": talib.EMA(close, 50),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "rsi": talib.RSI(close, 14),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "bb_width": width,
        "atr": atr,
        "volume_ema": talib.EMA(volume, 20),
        "atr_base": talib.SMA(atr, 100),
        "bbw_base": talib.SMA(width, 100),
    }
    assert_bitwise_equal(result, pd.DataFrame(expected))


def test_result_is_aligned_with_the_bars_index():
    bars = random_bars(30)
    bars.index = pd.date_range("2024-03-05 09:00", periods=30, freq="15min", tz="Asia/Shanghai")
    result = compute(bars)
    assert result.index.equals(bars.index)
    assert list(result.columns) == list(COLUMNS)


def flat_bars(price: float, n: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {"open": price, "high": price, "low": price, "close": price, "volume": 10.0},
        index=range(n),
    )


@pytest.mark.parametrize("price", [0.5, 3.3, 645.5, 71940.0])
def test_flat_prices_give_rsi_50_and_bollinger_width_0_in_both_forms(price):
    bars = flat_bars(price)
    for result in (compute(bars), streamed(bars)):
        rsi = result["rsi"].to_numpy()[LOOKBACKS["rsi"] :]
        width = result["bb_width"].to_numpy()[LOOKBACKS["bb_width"] :]
        assert (rsi == 50.0).all()
        assert (width == 0.0).all()
        assert (result["bbw_base"].to_numpy()[LOOKBACKS["bbw_base"] :] == 0.0).all()
        assert (result["atr"].to_numpy()[LOOKBACKS["atr"] :] == 0.0).all()


def test_rsi_50_rule_applies_only_to_prices_that_never_moved():
    falling = pd.DataFrame({"close": np.linspace(900.0, 800.0, 40)})
    falling["high"] = falling["low"] = falling["close"]
    falling["volume"] = 1.0
    assert (compute(falling)["rsi"].to_numpy()[14:] == 0.0).all()  # all losses: 0, not 50
    assert (streamed(falling)["rsi"].to_numpy()[14:] == 0.0).all()
    rising = falling.iloc[::-1].reset_index(drop=True)
    assert (compute(rising)["rsi"].to_numpy()[14:] == 100.0).all()


def test_rsi_is_50_only_until_the_price_first_moves():
    close = np.concatenate([np.full(30, 700.0), np.linspace(699.0, 650.0, 20)])
    bars = pd.DataFrame({"close": close, "high": close, "low": close, "volume": 1.0})
    for result in (compute(bars), streamed(bars)):
        rsi = result["rsi"].to_numpy()
        assert (rsi[14:30] == 50.0).all()
        assert (rsi[30:] == 0.0).all()  # all losses since: TA-Lib's 0 stands


def test_rsi_flat_rule_and_sma_baseline_take_empty_series():
    empty = np.array([], dtype=np.float64)
    assert len(series.rsi_flat_is_50(empty.copy(), empty)) == 0
    assert len(series._sma_or_nan(empty, 5)) == 0


@pytest.mark.parametrize("n", [0, 1, 10, 33, 117])
def test_fewer_bars_than_the_lookback_give_nans_without_error(n):
    bars = random_bars(n)
    batch, stream = compute(bars), streamed(bars)
    assert len(batch) == len(stream) == n
    for column in COLUMNS:
        if n <= LOOKBACKS[column]:
            assert batch[column].isna().all(), column
    assert_bitwise_equal(batch, stream)


def test_custom_periods_are_used_by_both_forms():
    params = IndicatorParams(ema_fast=5, ema_slow=10, ema_trend=20, baseline_period=10)
    bars = random_bars(120, seed=3)
    batch = compute(bars, params)
    np.testing.assert_array_equal(batch["ema_12"], talib.EMA(bars["close"].to_numpy(), 5))
    assert_bitwise_equal(batch, streamed(bars, params))


def test_params_refuse_unordered_periods():
    with pytest.raises(ValueError, match="ema_fast < ema_slow < ema_trend"):
        IndicatorParams(ema_fast=30)
    with pytest.raises(ValueError, match="macd_fast < macd_slow"):
        IndicatorParams(macd_fast=26, macd_slow=12)


@pytest.mark.parametrize(
    "name", ["DCE.i.HOT.m5.csv", "DCE.m.HOT.m5.csv", "SHFE.cu2202.m1.csv", "SHFE.cu.HOT.m1.csv.gz"]
)
def test_stream_equals_batch_bit_for_bit_on_real_fifteen_minute_bars(real_bars, name):
    loaded = real_bars(name)
    bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    assert len(bars) > LOOKBACKS["bbw_base"]
    assert_bitwise_equal(compute(bars), streamed(bars))


prices = st.floats(min_value=1.0, max_value=100_000.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    closes=st.lists(prices, min_size=1, max_size=160),
    spread=st.floats(min_value=0.0, max_value=0.05),
    repeat=st.integers(min_value=1, max_value=4),
)
def test_stream_equals_batch_on_random_positive_prices(closes, spread, repeat):
    close = np.repeat(np.asarray(closes), repeat)[:160]  # repeats: runs of flat prices
    bars = pd.DataFrame(
        {
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": np.arange(len(close), dtype=float) % 7,
        }
    )
    assert_bitwise_equal(compute(bars), streamed(bars))
