"""Same inputs, same outputs: run a fixed set of backtests with one checkout of twotier and
compare their data files byte for byte with another checkout's.

    # outputs of this checkout, and of another one (its src/ folder) in the same sitting
    .venv/bin/python bench/compare_outputs.py run runs/compare/after
    .venv/bin/python bench/compare_outputs.py run runs/compare/before --src ../before/src
    .venv/bin/python bench/compare_outputs.py diff runs/compare/before runs/compare/after

The runs go through the CLI (``python -m twotier``), the interface every version keeps:
the demo, ten years of the sample generator's bars, and the real files of
``../shared/data/real`` (default configuration; ``close`` fills in fixed mode; iron ore
alone across its rolls), each where its inputs exist. ``--set KEY=VALUE`` is added to
every backtest (to compare with switches that did not exist before, for instance).
``diff`` compares every data file of the run folders (config.toml, signals, trades,
fills, equity, decisions, summary.json without its creation time) and exits 1 on any
difference. The derived files (report.html, metrics.json, daily_returns.csv/.parquet) are
left out unless ``--derived`` asks for them too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("TWOTIER_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
REAL_FILES = {
    "DCE/i": "DCE.i.HOT.m5.csv",
    "SHFE/cu": "SHFE.cu.HOT.m1.csv.gz",
    "DCE/m": "DCE.m.HOT.m5.csv",
}
IRON_ROLLS = """trading_day,old_contract,new_contract,old_price,new_price
2019-12-06,i2001,i2005,654.5,619.5
2020-03-31,i2005,i2009,645.5,576.5
2020-08-10,i2009,i2101,896.0,817.0
"""
DERIVED = {"report.html", "metrics.json", "daily_returns.csv", "daily_returns.parquet"}


def twotier(args: list[str], src: Path | None) -> None:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-m", "twotier", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"twotier {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def scenarios(work: Path) -> dict[str, list[str]]:
    """Backtest arguments of each scenario whose inputs exist."""
    runs: dict[str, list[str]] = {}
    sample = work / "inputs" / "ten_years"
    runs["ten_years"] = [
        *(f"--bars={k}={sample / (k.replace('/', '_') + '.parquet')}" for k in REAL_FILES),
    ]
    if REAL.is_dir():
        real = [f"--bars={k}={REAL / name}" for k, name in REAL_FILES.items()]
        common = ["--label", "end", "--on-bad-bar", "drop"]
        runs["real"] = [*real, *common]
        runs["real_close_fixed"] = [
            *real, *common, "--fill", "close", "--set", "sizing.leverage_mode=fixed",
        ]  # fmt: skip
        rolls = work / "inputs" / "iron_rolls.csv"
        runs["real_iron_rolls"] = [
            f"--bars=DCE/i={REAL / REAL_FILES['DCE/i']}",
            *common,
            "--rolls",
            f"DCE/i={rolls}",
            "--set",
            'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]',
        ]
    return runs


def run_all(out: Path, src: Path | None, extra: list[str]) -> None:
    inputs = out / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "iron_rolls.csv").write_text(IRON_ROLLS, encoding="utf-8")
    twotier(
        ["sample", "--out", str(inputs / "ten_years"), "--start", "2016-01-04", "--end",
         "2025-12-31"],
        src,
    )  # fmt: skip
    overrides = [a for value in extra for a in ("--set", value)]
    started = time.perf_counter()
    twotier(["demo", "--out", str(out / "demo"), "--quiet"], src)
    print(f"demo: {time.perf_counter() - started:.1f} s")
    for name, args in scenarios(out).items():
        started = time.perf_counter()
        twotier(["backtest", *args, *overrides, "--out", str(out / name), "--quiet"], src)
        print(f"{name}: {time.perf_counter() - started:.1f} s")


def data_files(folder: Path, derived: bool = False) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (derived or path.name not in DERIVED):
            data = path.read_bytes()
            if path.name == "summary.json":
                summary = json.loads(data)
                summary.pop("created_at", None)
                summary.pop("twotier_version", None)
                data = json.dumps(summary, indent=2).encode()
            files[str(path.relative_to(folder))] = data
    return files


def diff(before: Path, after: Path, derived: bool = False) -> int:
    differences = 0
    for run in sorted(p.name for p in before.iterdir() if p.is_dir() and p.name != "inputs"):
        a, b = data_files(before / run, derived), data_files(after / run, derived)
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                differences += 1
                print(f"{run}/{name}: " + ("missing" if name not in a or name not in b else
                                            "differs"))  # fmt: skip
        if set(a) and all(a.get(n) == b.get(n) for n in set(a) | set(b)):
            print(f"{run}: {len(a)} files identical")
    return 1 if differences else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="write the run folders of every scenario")
    run.add_argument("out", type=Path)
    run.add_argument("--src", type=Path, help="the src/ folder of another checkout")
    run.add_argument("--set", action="append", default=[], help="KEY=VALUE for every backtest")
    compare = sub.add_parser("diff", help="compare two outputs of `run`")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    compare.add_argument(
        "--derived", action="store_true", help="the derived files too (metrics, report)"
    )
    args = parser.parse_args()
    if args.command == "run":
        run_all(args.out, args.src.resolve() if args.src else None, args.set)
    else:
        raise SystemExit(diff(args.before, args.after, args.derived))


if __name__ == "__main__":
    main()
