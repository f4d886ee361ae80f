"""Signal generators: bars -> indicators -> checks -> signal state and regime -> packages.

One generator per instrument, each with its own parameter set (IronOreIndicator,
CopperIndicator, SoybeanIndicator by default; any other instrument gets one by
configuration). ``run`` is the whole-series form; ``live()`` the one-bar-at-a-time form.
Both call ``evaluate`` and ``assemble``, so they give identical packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twotier.indicators import IndicatorStream
from twotier.indicators.series import compute_arrays
from twotier.tier1.checks import SideChecks, decided, side_checks
from twotier.tier1.package import CHECK_COLUMNS, INDICATOR_COLUMNS
from twotier.tier1.params import CHECKS, Tier1Params
from twotier.tier1.regime import regime_series
from twotier.tier1.state import next_signal, signal_series

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

BUILTIN_NAMES = {
    "DCE/i": "IronOreIndicator",
    "SHFE/cu": "CopperIndicator",
    "DCE/m": "SoybeanIndicator",
}


@dataclass(frozen=True)
class Evaluation:
    """Both sides' checks of every bar, and where an entry trigger fires."""

    long: SideChecks
    short: SideChecks
    defined: np.ndarray
    trigger_long: np.ndarray
    trigger_short: np.ndarray


def evaluate(
    ind: Mapping[str, np.ndarray], close: np.ndarray, volume: np.ndarray, params: Tier1Params
) -> Evaluation:
    defined = ~np.any([np.isnan(ind[name]) for name in SIGNAL_INPUTS], axis=0)
    sides = {}
    triggers = {}
    for d in (1, -1):
        side = side_checks(d, ind, close, volume, params.checks, params.weights)
        required = np.all([side.passed[name] for name in params.required_checks], axis=0)
        triggers[d] = (
            defined
            & required
            & (decided(side.confidence) >= params.min_confidence)
            & (decided(side.strength) >= params.min_signal_strength)
        )
        sides[d] = side
    return Evaluation(sides[1], sides[-1], defined, triggers[1], triggers[-1])


def assemble(
    instrument: str,
    times,
    open_: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    ind: Mapping[str, np.ndarray],
    ev: Evaluation,
    signal: np.ndarray,
    regime: np.ndarray,
) -> dict[str, object]:
    """The package columns (RULES.md 3.4) of the given bars."""
    zero = np.zeros(len(signal))
    long, short = signal == 1, signal == -1
    columns: dict[str, object] = {
        "time": times,
        "instrument": instrument,
        "signal": signal.astype(np.int8),
        "confidence": np.where(
            long, ev.long.confidence, np.where(short, ev.short.confidence, zero)
        ),
        "signal_strength": np.where(
            long, ev.long.strength, np.where(short, ev.short.strength, zero)
        ),
        "regime": regime.astype(np.int8),
        "open": open_,
        "close": close,
        "volume": volume,
    }
    for name in INDICATOR_COLUMNS:
        columns[name] = ind[name]
    columns["trigger"] = np.where(ev.trigger_long & ~ev.trigger_short, 1, 0) - np.where(
        ev.trigger_short & ~ev.trigger_long, 1, 0
    ).astype(np.int8)
    for side_name, side in (("long", ev.long), ("short", ev.short)):
        for check in CHECKS:
            columns[f"{side_name}_{check}"] = side.passed[check] & ev.defined
    assert set(CHECK_COLUMNS) <= set(columns)
    return columns


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
        arrays = {
            c: np.ascontiguousarray(bars[c].to_numpy(dtype=np.float64))
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
        columns = assemble(
            self.instrument,
            bars.index,
            arrays["open"],
            arrays["close"],
            arrays["volume"],
            ind,
            ev,
            signal,
            regime,
        )
        return pd.DataFrame(columns)

    def live(self) -> LiveSignalGenerator:
        return LiveSignalGenerator(self)


class LiveSignalGenerator:
    """The one-bar-at-a-time form: ``update(time, open, high, low, close, volume)`` returns
    that bar's package as a dict."""

    def __init__(self, generator: SignalGenerator):
        self.generator = generator
        self._indicators = IndicatorStream(generator.params.indicators)
        self._signal = 0

    def update(self, time, open_: float, high: float, low: float, close: float, volume: float):
        values = self._indicators.update(high, low, close, volume)
        ind = {k: np.array([v]) for k, v in values.items()}
        c, v = np.array([close]), np.array([volume])
        params = self.generator.params
        ev = evaluate(ind, c, v, params)
        self._signal = next_signal(
            self._signal,
            bool(ev.trigger_long[0]),
            bool(ev.trigger_short[0]),
            bool(ev.long.passed["trend"][0]),
            bool(ev.short.passed["trend"][0]),
        )
        regime = regime_series(ind, c, params.regime)
        columns = assemble(
            self.generator.instrument,
            [time],
            np.array([open_]),
            c,
            v,
            ind,
            ev,
            np.array([self._signal]),
            regime,
        )
        return {k: (v[0] if isinstance(v, np.ndarray | list) else v) for k, v in columns.items()}


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
