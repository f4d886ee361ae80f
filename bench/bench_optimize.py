"""Benchmark: a 200-set random sweep over two years of 15-minute bars of DCE/i, SHFE/cu and
DCE/m (the sample generator) on a local Dask cluster with 1 and 2 worker processes, and
the same sweep with Tier-1 recomputed for every set instead of shared.

    .venv/bin/python bench/bench_optimize.py [--sets 200] [--years 2] [--workers 1 2]

Prints parameter sets per second (the base configuration runs too: sets + 1 backtests),
the Tier-2 runs and the tasks they were batched into, the workers' seconds by kind of
task (Dask's task stream) and the largest peak resident memory of a worker. Cluster
start-up and making the bars are not timed; scattering the bars, Tier-1, Tier-2 and
writing each result file are. Every sweep writes into a fresh temporary folder, so
nothing is resumed. Wall times move with whatever else the machine runs (the load average
is printed).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from distributed import get_task_stream

from twotier.config import load_config
from twotier.engine.backtest import SharedTapes, generate_signals, run_tier2
from twotier.market.sample import SAMPLE_INSTRUMENTS, SAMPLE_SEED, generate_sample
from twotier.optimize.cluster import dask_client
from twotier.optimize.space import parse_space
from twotier.optimize.sweep import SweepRequest, plan_sweep, run_sweep

END_YEAR = 2025


def space(sets: int) -> dict:
    """Two Tier-2 keys drawn uniformly, the leverage mode, and three Tier-1 volume ratios
    (so three distinct Tier-1 configurations: nine Tier-1 tasks when shared)."""
    return {
        "search": {"method": "random", "seed": 1, "samples": sets},
        "space": {
            "sizing.min_conviction": {"random": {"low": 0.2, "high": 0.45}},
            "exits.stop_loss_above": {"random": {"low": 0.005, "high": 0.02}},
            "sizing.leverage_mode": {"grid": ["smart", "fixed"]},
            "tier1.checks.volume_ratio": {"grid": [1.1, 1.2, 1.3]},
        },
    }


def timed_sweep(request: SweepRequest, workers: int, share_tier1: bool) -> tuple:
    """Wall time of the sweep, its result, and the workers' seconds by task kind."""
    plan = plan_sweep(request)
    with dask_client(workers=workers) as client, tempfile.TemporaryDirectory() as out:
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            result = run_sweep(request, client, out, plan=plan, share_tier1=share_tier1)
            elapsed = time.perf_counter() - start
        spent = worker_seconds(stream.data)
        spent["peak_mb"] = max(client.run(peak_memory_mb).values())
        return elapsed, result, spent


def peak_memory_mb() -> float:
    """The calling process's peak resident memory (run on each worker)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_seconds(tasks: list[dict]) -> dict[str, float]:
    """Seconds the workers spent computing Tier-1 and Tier-2 tasks, and transferring data:
    less disturbed than wall time by whatever else the machine runs."""
    spent = {"tier1": 0.0, "tier2": 0.0, "transfer": 0.0}
    for task in tasks:
        kind = "tier1" if str(task["key"]).startswith("tier1-") else "tier2"
        for part in task["startstops"]:
            name = kind if part["action"] == "compute" else "transfer"
            spent[name] += part["stop"] - part["start"]
    return spent


def describe(workers: int, label: str, elapsed: float, runs: int, result, spent) -> str:
    stats = result.stats
    return (
        f"{workers} worker(s), Tier-1 {label}: {elapsed:6.1f} s  {runs / elapsed:5.2f} sets/s  "
        f"({stats.tier1_tasks} Tier-1 tasks {spent['tier1']:.1f} s, {stats.tier2_runs} "
        f"Tier-2 runs in {stats.tier2_tasks} tasks {spent['tier2']:.1f} s, "
        f"transfers {spent['transfer']:.1f} s; worker peak {spent['peak_mb']:.0f} MB)"
    )


def in_process(bars, request: SweepRequest, count: int = 5) -> tuple[float, float]:
    """Seconds per set without Dask: Tier-1 once, Tier-2 per set as a sweep runs it (no
    decision log), one process; each set making its own tapes, and the sets sharing them
    (as a batch does)."""
    config = load_config()
    packages = generate_signals(bars, config)
    sets = [load_config(config, values.overrides) for values in plan_sweep(request).sets]
    sets = sets[1 : count + 1]
    seconds = []
    for shared in (None, SharedTapes()):
        start = time.perf_counter()
        for each in sets:
            run_tier2(packages, each, shared=shared, decision_log=False)
        seconds.append((time.perf_counter() - start) / count)
    return seconds[0], seconds[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=200)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    first = f"{END_YEAR - args.years + 1}-01-01"
    bars = {
        k: generate_sample(k, first, f"{END_YEAR}-12-31", SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }
    counts = ", ".join(f"{k} {len(v):,}" for k, v in bars.items())
    request = SweepRequest(parse_space(space(args.sets)), bars, load_config())
    runs = len(plan_sweep(request).sets)
    print(f"{args.years} years of bars ({counts}); {runs - 1} parameter sets + the base")
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}; {os.cpu_count()} CPUs")
    alone, shared = in_process(bars, request)
    print(
        f"in one process, no Dask (Tier-2 only): {alone:.3f} s per set alone, "
        f"{shared:.3f} s sharing the tapes"
    )

    shared = {}
    for workers in args.workers:
        elapsed, result, spent = timed_sweep(request, workers, share_tier1=True)
        shared[workers] = elapsed, spent
        print(describe(workers, "shared ", elapsed, runs, result, spent))
    workers = max(args.workers)
    elapsed, result, spent = timed_sweep(request, workers, share_tier1=False)
    print(describe(workers, "per set", elapsed, runs, result, spent))
    wall, work = shared[workers]
    # Tier-2 work is the same either way (its seconds vary with the machine's other load):
    # what sharing saves is Tier-1 computation and moving packages between workers.
    saved = spent["tier1"] + spent["transfer"] - work["tier1"] - work["transfer"]
    unshared = spent["tier1"] + spent["tier2"] + spent["transfer"]
    print(
        f"sharing Tier-1 saves {saved:.1f} s of worker time, "
        f"{saved / unshared:.0%} of the unshared sweep's "
        f"(wall time {wall:.1f} s shared against {elapsed:.1f} s per set)"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
