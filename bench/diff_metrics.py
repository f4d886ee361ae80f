"""Compare two sets of run folders (``compare_outputs.py run``) on the files its ``diff``
leaves out, byte for byte: metrics.json, the daily returns and report.html.

    .venv/bin/python bench/diff_metrics.py runs/compare/before runs/compare/after
"""

from __future__ import annotations

import sys
from pathlib import Path

DERIVED = ("metrics.json", "daily_returns.csv", "daily_returns.parquet", "report.html")


def main() -> int:
    before, after = (Path(a) for a in sys.argv[1:3])
    differences = 0
    for run in sorted(p.name for p in before.iterdir() if p.is_dir() and p.name != "inputs"):
        for name in DERIVED:
            a, b = before / run / name, after / run / name
            if not a.exists() and not b.exists():
                continue
            same = a.exists() and b.exists() and a.read_bytes() == b.read_bytes()
            differences += not same
            print(f"{run}/{name}: {'identical' if same else 'DIFFERS'}")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
