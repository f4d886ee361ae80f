"""Signal generators: bars -> indicators -> checks -> signal state and regime -> packages.

One generator per instrument, each with its own parameter set (IronOreIndicator,
CopperIndicator, SoybeanIndicator by default; any other instrument gets one by
configuration). ``run`` is the whole-series form; ``live()`` the one-bar-at-a-time form.
Both call ``evaluate`` and ``assemble``, so they give identical packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from twotier.indicators import IndicatorStream
from twotier.indicators.series import compute_arrays
from twotier.numeric import Values, all_of, as_int8, decided, defined, where
from twotier.tier1.checks import SideChecks, bar_terms, side_checks
from twotier.tier1.package import INDICATOR_COLUMNS
from twotier.tier1.params import CHECKS, Tier1Params
from twotier.tier1.regime import regime_series
from twotier.tier1.state import next_signal, signal_series

if TYPE_CHECKING:
    from twotier.config.model import Config

SIGNAL_INPUTS = (
    "ema_12",
    "ema_26",
    "ema_50",
    "macd",
    "macd_signal",
    "macd_hist",
    "rsi",
    "bb_upper",
    "bb_lower",
    "atr",
    "volume_ema",
)

PACKAGED = ("open", "close", "volume")  # the bar columns a package carries

# The dtype pandas gives a column of strings (pandas 3: "str", stored by Arrow).
TEXT_DTYPE = pd.Series([""]).dtype

BUILTIN_NAMES = {
    "DCE/i": "IronOreIndicator",
    "SHFE/cu": "CopperIndicator",
    "DCE/m": "SoybeanIndicator",
}


@dataclass(frozen=True)
class Evaluation:
    """Both sides' checks of every bar (or of one bar), and where an entry trigger fires."""

    long: SideChecks
    short: SideChecks
    defined: Values
    trigger_long: Values
    trigger_short: Values


def evaluate(
    ind: Mapping[str, Values], close: Values, volume: Values, params: Tier1Params
) -> Evaluation:
    """The checks of both sides and the entry triggers (RULES.md 3.1, 3.2), for arrays of
    bars or for one bar's floats."""
    ready = defined(ind, SIGNAL_INPUTS)
    terms = bar_terms(ind, close, volume, params.checks)  # shared by both directions
    sides = {}
    triggers = {}
    for d in (1, -1):
        side = side_checks(d, ind, close, volume, params.checks, params.weights, terms)
        required = all_of(side.passed[name] for name in params.required_checks)
        triggers[d] = (
            ready
            & required
            & (decided(side.confidence) >= params.min_confidence)
            & (decided(side.strength) >= params.min_signal_strength)
        )
        sides[d] = side
    return Evaluation(sides[1], sides[-1], ready, triggers[1], triggers[-1])


def assemble(
    instrument: str,
    times,
    open_: Values,
    close: Values,
    volume: Values,
    ind: Mapping[str, Values],
    ev: Evaluation,
    signal: Values,
    regime: Values,
) -> dict[str, object]:
    """The package columns (RULES.md 3.4) of the given bars, or the package of one bar."""
    long, short = signal == 1, signal == -1
    columns: dict[str, object] = {
        "time": times,
        "instrument": instrument,
        "signal": as_int8(signal),
        "confidence": where(long, ev.long.confidence, where(short, ev.short.confidence, 0.0)),
        "signal_strength": where(long, ev.long.strength, where(short, ev.short.strength, 0.0)),
        "regime": as_int8(regime),
        "open": open_,
        "close": close,
        "volume": volume,
    }
    for name in INDICATOR_COLUMNS:
        columns[name] = ind[name]
    # +1 / -1 where only that side's trigger fires; 0 where none or both (they cancel)
    columns["trigger"] = as_int8(ev.trigger_long) - as_int8(ev.trigger_short)
    for side_name, side in (("long", ev.long), ("short", ev.short)):
        for check in CHECKS:
            columns[f"{side_name}_{check}"] = side.passed[check] & ev.defined
    return columns


def repeated_text(text: str, n: int):
    """``text`` n times, as the column pandas makes of one string in a frame of n rows
    (its str dtype), with Arrow's buffers made in one piece each: pandas repeats the
    string with a take over n indices, pa.repeat copies it n times one by one."""
    encoded = text.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(encoded)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(encoded * n)]
    return pd.array(pa.Array.from_buffers(pa.large_string(), n, buffers), dtype=TEXT_DTYPE)


