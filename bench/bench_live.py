"""Live trading on a gateway: the loop's cost per tick and per step, on the test exchange.

    .venv/bin/python bench/bench_live.py [--weeks N]

Plays N weeks of the bundled sample's three instruments (four ticks per 15-minute bar)
through ``twotier live`` and the replay gateway of tests/helpers/exchange.py (which keeps
no books on disk here), and prints the ticks, minute bars and steps per second. The
replay's own work (making ticks, matching orders) is included: the figures are an upper
bound of what the loop costs. A live market sends about two ticks a second per contract.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.exchange import market_moments, write_market
from test_live_parity import write_sample_feed
from twotier.live.trading import LiveSettings, run_live

CONTRACTS = {"DCE/i": "i2501", "SHFE/cu": "cu2410", "DCE/m": "m2501"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=4, help="sample weeks to play")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        end = pd.Timestamp("2024-09-02") + pd.Timedelta(weeks=args.weeks)
        files = write_sample_feed(root / "feed", "2024-09-02", f"{end:%Y-%m-%d}")
        instruments = {k: (p, "start", CONTRACTS[k]) for k, p in files.items()}
        connect = write_market(root / "exchange", instruments, persist=False)
        ticks = sum(len(m.ticks) for m in market_moments(write_json(instruments)))
        settings = LiveSettings(
            gateway="helpers.exchange:ReplayGateway",
            connect=connect,
            state_dir=root / "state",
            overrides=["live.order_ticks=1000"],
            contracts=CONTRACTS,
            quiet=True,
            synchronous="NORMAL",
        )
        started = time.perf_counter()
        outcome = run_live(settings, handle_signals=False)
        seconds = time.perf_counter() - started
    print(f"{args.weeks} weeks, 3 instruments: {ticks:,} ticks, {outcome.steps:,} steps")
    print(f"  whole run (start, replay, steps, commits, run folder): {seconds:.1f} s")
    print(f"  {ticks / seconds:,.0f} ticks/s, {outcome.steps / seconds:,.1f} steps/s")
    return 0


def write_json(instruments: dict) -> dict:
    return {k: [str(p), label, c] for k, (p, label, c) in instruments.items()}


if __name__ == "__main__":
    sys.exit(main())
