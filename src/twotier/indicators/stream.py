"""The one-bar-at-a-time form, on TA-Lib's streaming handles (``talib.stream``).

A handle can only be opened on enough history; until then a ``_Lazy`` keeps the inputs
and reports NaN, exactly like the leading NaNs of the whole-series form. TA-Lib documents
its handles as bit-identical to its functions; the derived values (Bollinger width, the
flat-RSI rule) use the same arithmetic as ``series``.
"""

from __future__ import annotations

import math

import numpy as np
import talib
from talib import stream as ta_stream

from twotier.indicators.params import IndicatorParams

NAN = float("nan")


class _Lazy:
    """A TA-Lib stream handle, opened as soon as the history allows."""

    def __init__(self, name: str, outputs: int, *args: float):
        self._factory = getattr(ta_stream, name)
        self._args = args
        self._outputs = outputs
        self._history: list[list[float]] | None = None
        self._handle = None

    def update(self, *inputs: float) -> tuple[float, ...]:
        if self._handle is not None:
            return self._as_tuple(self._handle.update(*inputs))
        if self._history is None:
            self._history = [[] for _ in inputs]
        for column, value in zip(self._history, inputs, strict=True):
            column.append(value)
        arrays = [np.asarray(column, dtype=np.float64) for column in self._history]
        if np.isnan(arrays[0]).all():
            return (NAN,) * self._outputs
        try:
            self._handle = self._factory(*arrays, *self._args)
        except talib.InsufficientHistory:
            return (NAN,) * self._outputs
        self._history = None
        return self._as_tuple(self._handle.value)

    def _as_tuple(self, value) -> tuple[float, ...]:
        return tuple(float(v) for v in value) if self._outputs > 1 else (float(value),)


class IndicatorStream:
    """Feed closed bars one at a time; each ``update`` returns that bar's indicators."""

    def __init__(self, params: IndicatorParams | None = None):
        p = params or IndicatorParams()
        self.params = p
        self._ema_fast = _Lazy("EMA", 1, p.ema_fast)
        self._ema_slow = _Lazy("EMA", 1, p.ema_slow)
        self._ema_trend = _Lazy("EMA", 1, p.ema_trend)
        self._macd = _Lazy("MACD", 3, p.macd_fast, p.macd_slow, p.macd_signal)
        self._rsi = _Lazy("RSI", 1, p.rsi_period)
        self._bbands = _Lazy("BBANDS", 3, p.bb_period, p.bb_dev_up, p.bb_dev_down, 0)
        self._atr = _Lazy("ATR", 1, p.atr_period)
        self._volume_ema = _Lazy("EMA", 1, p.volume_ema_period)
        self._atr_base = _Lazy("SMA", 1, p.baseline_period)
        self._bbw_base = _Lazy("SMA", 1, p.baseline_period)
        self._first_close: float | None = None
        self._changed = False
        self.bars = 0

    def update(self, high: float, low: float, close: float, volume: float) -> dict[str, float]:
        if self._first_close is None:
            self._first_close = close
        elif close != self._last_close:
            self._changed = True
        self._last_close = close
        self.bars += 1
        macd, macd_signal, macd_hist = self._macd.update(close)
        upper, middle, lower = self._bbands.update(close)
        width = NAN if math.isnan(middle) else (upper - lower) / middle
        (atr,) = self._atr.update(high, low, close)
        (rsi,) = self._rsi.update(close)
        if rsi == 0.0 and not self._changed:
            rsi = 50.0
        values = {
            "ema_12": self._ema_fast.update(close)[0],
            "ema_26": self._ema_slow.update(close)[0],
            "ema_50": self._ema_trend.update(close)[0],
            "macd": macd,
            "macd_signal": macd_signal,
            "macd_hist": macd_hist,
            "rsi": rsi,
            "bb_upper": upper,
            "bb_middle": middle,
            "bb_lower": lower,
            "bb_width": width,
            "atr": atr,
            "volume_ema": self._volume_ema.update(volume)[0],
            "atr_base": self._atr_base.update(atr)[0],
            "bbw_base": self._bbw_base.update(width)[0],
        }
        return values
