"""Tier-1 throughput: the whole-series form (``SignalGenerator.run``, backtests) on a long
series, and the per-bar cost of the one-bar-at-a-time form (``live().update``).

    .venv/bin/python bench/bench_tier1.py [--bars 1000000] [--live-bars 20000] [--repeat 3]

The bars are the real iron ore 5-minute file resampled to 15 minutes, tiled end to end
(each copy scaled to start where the previous one ended) up to the number of bars asked
for; where the real data folder is absent ($TWOTIER_REAL_DATA or ../shared/data/real), a
seeded random walk. The generator does not look at times, so the index is a plain
15-minute range. Target: 1,000,000 bars in under 1 second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from twotier.market.bars import read_bars
from twotier.market.resample import resample
from twotier.tier1.generator import IronOreIndicator

COLUMNS = ("open", "high", "low", "close", "volume")
TARGET_SECONDS_PER_MILLION = 1.0


def real_data_dir() -> Path:
    override = os.environ.get("TWOTIER_REAL_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def base_bars() -> tuple[pd.DataFrame, str]:
    """15-minute bars to tile, and where they come from."""
    path = real_data_dir() / "DCE.i.HOT.m5.csv"
    if path.is_file():
        loaded = read_bars(path, "DCE/i", label="end")
        bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
        return bars[list(COLUMNS)], f"{path.name} resampled to 15 minutes ({len(bars):,} bars)"
    rng = np.random.default_rng(7)
    n = 20_000
    close = 700 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.001, n)) * close
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.lognormal(9, 0.5, n).round(),
        }
    )
    return bars, f"a seeded random walk ({n:,} bars; real data not found)"


def tiled(base: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` bars: copies of ``base``, each scaled to open at the previous copy's close."""
    values = base[list(COLUMNS)].to_numpy(dtype=np.float64)
    copies = -(-n // len(values))
    first_open, last_close = values[0, 0], values[-1, 3]
    step = last_close / first_open  # price factor from one copy to the next
    factors = step ** np.arange(copies)
    prices = values[None, :, :4] * factors[:, None, None]
    volume = np.broadcast_to(values[None, :, 4:], (copies, len(values), 1))
    data = np.concatenate([prices, volume], axis=2).reshape(-1, 5)[:n]
    index = pd.date_range("2000-01-03 09:00", periods=n, freq="15min", tz="Asia/Shanghai")
    return pd.DataFrame(data, columns=list(COLUMNS), index=index)


def bench_run(bars: pd.DataFrame, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each timed ``run`` over all of ``bars``. (CPU time is
    the steadier figure on a machine that is busy with other work.)"""
    generator = IronOreIndicator()
    generator.run(bars.iloc[:5000])  # imports and first-call costs out of the timing
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        packages = generator.run(bars)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert len(packages) == len(bars)
    return wall, cpu


def bench_live(bars: pd.DataFrame) -> tuple[float, float]:
    """Wall-clock and CPU seconds of the one-bar-at-a-time form over every bar of ``bars``."""
    live = IronOreIndicator().live()
    rows = list(zip(bars.index, *(bars[c].to_numpy().tolist() for c in COLUMNS), strict=True))
    start, start_cpu = time.perf_counter(), time.process_time()
    for row in rows:
        live.update(*row)
    return time.perf_counter() - start, time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="whole-series bars")
    parser.add_argument("--live-bars", type=int, default=20_000, help="one-at-a-time bars")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the whole series")
    args = parser.parse_args()

    base, origin = base_bars()
    print(f"bars: {origin}, tiled")
    bars = tiled(base, args.bars)

    wall, cpu = bench_run(bars, args.repeat)
    best, median = min(wall), statistics.median(wall)
    per_million = best / len(bars) * 1e6
    verdict = "meets" if per_million < TARGET_SECONDS_PER_MILLION else "MISSES"
    print(f"whole series (run): {len(bars):,} bars, {len(wall)} runs")
    print(f"  wall: best {best:.3f} s, median {median:.3f} s; CPU: best {min(cpu):.3f} s")
    print(f"  {len(bars) / best:,.0f} bars/s (best), {len(bars) / median:,.0f} bars/s (median)")
    print(f"  {per_million:.3f} s per million bars: {verdict} the < 1 s target")

    live_bars = tiled(base, args.live_bars)
    seconds, cpu_seconds = bench_live(live_bars)
    print(f"one bar at a time (live().update): {len(live_bars):,} bars")
    print(
        f"  {seconds:.3f} s, {seconds / len(live_bars) * 1e6:.1f} us per bar "
        f"(CPU {cpu_seconds / len(live_bars) * 1e6:.1f} us)"
    )


if __name__ == "__main__":
    main()
