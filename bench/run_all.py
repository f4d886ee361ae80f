"""Run every benchmark in ``bench/`` one after the other and print their figures.

    .venv/bin/python bench/run_all.py [--quick]

``--quick`` uses smaller sizes (for a look, not for the figures the docs quote): Tier-1 on
200,000 bars, the backtest and the report on 2 years, the sweep on 20 sets, live trading on 1
week, the whole process and the comparison with backtrader and vn.py once each (on the
ten years: their data set is fixed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {
    "bench_tier1.py": ([], ["--bars", "200000"]),
    "bench_backtest.py": ([], ["--years", "2", "--repeat", "1"]),
    "bench_market.py": ([], ["--years", "2", "--repeat", "1"]),
    "bench_optimize.py": ([], ["--sets", "20"]),
    "bench_report.py": ([], ["--years", "2", "--repeat", "1"]),
    "bench_live.py": ([], ["--weeks", "1"]),
    "bench_process.py": ([], ["--repeat", "1"]),
    "bench_metrics.py": ([], ["--repeat", "3"]),
    "bench_frameworks.py": ([], ["--repeat", "1"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a look")
    args = parser.parse_args()
    failed = 0
    for script, (full, quick) in BENCHES.items():
        print(f"== {script}", flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        )
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
