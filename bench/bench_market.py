"""Benchmark: the cost of the market rules (RULES.md 10). Ten years of the sample's three
instruments through Tier-1 and Tier-2 with price limits, volume fills and forced
liquidation all on (the default) and all off, interleaved in one sitting so that the
machine's drift hits both alike.

    .venv/bin/python bench/bench_market.py [--years 10] [--repeat 5]

Prints the best Tier-1 + Tier-2 time of each and their ratio (issue 14's target: on
under 1.3 x off), and what the rules did in the run with them on.
"""

from __future__ import annotations

import argparse
import time

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.market.sample import SAMPLE_INSTRUMENTS, SAMPLE_SEED, generate_sample

OFF = ["market.price_limits=false", "market.volume_fills=false", "market.forced_liquidation=false"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    end_year = 2025
    start = f"{end_year - args.years + 1}-01-01"
    bars = {
        k: generate_sample(k, start, f"{end_year}-12-31", SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }
    configs = {"on": load_config(), "off": load_config(overrides=OFF)}
    best = {name: float("inf") for name in configs}
    results = {}
    for _ in range(args.repeat):
        for name, config in configs.items():
            t0 = time.perf_counter()
            results[name] = run_tier2(generate_signals(bars, config), config)
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"{args.years} years, {sum(len(b) for b in bars.values()):,} bars, best of {args.repeat}")
    for name in configs:
        print(f"market rules {name:>3}: Tier-1 + Tier-2 {best[name]:.3f} s")
    print(f"on / off: {best['on'] / best['off']:.2f}x (target < 1.3x)")
    print(f"with the rules on: {results['on'].summary['market']}")


if __name__ == "__main__":
    main()
