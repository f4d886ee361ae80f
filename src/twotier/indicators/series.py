"""The whole-series form: TA-Lib's functions over arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from twotier.indicators.params import IndicatorParams

COLUMNS = (
    "ema_12",
    "ema_26",
    "ema_50",
    "macd",
    "macd_signal",
    "macd_hist",
    "rsi",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "bb_width",
    "atr",
    "volume_ema",
    "atr_base",
    "bbw_base",
)

# Leading undefined bars with the default periods (RULES.md 2).
LOOKBACKS = {
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


def bollinger_width(upper: np.ndarray, middle: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """(upper - lower) / middle; prices are > 0, so middle is too."""
    return (upper - lower) / middle


def rsi_flat_is_50(rsi: np.ndarray, close: np.ndarray) -> np.ndarray:
    """TA-Lib reports 0 when average gain and loss are both 0 (no price change at all since
    the series began); the project's rule is 50 there. ``rsi`` (TA-Lib's fresh output) is
    changed in place."""
    # The (finite) price has not changed up to a bar while it equals the first bar's: only
    # the bars before the first that differs can be flat, where a pass over np.diff and
    # its running OR would look at every bar.
    differs = close != close[:1]
    first_change = int(differs.argmax()) if differs.any() else len(close)
    flat = rsi[:first_change]
    flat[flat == 0.0] = 50.0
    return rsi


def compute(bars: pd.DataFrame, params: IndicatorParams | None = None) -> pd.DataFrame:
    """Indicators of every bar, aligned with ``bars.index`` (NaN while warming up)."""
    p = params or IndicatorParams()
    close = np.ascontiguousarray(bars["close"].to_numpy(dtype=np.float64))
    high = np.ascontiguousarray(bars["high"].to_numpy(dtype=np.float64))
    low = np.ascontiguousarray(bars["low"].to_numpy(dtype=np.float64))
    volume = np.ascontiguousarray(bars["volume"].to_numpy(dtype=np.float64))
    return pd.DataFrame(compute_arrays(high, low, close, volume, p), index=bars.index)


def compute_arrays(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, p: IndicatorParams
) -> dict[str, np.ndarray]:
    n = len(close)
    if n == 0:
        return {name: np.empty(0) for name in COLUMNS}
    macd, macd_signal, macd_hist = talib.MACD(close, p.macd_fast, p.macd_slow, p.macd_signal)
    upper, middle, lower = talib.BBANDS(close, p.bb_period, p.bb_dev_up, p.bb_dev_down, 0)
    width = bollinger_width(upper, middle, lower)
    atr = talib.ATR(high, low, close, p.atr_period)
    return {
        "ema_12": talib.EMA(close, p.ema_fast),
        "ema_26": talib.EMA(close, p.ema_slow),
        "ema_50": talib.EMA(close, p.ema_trend),
        "macd": macd,
        "macd_signal": macd_signal,
        "macd_hist": macd_hist,
        "rsi": rsi_flat_is_50(talib.RSI(close, p.rsi_period), close),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "bb_width": width,
        "atr": atr,
        "volume_ema": talib.EMA(volume, p.volume_ema_period),
        "atr_base": _sma_or_nan(atr, p.baseline_period),
        "bbw_base": _sma_or_nan(width, p.baseline_period),
    }


def _sma_or_nan(values: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's SMA; all NaN where the input never becomes defined."""
    # A defined last value (the usual case) settles it without a pass over the series.
    if np.isnan(values[-1:]).all() and np.isnan(values).all():
        return np.full(len(values), np.nan)
    return talib.SMA(values, period)
