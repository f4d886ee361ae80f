"""Synthetic 15-minute bars for the bundled sample data: seeded, deterministic, made up.

The sample lets the system run end to end without a data vendor. It is NOT market data:
nothing in it happened, and a result obtained on it says nothing about a real market. It
has the shape of one (price levels, volatility, sessions, gaps, volume, open interest)
and, by design, far more of the set-ups Tier-1 trades than a real market has.

The model, per instrument, in log price (parameters: the fields of ``MarketModel``; the
three instruments' values: ``MODELS``):

- Time grid: the instrument's sessions on the trading days of the XSHG calendar, bars
  labelled by their start. A night session belongs to the next trading day and runs on
  the evening of the previous one (Friday night -> Monday), on the evenings the calendar
  gives a night (none on the eve of a holiday, none during the 2020 suspension).
- Noise: Student-t (5 degrees of freedom, cut at 6 standard deviations) moves scaled by
  ``daily_vol``, an intraday profile (the first half hour of the day and night sessions
  moves more, copper's hours after midnight less) and a daily factor: a slow log-normal
  AR(1) (``vol_of_vol``, ``vol_persistence``) times about ``shocks_per_year`` bursts of
  2-4x volatility that last 1-3 trading days and fade. Each session opens with a gap
  that grows with the time closed: small after the 10:15 break, larger after lunch,
  large after the evening break and overnight, larger still after a weekend or holiday.
  The noise mean-reverts very slowly (half-life ``noise_half_life_days``).
- Regimes: a chain of up / down / range episodes of whole trading days, on average
  ``trend_days`` and ``range_days`` long (geometric). A trend drifts ``trend_strength``
  daily volatilities per day (drawn per episode), spread over its bars. After a trend
  comes a range (70%) or another trend. A new trend's direction leans towards
  ``center_price`` (at ``level_band`` in log from it, 9 trends in 10 head back), and a
  trend ends before it carries the price two bands past it: years stay at plausible
  prices.
- Pull-backs: in a trend, on bars where TA-Lib's EMA 12/26/50 are in trend order and
  MACD is beyond its signal line, some closes move against the trend to just past the
  mean of the 19 closes before them (so past their 20-bar Bollinger middle), no further
  than keeps the EMAs in order and MACD beyond its signal: a sharp one-bar pull-back of
  at most ``max_pullback`` bar volatilities, one per ``pullback_spacing`` bars at most.
  The path goes on from the pulled-back close (the shift fades like the noise). These
  are the "pull-backs within trends on above-average volume" Tier-1 enters on: about
  0.2-0.35% of the bars of the real files in ``shared/data/real`` pass all five entry
  checks of one side, about 1.5-1.8% of this sample's.
- Volume: ``bar_volume`` (a mid-session day bar) times an intraday profile (U-shaped day
  session with a heavy open, a lighter night with a heavy open, lightest after
  midnight), a daily activity factor following the volatility, exp(``volume_return_link``
  * |z|) for the bar's standardised close-to-close move z (big moves, pull-backs
  included, trade more) and log-normal noise (``volume_noise``).
- Open interest: ``open_interest`` times a slow log-normal mean-reverting walk.
- Prices: rounded to the instrument's tick; high and low reach beyond open and close by
  exponential excursions. One continuous series per instrument, like a main contract
  spliced without rolls: no contract months, no price limits, no missing bars.

An instrument's random generator is seeded from (seed, instrument key), so its bars do
not depend on which other instruments are generated, or in which order. The same
arguments give the same bars and byte-identical Parquet files. The path depends on the
whole date range: the bars of a sub-range are not a slice of a longer generation.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import talib

from twotier.errors import CalendarError, ConfigError, DataError
from twotier.indicators.params import IndicatorParams
from twotier.market.calendar import TIMEZONE, TradingCalendar, default_calendar
from twotier.market.instruments import InstrumentSpec, get_instrument
from twotier.market.sample_files import (
    SAMPLE_END,
    SAMPLE_INSTRUMENTS,
    SAMPLE_SEED,
    SAMPLE_START,
    sample_file_name,
    sample_paths,
)
from twotier.market.sessions import Segment

BAR_MINUTES = 15
COLUMNS = ("open", "high", "low", "close", "volume", "open_interest", "trading_day")

NIGHT_OPEN = 21 * 60  # session clock minutes
DAY_OPEN, DAY_CLOSE = 9 * 60, 15 * 60
MIDNIGHT = 24 * 60


@dataclass(frozen=True)
class MarketModel:
    """Parameters of one instrument's synthetic market (see the module docstring)."""

    center_price: float
    daily_vol: float  # standard deviation of daily log returns, before trends and shocks
    bar_volume: float  # volume of a mid-session day bar on an ordinary day
    open_interest: float
    trend_days: float = 12.0
    range_days: float = 6.0
    trend_strength: tuple[float, float] = (0.25, 0.7)  # drift per day, in daily vols
    level_band: float = 0.15  # log distance from the centre at which 90% of trends head back
    noise_half_life_days: float = 60.0
    vol_of_vol: float = 0.25
    vol_persistence: float = 0.97
    shocks_per_year: float = 3.0
    max_pullback: float = 5.0  # bar volatilities
    pullback_spacing: int = 30  # bars
    volume_return_link: float = 0.35
    volume_noise: float = 0.3
    night_volume: float = 0.8  # night bars relative to day bars, apart from the open
    open_interest_drift: float = 0.003  # standard deviation of its log change per bar


