"""Random package streams for property-based tests: 2-3 baskets over a few trading days,
night sessions included, signals with persistence, random-walk prices on the tick grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.scenario import (
    COPPER,
    FILLER_CLOSE,
    INSTRUMENTS,
    basket,
    day_bars,
    night_bars,
)
from twotier.market.instruments import default_registry
from twotier.tier1.package import validate_packages

# Consecutive trading days (XSHG) and the calendar evening before each one (its night
# session): Friday 2024-10-18's night belongs to Monday 2024-10-21.
DAYS = ("2024-10-21", "2024-10-22", "2024-10-23", "2024-10-24", "2024-10-25", "2024-10-28")
EVENINGS = ("2024-10-18", "2024-10-21", "2024-10-22", "2024-10-23", "2024-10-24", "2024-10-25")


@dataclass(frozen=True)
class StreamSpec:
    """What a stream looks like; everything else comes from the seed."""

    seed: int
    instruments: tuple[str, ...]
    days: int = 3
    first_day: int = 0
    nights: bool = True
    volatility: float = 0.004  # standard deviation of a bar's return
    persistence: float = 0.9  # chance that a bar keeps the previous bar's signal
    chaos: float = 0.05  # chance that a bar starts a chaos spell
    thin: float = 0.0  # chance that a bar is missing (gaps inside sessions)
    market: bool = False  # bars with high, low, volume and the day's limits (RULES.md 10)
    locks: float = 0.05  # with market: chance that a bar starts a spell locked at a limit


def bar_times(spec: StreamSpec, instrument: str, rng: np.random.Generator) -> list:
    times = []
    for d in range(spec.first_day, spec.first_day + spec.days):
        if spec.nights:
            times += night_bars(EVENINGS[d], copper=instrument == COPPER)
        times += day_bars(DAYS[d])
    if spec.thin:
        keep = rng.random(len(times)) >= spec.thin
        keep[0] = True
        times = [t for t, k in zip(times, keep, strict=True) if k]
    return times


def walk(rng: np.random.Generator, n: int, start: float, tick: float, vol: float):
    """Closes and opens on the tick grid, never below 10 ticks."""
    steps = np.rint(rng.normal(0.0, vol * start / tick, n)).astype(np.int64)
    close_ticks = np.maximum(np.rint(start / tick).astype(np.int64) + np.cumsum(steps), 10)
    gaps = np.rint(rng.normal(0.0, 0.3 * vol * start / tick, n)).astype(np.int64)
    prev = np.concatenate([[close_ticks[0]], close_ticks[:-1]])
    open_ticks = np.maximum(prev + gaps, 10)
    return close_ticks * tick, open_ticks * tick


def signals(rng: np.random.Generator, n: int, persistence: float) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    state = 0
    for i in range(n):
        if rng.random() > persistence:
            state = int(rng.choice([-1, 0, 0, 1]))
        out[i] = state
    return out


def levels(rng: np.random.Generator, sig: np.ndarray) -> np.ndarray:
    """Confidence or strength in [0, 1] on 2 decimals: a level per episode, a little noise
    per bar, and now and then a bar that drops."""
    n = len(sig)
    start = np.concatenate([[True], sig[1:] != sig[:-1]])
    base = rng.uniform(0.05, 1.0, n)
    level = base[np.maximum.accumulate(np.where(start, np.arange(n), 0))]
    noisy = level + rng.normal(0.0, 0.05, n) - (rng.random(n) < 0.03) * 0.5
    return np.round(np.clip(noisy, 0.0, 1.0), 2)


def regimes(rng: np.random.Generator, n: int, chaos: float) -> np.ndarray:
    out = rng.choice([1, 2, 3], size=n)
    i = 0
    while i < n:
        if rng.random() < chaos:
            length = int(rng.integers(1, 8))
            out[i : i + length] = 4
            i += length
        i += 1
    return out


def stream(spec: StreamSpec) -> pd.DataFrame:
    """The validated package table of a random stream."""
    rng = np.random.default_rng(spec.seed)
    registry = default_registry()
    frames = []
    for instrument in spec.instruments:
        times = bar_times(spec, instrument, rng)
        n = len(times)
        tick = float(registry[instrument].tick)
        close, open_ = walk(rng, n, FILLER_CLOSE[instrument], tick, spec.volatility)
        sig = signals(rng, n, spec.persistence)
        conf = np.where(sig != 0, levels(rng, sig), 0.0)
        strength = np.where(sig != 0, levels(rng, sig), 0.0)
        frame = basket(
            instrument,
            times,
            close.tolist(),
            open=open_.tolist(),
            signal=sig.tolist(),
            confidence=conf.tolist(),
            strength=strength.tolist(),
            regime=regimes(rng, n, spec.chaos).tolist(),
        )
        frames.append(with_market(frame, rng, tick, spec) if spec.market else frame)
    return validate_packages(pd.concat(frames, ignore_index=True), "<stream>")


def with_market(frame: pd.DataFrame, rng: np.random.Generator, tick: float, spec: StreamSpec):
    """High and low around each bar, volume (now and then none), each trading day's limits
    from the data (its first open +-4%, on the tick) and spells of bars locked at them."""
    n = len(frame)
    open_, close = frame["open"].to_numpy(copy=True), frame["close"].to_numpy(copy=True)
    spread = rng.integers(0, 4, n) * tick
    high, low = np.maximum(open_, close) + spread, np.minimum(open_, close) - spread
    times = pd.DatetimeIndex(frame["time"])
    day = (times + pd.Timedelta(hours=3)).normalize()  # nights (21:00-01:00) join the next day
    first = pd.Series(open_).groupby(np.asarray(day)).transform("first").to_numpy()
    up = np.floor(first * 1.04 / tick) * tick
    down = np.ceil(first * 0.96 / tick) * tick
    i = 0
    while i < n:
        if rng.random() < spec.locks:
            at = np.where(rng.random() < 0.5, up, down)
            for k in range(i, min(n, i + int(rng.integers(1, 5)))):
                open_[k] = close[k] = high[k] = low[k] = at[k]
            i += 4
        i += 1
    volume = np.where(rng.random(n) < 0.05, 0.0, rng.integers(1, 400, n).astype(float))
    high, low = np.minimum(high, up), np.maximum(low, down)
    open_, close = np.clip(open_, down, up), np.clip(close, down, up)
    return frame.assign(open=open_, close=close, high=np.maximum(high, np.maximum(open_, close)),
                        low=np.minimum(low, np.minimum(open_, close)), volume=volume,
                        limit_up=up, limit_down=down)  # fmt: skip


def baskets_override(instruments: tuple[str, ...]) -> str:
    """``portfolio.baskets=[...]``: one basket of 30% per instrument, in the default order."""
    ordered = [k for k in INSTRUMENTS if k in instruments]
    items = ", ".join(f'{{instrument = "{k}", capital_fraction = 0.3}}' for k in ordered)
    return f"portfolio.baskets=[{items}]"
