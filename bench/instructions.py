"""Instructions of Tier-2 under callgrind: the comparison that holds on a busy machine
(wall time moves by tens of percent with other jobs; instruction counts by well under 1%).

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.setup \
        .venv/bin/python bench/instructions.py setup [--years 2 | --tiled] [--sets 1]
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.run \
        .venv/bin/python bench/instructions.py run [--years 2 | --tiled] [--sets 1]

``run``'s "Collected" count minus ``setup``'s (the same script stopped just before
Tier-2) is ``run_tier2``'s. ``--sets N`` runs N parameter sets (the default configuration
with other entry thresholds and stops) one after the other sharing their tapes, as a
sweep's batch does; ``--alone`` makes each its own; ``--as-sweep`` runs them as a sweep
does, without the decision log. Compare two checkouts in one sitting with
``PYTHONPATH=<other checkout>/src``.
"""

from __future__ import annotations

import argparse

from bench_backtest import sample_bars, tiled_bars
from twotier.config import load_config
from twotier.engine.backtest import SharedTapes, generate_signals, run_tier2

try:
    from twotier.engine.tape import BarDays
except ImportError:  # a tree from before Tier-2 took the bars' days (compared with one)
    BarDays = None

VARIANTS = [  # (sizing.min_conviction, exits.stop_loss_above)
    (0.25, 0.01),
    (0.3, 0.008),
    (0.35, 0.012),
    (0.28, 0.015),
    (0.32, 0.02),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["setup", "run"])
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--tiled", action="store_true", help="ten years of tiled real bars")
    parser.add_argument("--sets", type=int, default=1, help="parameter sets (at most 5)")
    parser.add_argument("--alone", action="store_true", help="sets do not share their tapes")
    parser.add_argument(
        "--as-sweep", action="store_true", help="as a sweep runs them: no decision log"
    )
    args = parser.parse_args()

    config = load_config()
    bars = tiled_bars(config) if args.tiled else sample_bars(args.years)
    packages = generate_signals(bars, config)
    if args.sets == 1:
        configs = [config]
    else:
        configs = [
            load_config(config, [f"sizing.min_conviction={c}", f"exits.stop_loss_above={s}"])
            for c, s in VARIANTS[: args.sets]
        ]
    if args.mode == "setup":
        return
    shared = None if args.alone else SharedTapes()
    # A backtest's Tier-2 takes its bars' trading days, as run_backtest gives them.
    days = {}
    if BarDays is not None and not args.as_sweep:
        days = {"bar_days": {k: BarDays.of_bars(v) for k, v in bars.items()}}
    for each in configs:
        result = run_tier2(packages, each, shared=shared, decision_log=not args.as_sweep, **days)
        print(f"trades {result.summary['trades']}, final PV {result.summary['final_pv']:,.2f}")


if __name__ == "__main__":
    main()