MODELS: dict[str, MarketModel] = {
    "DCE/i": MarketModel(
        center_price=780.0,
        daily_vol=0.019,
        bar_volume=25_000,
        open_interest=800_000,
        level_band=0.12,
    ),
    "SHFE/cu": MarketModel(
        center_price=68_000.0,
        daily_vol=0.011,
        bar_volume=3_500,
        open_interest=180_000,
        level_band=0.08,
    ),
    "DCE/m": MarketModel(
        center_price=3_350.0,
        daily_vol=0.010,
        bar_volume=35_000,
        open_interest=1_500_000,
        level_band=0.08,
    ),
}


# ---------------------------------------------------------------------------- time grid


@dataclass(frozen=True)
class BarGrid:
    """The bars to generate, in time order, with what the model needs to know of each."""

    times: np.ndarray  # datetime64[us], local time, bar start
    trading_day: np.ndarray  # datetime64[D]
    day: np.ndarray  # index of the bar's trading day
    session_minute: np.ndarray  # session clock minute of the bar start
    night: np.ndarray
    closed_hours: np.ndarray  # hours since the previous bar ended (0 inside a segment)
    n_days: int


def _day_template(segments: tuple[Segment, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Session minutes of one trading day's bar starts, night first, and which are night."""
    ordered = sorted(segments, key=lambda s: (not s.night, s.start))
    starts = [np.arange(s.start, s.end - BAR_MINUTES + 1, BAR_MINUTES) for s in ordered]
    nights = [np.full(len(m), s.night) for m, s in zip(starts, ordered, strict=True)]
    return np.concatenate(starts), np.concatenate(nights)


def bar_grid(spec: InstrumentSpec, days: np.ndarray, calendar: TradingCalendar) -> BarGrid:
    """Every bar of ``spec``'s sessions on the trading days ``days``."""
    minutes, nights = _day_template(spec.sessions.segments)  # today's hours
    pos = calendar.index_of(days)
    previous = calendar.days[np.maximum(pos - 1, 0)]
    has_night = calendar.has_night(previous) & (pos > 0)  # the evening before each day
    evening = np.where(nights[None, :], previous[:, None], days[:, None])
    offsets = (minutes * 60_000_000).astype("timedelta64[us]")
    times = evening.astype("datetime64[us]") + offsets[None, :]
    keep = ~nights[None, :] | has_night[:, None]
    day_index, slot = np.nonzero(keep)  # row-major: time order
    times = times[keep]
    ended = np.concatenate([[times[0] - np.timedelta64(10, "h")], times[:-1]])
    ended = ended + np.timedelta64(BAR_MINUTES, "m")
    return BarGrid(
        times=times,
        trading_day=days[day_index],
        day=day_index,
        session_minute=minutes[slot],
        night=nights[slot],
        closed_hours=(times - ended).astype("timedelta64[m]").astype(np.int64) / 60.0,
        n_days=len(days),
    )


# ------------------------------------------------------------------------------ helpers


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """x[t] = phi * x[t-1] + shocks[t] from x[-1] = 0, with no loop per element: within a
    block x = phi^t * cumsum(shocks / phi^t), blocks short enough for phi^-t to stay
    below e^40, the state carried from block to block."""
    if phi <= 0.0:
        return np.asarray(shocks, dtype=float).copy()
    block = int(40.0 / -np.log(phi)) if phi < 1.0 else len(shocks)
    block = max(1, min(block, len(shocks)))
    powers = np.exp(np.arange(1, block + 1) * np.log(phi))
    out = np.empty(len(shocks))
    carry = 0.0
    for lo in range(0, len(shocks), block):
        p = powers[: len(shocks[lo : lo + block])]
        x = (np.cumsum(shocks[lo : lo + block] / p) + carry) * p
        out[lo : lo + len(p)] = x
        carry = x[-1]
    return out


def _student_t(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fat-tailed moves of about unit variance, cut at 6 (the exchanges' price limits
    stop the wildest)."""
    return np.clip(rng.standard_t(5, n) * np.sqrt(3 / 5), -6.0, 6.0)


def _previous(values: np.ndarray, first: float) -> np.ndarray:
    return np.concatenate([[first], values[:-1]])


# ---------------------------------------------------------------------- intraday shapes


def _move_profile(grid: BarGrid) -> np.ndarray:
    """Relative volatility of a bar's own move by time of day: the first half hour of the
    day and night sessions moves more, after lunch a little more, late night less."""
    m = grid.session_minute
    since_open = m - np.where(grid.night, NIGHT_OPEN, DAY_OPEN)
    shape = 1.0 + 0.6 * np.exp(-since_open / 20.0)
    shape += np.where(m == 13 * 60 + 30, 0.3, 0.0)
    late = (m >= 23 * 60) & (m < MIDNIGHT)
    return shape * np.where(late, 0.85, 1.0) * np.where(m >= MIDNIGHT, 0.7, 1.0)


def _gap_profile(grid: BarGrid) -> np.ndarray:
    """Gap at a bar's open, in bar volatilities, by how long the market was closed."""
    hours = grid.closed_hours
    gap = np.select(
        [hours <= 0, hours <= 1, hours <= 3, hours <= 8, hours <= 14],
        [0.0, 0.2, 0.5, 2.5, 3.0],
        default=3.0 * np.sqrt(np.minimum(hours / 24.0, 4.0)),
    )
    return gap


def _volume_profile(grid: BarGrid, model: MarketModel) -> np.ndarray:
    """Relative volume of a bar: U-shaped day session with a heavy open, a lift after
    lunch; a lighter night with a heavy open, lighter after 23:00, lightest after
    midnight."""
    m = grid.session_minute
    last_bar = DAY_CLOSE - BAR_MINUTES
    day = 1.0 + 1.6 * np.exp(-(m - DAY_OPEN) / 15.0) + 0.9 * np.exp(-(last_bar - m) / 20.0)
    day += np.where(m == 13 * 60 + 30, 0.5, 0.0) + np.where(m == 10 * 60 + 30, 0.2, 0.0)
    night = model.night_volume * (0.9 + 1.6 * np.exp(-(m - NIGHT_OPEN) / 15.0))
    night *= np.where(m >= 23 * 60, 0.6, 1.0) * np.where(m >= MIDNIGHT, 0.7, 1.0)
    return np.where(grid.night, night, day)


# ------------------------------------------------------------------------- daily layers


def _daily_volatility(n_days: int, model: MarketModel, rng: np.random.Generator) -> np.ndarray:
    """Daily volatility multiplier: a slow log-normal AR(1) times fading shocks of 2-4x."""
    phi, s = model.vol_persistence, model.vol_of_vol
    level = np.exp(_ar1(rng.standard_normal(n_days) * s * np.sqrt(1 - phi**2), phi) - s**2)
    n_shocks = rng.poisson(model.shocks_per_year * n_days / 244)
    starts = rng.integers(0, n_days, n_shocks)
    lengths = rng.integers(1, 4, n_shocks)
    sizes = rng.uniform(2.0, 4.0, n_shocks)
    shock = np.ones(n_days)
    for start, length, size in zip(starts, lengths, sizes, strict=True):
        fading = size ** (1 - np.arange(length) / length)
        end = min(start + length, n_days)
        shock[start:end] = np.maximum(shock[start:end], fading[: end - start])
    return level * shock


def _regimes(
    level_at_day: np.ndarray, model: MarketModel, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Trend direction (+1, -1, or 0 for a range) and drift (log per day) of each trading
    day. ``level_at_day`` is the log distance from the centre that the noise alone puts
    each day at; trends lean back towards the centre."""
    n_days = len(level_at_day)
    direction = np.zeros(n_days)
    drift = np.zeros(n_days)
    state, moved, day = 0, 0.0, 0
    while day < n_days:
        if state == 0 or rng.random() < 0.3:
            distance = (level_at_day[day] + moved) / model.level_band
            p_up = np.clip(0.5 - 0.4 * distance, 0.05, 0.95)
            state = 1 if rng.random() < p_up else -1
        else:
            state = 0
        mean_days = model.range_days if state == 0 else model.trend_days
        length = min(int(rng.geometric(1.0 / mean_days)), n_days - day)
        per_day = state * rng.uniform(*model.trend_strength) * model.daily_vol
        if state:  # a trend runs out before it carries the price far past the band
            distance = level_at_day[day] + moved
            headroom = 2.0 * model.level_band - state * distance
            length = max(min(length, int(headroom / abs(per_day))), 2)
        direction[day : day + length] = state
        drift[day : day + length] = per_day
        moved += per_day * length
        day += length
    return direction, drift


# ----------------------------------------------------------------------------- the path


def _noise(grid: BarGrid, model: MarketModel, vol_day: np.ndarray, rng: np.random.Generator):
    """Log open and close of the noise alone (around 0), and each bar's volatility."""
    n = len(grid.times)
    move_shape, gap_shape = _move_profile(grid), _gap_profile(grid)
    per_day = np.bincount(grid.day, weights=move_shape**2 + gap_shape**2, minlength=grid.n_days)
    sigma = model.daily_vol / np.sqrt(np.median(per_day)) * vol_day[grid.day]
    steps = np.empty(2 * n)  # half-steps: the gap to each open, then the bar's move
    steps[0::2] = sigma * gap_shape * _student_t(rng, n)
    steps[1::2] = sigma * move_shape * _student_t(rng, n)
    bars_per_day = n / grid.n_days
    kappa = np.log(2) / (model.noise_half_life_days * bars_per_day * 2)
    steps[0] += rng.normal(0.0, 0.5 * model.level_band)
    walk = _ar1(steps, 1.0 - kappa)
    return walk[0::2], walk[1::2], sigma * move_shape


def _room_against(close: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The largest relative move of each close against the trend ``d`` that keeps the
    EMAs in trend order and MACD beyond its signal line (NaN while they warm up). Moving
    the last close by x moves an EMA of smoothing a by a*x, MACD by (a12-a26)*x and MACD
    minus its signal by (1-a9)*(a12-a26)*x."""
    ip = IndicatorParams()
    fast, slow, trend = (talib.EMA(close, k) for k in (ip.ema_fast, ip.ema_slow, ip.ema_trend))
    macd, _, hist = talib.MACD(close, ip.macd_fast, ip.macd_slow, ip.macd_signal)
    a_fast, a_slow, a_trend = (2 / (k + 1) for k in (ip.ema_fast, ip.ema_slow, ip.ema_trend))
    a_hist = (1 - 2 / (ip.macd_signal + 1)) * (a_fast - a_slow)
    limits = [
        d * (fast - slow) / (a_fast - a_slow),
        d * (slow - trend) / (a_slow - a_trend),
        d * macd / (a_fast - a_slow),
        d * hist / a_hist,
    ]
    return np.minimum.reduce(limits) / close


def _spaced_picks(ok: np.ndarray, spacing: int, rng: np.random.Generator) -> np.ndarray:
    """At most one candidate, drawn at random, in the first half of each block of
    ``spacing`` bars (blocks at a random offset): picks at least half a spacing apart."""
    offset = int(rng.integers(0, spacing))
    priority = np.concatenate([np.full(offset, -1.0), np.where(ok, rng.random(len(ok)), -1.0)])
    priority = np.concatenate([priority, np.full(-len(priority) % spacing, -1.0)])
    blocks = priority.reshape(-1, spacing)
    blocks[:, spacing // 2 :] = -1.0
    best = blocks.argmax(axis=1)
    chosen = blocks[np.arange(len(blocks)), best] >= 0
    return (np.arange(len(blocks)) * spacing + best - offset)[chosen]


def _pullbacks(
    log_close: np.ndarray,
    direction: np.ndarray,
    bar_sigma: np.ndarray,
    taken: np.ndarray,
    model: MarketModel,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One round of pull-backs: the log move of each pulled-back close (0 elsewhere) and
    the bars now holding a pull-back.

    A close in a trend (``direction``) moves against it to a little past the mean of the
    19 closes before it, so past its own 20-bar mean (Bollinger's middle), if it is not
    there yet, the move stays within ``max_pullback`` bar volatilities and it keeps the
    EMAs and MACD on the trend's side. Not just before an earlier pick, which it would
    spoil (each round sees the picks of the rounds before it)."""
    close = np.exp(log_close)
    mean_before = _previous(talib.SMA(close, IndicatorParams().bb_period - 1), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        room = _room_against(close, direction)
        margin = rng.uniform(0.4, 1.2, len(close)) * bar_sigma
        size = direction * (close - mean_before) / close + margin
        ok = (direction != 0) & (size > margin) & (size < model.max_pullback * bar_sigma)
        ok &= (room > 1.1 * size) & ~taken & ~_followed_by(taken, model.pullback_spacing)
    picks = _spaced_picks(ok, model.pullback_spacing, rng)
    moves = np.zeros(len(close))
    moves[picks] = np.log1p(-direction[picks] * size[picks])
    taken = taken.copy()
    taken[picks] = True
    return moves, taken


def _followed_by(marks: np.ndarray, window: int) -> np.ndarray:
    """Whether a mark lies in [t, t + window) for each t."""
    count = np.concatenate([np.cumsum(marks[::-1])[::-1], [0]])
    ahead = np.minimum(np.arange(len(marks)) + window, len(marks))
    return (count[: len(marks)] - count[ahead]) > 0


PULLBACK_ROUNDS = 10  # each round sees the pull-backs placed before it


def _log_prices(grid: BarGrid, model: MarketModel, rng: np.random.Generator):
    """Log open and close of every bar, each bar's volatility and the daily volatility."""
    vol_day = _daily_volatility(grid.n_days, model, rng)
    noise_open, noise_close, bar_sigma = _noise(grid, model, vol_day, rng)
    first_bar = np.searchsorted(grid.day, np.arange(grid.n_days))
    direction, drift = _regimes(noise_open[first_bar], model, rng)
    bars_per_day = np.bincount(grid.day, minlength=grid.n_days)
    trend = np.cumsum((drift / bars_per_day)[grid.day])  # drift accrues during bars
    log_open = np.log(model.center_price) + noise_open + _previous(trend, 0.0)
    log_close = np.log(model.center_price) + noise_close + trend
    side = direction[grid.day]
    taken = np.zeros(len(log_close), dtype=bool)
    fade = 0.5 ** (grid.n_days / (model.noise_half_life_days * len(log_close)))
    for _ in range(PULLBACK_ROUNDS):
        moves, taken = _pullbacks(log_close, side, bar_sigma, taken, model, rng)
        carried = _ar1(moves, fade)  # the path goes on from there; fades like the noise
        log_open += _previous(carried, 0.0)
        log_close += carried
    return log_open, log_close, bar_sigma, vol_day


# -------------------------------------------------------------------------------- bars


def _on_tick(prices: np.ndarray, tick: float) -> np.ndarray:
    return np.round(prices / tick) * tick


def _ohlc(log_open, log_close, bar_sigma, tick: float, rng: np.random.Generator):
    n = len(log_open)
    opens, closes = _on_tick(np.exp(log_open), tick), _on_tick(np.exp(log_close), tick)
    top = np.maximum(log_open, log_close) + rng.exponential(0.45, n) * bar_sigma
    bottom = np.minimum(log_open, log_close) - rng.exponential(0.45, n) * bar_sigma
    highs = np.maximum(_on_tick(np.exp(top), tick), np.maximum(opens, closes))
    lows = np.minimum(_on_tick(np.exp(bottom), tick), np.minimum(opens, closes))
    return opens, highs, np.maximum(lows, tick), closes


def _volume(grid, model, log_open, log_close, bar_sigma, vol_day, rng) -> np.ndarray:
    n = len(log_close)
    gap_sigma = bar_sigma * _gap_profile(grid) / _move_profile(grid)
    z = (log_close - _previous(log_close, log_open[0])) / np.hypot(bar_sigma, gap_sigma)
    activity = vol_day**0.6 * np.exp(_ar1(rng.normal(0, 0.05, grid.n_days), 0.9))
    volume = (
        model.bar_volume
        * _volume_profile(grid, model)
        * activity[grid.day]
        * np.exp(model.volume_return_link * (np.minimum(np.abs(z), 5.0) - 0.7))  # 0.7: typical |z|
        * np.exp(rng.normal(-0.5 * model.volume_noise**2, model.volume_noise, n))
    )
    return np.maximum(np.round(volume), 1.0)


def _open_interest(n: int, model: MarketModel, rng: np.random.Generator) -> np.ndarray:
    walk = _ar1(rng.normal(0, model.open_interest_drift, n), 1 - 1 / 2000)
    return np.round(model.open_interest * np.exp(walk))


def generate_sample(
    instrument: InstrumentSpec | str,
    start: str | dt.date,
    end: str | dt.date,
    seed: int = SAMPLE_SEED,
    *,
    model: MarketModel | None = None,
    calendar: TradingCalendar | None = None,
) -> pd.DataFrame:
    """Synthetic 15-minute bars of one instrument on the trading days ``start`` to ``end``
    (both included), in the loader's format: index ``time`` = bar start (Asia/Shanghai),
    columns open, high, low, close, volume, open_interest, trading_day."""
    spec = instrument if isinstance(instrument, InstrumentSpec) else get_instrument(instrument)
    model = model or _model_for(spec.key)
    calendar = calendar or default_calendar()
    _check_seed(seed)
    grid = bar_grid(spec, trading_days(start, end, calendar), calendar)
    rng = np.random.default_rng([int(seed), zlib.crc32(spec.key.encode("utf-8"))])
    log_open, log_close, bar_sigma, vol_day = _log_prices(grid, model, rng)
    opens, highs, lows, closes = _ohlc(log_open, log_close, bar_sigma, float(spec.tick), rng)
    volume = _volume(grid, model, log_open, log_close, bar_sigma, vol_day, rng)
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": volume,
            "open_interest": _open_interest(len(closes), model, rng),
            "trading_day": grid.trading_day.astype("datetime64[s]"),
        },
        index=pd.DatetimeIndex(grid.times, name="time").tz_localize(TIMEZONE),
    )
    return frame


def _model_for(key: str) -> MarketModel:
    try:
        return MODELS[key]
    except KeyError:
        raise ConfigError(
            f"no sample model for instrument {key!r}; there are models for "
            f"{', '.join(MODELS)} (pass model=MarketModel(...) for another)"
        ) from None


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"the seed must be a whole number >= 0, not {seed!r}")


def _parse_date(value: str | dt.date, what: str) -> np.datetime64:
    if isinstance(value, dt.date):  # datetime and pandas Timestamp included
        return np.datetime64(value.strftime("%Y-%m-%d"), "D")
    try:
        return np.datetime64(dt.date.fromisoformat(str(value).strip()), "D")
    except ValueError:
        raise CalendarError(f"{what} date {value!r} is not a date (expected YYYY-MM-DD)") from None


def trading_days(
    start: str | dt.date, end: str | dt.date, calendar: TradingCalendar | None = None
) -> np.ndarray:
    """The trading days from ``start`` to ``end``, both included, or a CalendarError."""
    calendar = calendar or default_calendar()
    first, last = _parse_date(start, "start"), _parse_date(end, "end")
    if last < first:
        raise CalendarError(f"end date {last} is before start date {first}")
    if first < calendar.first or last > calendar.last:
        raise CalendarError(
            f"dates {first} to {last} are outside the trading calendar ({calendar.source}: "
            f"{calendar.first} to {calendar.last})"
        )
    days = calendar.between(first, last)
    if len(days) == 0:
        raise CalendarError(f"no trading day from {first} to {last}")
    return days


# ---------------------------------------------------------------------- bundled files


@dataclass(frozen=True)
class WrittenSample:
    """One file written by ``write_sample``."""

    instrument: str
    path: Path
    rows: int
    trading_days: int
    first_bar: pd.Timestamp
    last_bar: pd.Timestamp
    first_day: pd.Timestamp
    last_day: pd.Timestamp


# Byte-stream-split floats and delta-coded times: a third of the plain zstd size.
_PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 19,
    "use_dictionary": ["trading_day"],
    "column_encoding": {
        "time": "DELTA_BINARY_PACKED",
        **dict.fromkeys(COLUMNS[:-1], "BYTE_STREAM_SPLIT"),
    },
}


def write_sample_file(frame: pd.DataFrame, path: str | Path) -> None:
    """Write bars as zstd Parquet, atomically, with ``time`` as a tz-aware column (so
    that ``read_bars`` and ``twotier data check`` read the file as it is)."""
    from twotier.io import atomic_path

    with atomic_path(path) as tmp:
        frame.reset_index().to_parquet(tmp, index=False, **_PARQUET_OPTIONS)
        tmp.chmod(0o644)  # atomic_path's temporary file is private (0600); data is not


def read_sample_file(path: str | Path) -> pd.DataFrame:
    """Bars written by ``write_sample_file``, exactly as they were generated."""
    frame = pd.read_parquet(path).set_index("time")
    # Parquet has no second resolution: trading_day comes back in ms.
    frame["trading_day"] = frame["trading_day"].astype("datetime64[s]")
    return frame


def write_sample(
    out_dir: str | Path,
    start: str | dt.date = SAMPLE_START,
    end: str | dt.date = SAMPLE_END,
    seed: int = SAMPLE_SEED,
    instruments: tuple[str, ...] = SAMPLE_INSTRUMENTS,
) -> dict[str, WrittenSample]:
    """Generate the sample bars and write one Parquet file per instrument into
    ``out_dir`` (``DCE_i.parquet`` ...). Bad dates fail before anything is written."""
    trading_days(start, end)
    _check_seed(seed)
    written = {}
    for key in instruments:
        frame = generate_sample(key, start, end, seed)
        path = Path(out_dir) / sample_file_name(key)
        write_sample_file(frame, path)
        days = frame["trading_day"]
        written[key] = WrittenSample(
            instrument=key,
            path=path,
            rows=len(frame),
            trading_days=days.nunique(),
            first_bar=frame.index[0],
            last_bar=frame.index[-1],
            first_day=days.iloc[0],
            last_day=days.iloc[-1],
        )
    return written


def load_sample(key: str) -> pd.DataFrame:
    """The bundled bars of one instrument: equal to
    ``generate_sample(key, SAMPLE_START, SAMPLE_END, SAMPLE_SEED)``."""
    paths = sample_paths()
    if key not in paths:
        raise ConfigError(
            f"no bundled sample for instrument {key!r}; samples: {', '.join(SAMPLE_INSTRUMENTS)}"
        )
    if not paths[key].exists():
        raise DataError(str(paths[key]), "bundled sample file missing; run `twotier sample`")
    return read_sample_file(paths[key])


__all__ = [
    "MODELS",
    "SAMPLE_END",
    "SAMPLE_INSTRUMENTS",
    "SAMPLE_SEED",
    "SAMPLE_START",
    "MarketModel",
    "WrittenSample",
    "bar_grid",
    "generate_sample",
    "load_sample",
    "read_sample_file",
    "sample_paths",
    "trading_days",
    "write_sample",
    "write_sample_file",
]