class SignalGenerator:
    """A named Tier-1 generator for one instrument."""

    def __init__(self, name: str, instrument: str, params: Tier1Params | None = None):
        self.name = name
        self.instrument = instrument
        self.params = params or Tier1Params()

    def __repr__(self) -> str:
        return f"{self.name}({self.instrument})"

    def run(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Packages of every bar (whole-series form)."""
        # Every column is a fresh array of its own: no need for pandas to copy them into
        # consolidated blocks (a third of the time of a long series).
        return pd.DataFrame(self.columns(bars), copy=False)

    def columns(self, bars: pd.DataFrame) -> dict[str, object]:
        """The package columns of every bar, each a fresh array of its own (what ``run``
        makes its frame of, for a caller that adds columns before making one)."""
        # open, close and volume become package columns: copies of their own. TA-Lib only
        # reads high and low.
        arrays = {
            c: np.ascontiguousarray(bars[c].to_numpy(dtype=np.float64, copy=c in PACKAGED))
            for c in ("open", "high", "low", "close", "volume")
        }
        ind = compute_arrays(
            arrays["high"], arrays["low"], arrays["close"], arrays["volume"], self.params.indicators
        )
        ev = evaluate(ind, arrays["close"], arrays["volume"], self.params)
        signal = signal_series(
            ev.trigger_long, ev.trigger_short, ev.long.passed["trend"], ev.short.passed["trend"]
        )
        regime = regime_series(ind, arrays["close"], self.params.regime)
        return assemble(
            repeated_text(self.instrument, len(bars)),
            bars.index,
            arrays["open"],
            arrays["close"],
            arrays["volume"],
            ind,
            ev,
            signal,
            regime,
        )

    def live(self) -> LiveSignalGenerator:
        return LiveSignalGenerator(self)


class LiveSignalGenerator:
    """The one-bar-at-a-time form: ``update(time, open, high, low, close, volume)`` returns
    that bar's package as a dict of plain values (the row ``run`` gives for that bar)."""

    def __init__(self, generator: SignalGenerator):
        self.generator = generator
        self._indicators = IndicatorStream(generator.params.indicators)
        self._signal = 0

    @property
    def signal(self) -> int:
        """The current signal state (that of the last bar given)."""
        return self._signal

    def update(self, time, open_: float, high: float, low: float, close: float, volume: float):
        open_, close, volume = float(open_), float(close), float(volume)
        ind = self._indicators.update(float(high), float(low), close, volume)
        params = self.generator.params
        ev = evaluate(ind, close, volume, params)
        self._signal = next_signal(
            self._signal,
            bool(ev.trigger_long),
            bool(ev.trigger_short),
            bool(ev.long.passed["trend"]),
            bool(ev.short.passed["trend"]),
        )
        regime = regime_series(ind, close, params.regime)
        return assemble(
            self.generator.instrument, time, open_, close, volume, ind, ev, self._signal, regime
        )


def generator_for(config: Config, instrument: str) -> SignalGenerator:
    """The Tier-1 generator a configuration names for an instrument, with its parameters:
    the one place a run, ``twotier signals``, paper trading and a sweep make one."""
    return SignalGenerator(
        config.generator_name(instrument), instrument, config.tier1_params(instrument)
    )


def builtin_name(instrument: str) -> str:
    """IronOreIndicator for DCE/i ...; ``<Product>Indicator`` for other instruments."""
    if instrument in BUILTIN_NAMES:
        return BUILTIN_NAMES[instrument]
    product = instrument.split("/")[-1]
    return f"{product[:1].upper()}{product[1:]}Indicator"


def IronOreIndicator(params: Tier1Params | None = None) -> SignalGenerator:
    return SignalGenerator("IronOreIndicator", "DCE/i", params)


def CopperIndicator(params: Tier1Params | None = None) -> SignalGenerator:
    return SignalGenerator("CopperIndicator", "SHFE/cu", params)


def SoybeanIndicator(params: Tier1Params | None = None) -> SignalGenerator:
    return SignalGenerator("SoybeanIndicator", "DCE/m", params)
