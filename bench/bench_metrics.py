"""Benchmark: ``compute_metrics`` alone (metrics.json's every figure) on the ten years of
tiled real bars (bench/tiled_data.py, built on first use), with a breakdown by part.

    .venv/bin/python bench/bench_metrics.py [--repeat 7] [--profile]
    PYTHONPATH=../other/src .venv/bin/python bench/bench_metrics.py   # another checkout

The backtest runs once in this process (not timed), as ``twotier backtest`` runs it on
the three files; then ``compute_metrics`` is timed ``--repeat`` times (best and median:
the machine's speed drifts, the best is the run least disturbed by the rest of it), and
each part of metrics.json once per repeat (best shown). ``--profile`` prints cProfile's
top functions of one more call. ``--dump FILE`` writes the metrics as JSON, to compare
two checkouts' figures; ``--save FILE`` pickles the backtest and ``--load FILE`` reads it
instead of running it (a trusted file of your own: pickle runs code).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pickle
import pstats
import statistics
import time
from pathlib import Path

import twotier
from tiled_data import ten_years
from twotier.analysis import drawdowns, excursions, metrics, periods, summary

PARTS = (  # (module, function): each call timed where compute_metrics makes it
    (summary, "portfolio_metrics"),
    (summary, "basket_metrics"),
    (summary, "bars_in_run"),
    (summary, "_benchmarks"),
    (summary, "_signal_quality"),
    (summary, "_sides"),
    (summary, "_sessions"),
    (summary, "trigger_tables"),
    (excursions, "excursions"),
    (periods, "monthly_rows"),
    (metrics, "daily_returns"),
    (drawdowns, "drawdowns"),
)


def timed(seconds: dict[str, list[float]], name: str, function):
    """``function`` with its time of each call added to ``seconds[name]``."""

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds.setdefault(name, []).append(time.perf_counter() - started)

    return wrapper


def best_of(repeat: int, call) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def breakdown(result, repeat: int) -> dict[str, float]:
    """Best time of each part, over ``repeat`` calls (calls of one run added up)."""
    per_call: dict[str, list[float]] = {}
    originals = {  # an older checkout may lack some
        (module, name): getattr(module, name) for module, name in PARTS if hasattr(module, name)
    }
    try:
        for _ in range(repeat):
            seconds: dict[str, list[float]] = {}
            for (module, name), function in originals.items():
                setattr(module, name, timed(seconds, name, function))
            summary.compute_metrics(result)
            for name, values in seconds.items():
                per_call.setdefault(name, []).append(sum(values))
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)
    return {name: min(values) for name, values in per_call.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--dump", type=Path, help="write the metrics as JSON to this file")
    parser.add_argument("--load", type=Path, help="the backtest pickled by --save, not run again")
    parser.add_argument("--save", type=Path, help="pickle the backtest to this file")
    args = parser.parse_args()
    if args.load:  # the same backtest for two checkouts (its classes are not in analysis/)
        result = pickle.loads(args.load.read_bytes())
    else:
        data = ten_years()  # built once into runs/bench-data (bench/tiled_data.py)
        print(f"data: {data.describe()}")
        result = twotier.backtest(bars=data.files("csv"))
    if args.save:
        args.save.write_bytes(pickle.dumps(result))
    print(
        f"ten tiled years: {len(result.equity):,} steps, {len(result.trades):,} trade rows, "
        f"{len(result.decisions):,} decisions"
    )
    summary.compute_metrics(result)  # warm: lazy imports, caches
    times, cpu = best_of(args.repeat, lambda: summary.compute_metrics(result))
    print(
        f"compute_metrics: best {min(times) * 1000:.1f} ms, "
        f"median {statistics.median(times) * 1000:.1f} ms ({args.repeat} calls); "
        f"CPU best {min(cpu) * 1000:.1f} ms, median {statistics.median(cpu) * 1000:.1f} ms"
    )
    print("best of each part (parts can hold others: daily_returns is called in several):")
    for name, seconds in breakdown(result, args.repeat).items():
        print(f"  {name:<20} {seconds * 1000:7.1f} ms")
    if args.dump:
        metrics = summary.compute_metrics(result)
        args.dump.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(summary.compute_metrics, result)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
