"""Benchmark: ten years of 15-minute bars for DCE/i, SHFE/cu and DCE/m through Tier-1 and
Tier-2 (event-driven engine), default configuration.

    .venv/bin/python bench/bench_backtest.py [--years 10] [--repeat 3] [--every-step]
    .venv/bin/python bench/bench_backtest.py --tiled     # ten years of tiled real bars

Prints the time of each part and steps per second. Bars are made by the sample generator
(``twotier.market.sample``), or with ``--tiled`` read from the ten-year data set of real
bars tiled over 2016-2025 (``bench/tiled_data.py``, built once); making or reading them
is not timed. The sample's bars have several times the set-ups of real markets, so the
two measure the engine at different densities of events.
"""

from __future__ import annotations

import argparse
import time

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.engine.inputs import Environment, load_bar_files
from twotier.market.sample import SAMPLE_INSTRUMENTS, SAMPLE_SEED, generate_sample
from twotier.run.writer import write_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every-step", action="store_true", help="also time the every-step loop")
    parser.add_argument("--write", metavar="DIR", help="also time writing the run folder")
    parser.add_argument("--tiled", action="store_true", help="ten years of tiled real bars")
    args = parser.parse_args()

    config = load_config()
    bars = tiled_bars(config) if args.tiled else sample_bars(args.years)
    total_bars = sum(len(b) for b in bars.values())
    counts = ", ".join(f"{k} {len(v):,}" for k, v in bars.items())
    what = "tiled real bars" if args.tiled else f"{args.years} years"
    print(f"{what}, {total_bars:,} bars ({counts})")

    best = {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        packages = generate_signals(bars, config)
        t1 = time.perf_counter()
        result = run_tier2(packages, config)
        t2 = time.perf_counter()
        for name, value in (("tier1", t1 - t0), ("tier2", t2 - t1), ("total", t2 - t0)):
            best[name] = min(best.get(name, float("inf")), value)
    steps = result.summary["steps"]
    print(f"Tier-1 (3 generators, whole series): {best['tier1']:.3f} s")
    print(
        f"Tier-2 (event-driven engine):        {best['tier2']:.3f} s  ({steps:,} steps, "
        f"{steps / best['tier2']:,.0f} steps/s)"
    )
    print(f"Tier-1 + Tier-2:                     {best['total']:.3f} s  (best of {args.repeat})")
    print(
        f"trades {result.summary['trades']:,}, decisions {len(result.decisions):,}, "
        f"final PV {result.summary['final_pv']:,.2f}"
    )
    if args.write:
        t0 = time.perf_counter()
        write_run(result, args.write)
        print(f"writing the run folder:              {time.perf_counter() - t0:.3f} s")
    if args.every_step:
        t0 = time.perf_counter()
        run_tier2(packages, config, every_step=True)
        elapsed = time.perf_counter() - t0
        rate = steps / elapsed
        print(f"Tier-2, every step (reference loop): {elapsed:.3f} s  ({rate:,.0f} steps/s)")


def sample_bars(years: int) -> dict:
    end_year = 2025
    start = f"{end_year - years + 1}-01-01"
    return {
        k: generate_sample(k, start, f"{end_year}-12-31", SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }


def tiled_bars(config) -> dict:
    """The ten-year tiled data set, read and validated as a backtest reads bar files."""
    try:
        from tiled_data import ten_years  # bench/tiled_data.py
    except ImportError:
        raise SystemExit("--tiled needs bench/tiled_data.py (the ten-year data set)") from None
    data = ten_years()
    print(data.describe())
    env = Environment.from_config(config)
    return {k: v.bars for k, v in load_bar_files(data.files("csv"), config, env).items()}


if __name__ == "__main__":
    main()
