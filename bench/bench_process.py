"""The whole process from the shell: ``twotier backtest --bars ... --out ...`` on ten
years of three instruments (bench/tiled_data.py), the run folder and its report written.

    .venv/bin/python bench/bench_process.py [--repeat 5] [--format csv|parquet] [--keep DIR]

Two measurements, each in fresh processes, ``--repeat`` times (best and median shown;
the machine's speed drifts, the best is the run least disturbed by the rest of it):

- *whole process*: ``python -m twotier backtest ... --quiet`` as a user runs it, wall
  time from the shell, and its peak memory (the child's maximum resident set size); and
  the same with ``--no-report`` (the report left for ``twotier report`` to write);
- *breakdown*: the same command run in a child that times its parts by wrapping the
  functions the command calls (nothing in twotier is changed for it): imports (of the
  CLI), loading and validating the bars (read, validate, resample), Tier-1, Tier-2,
  writing the data files (formatting them, and waiting for the background thread to
  write the whole run folder's bytes), metrics and the report (metrics.json, daily
  returns, report.html, the summary the command prints); the rest (configuration,
  calendar, instruments, interpreter start and exit) is shown as "other". Modules that a
  part imports lazily count in that part. Peak memory is sampled at the end of each part.

Targets: whole process under 1.0 s, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGET_SECONDS, TARGET_MB = 1.0, 300.0
CPU: list[float] = []  # CPU seconds of each child run, in order
PARTS = (
    ("imports", "imports"),
    ("load", "loading and validating bars"),
    ("tier1", "Tier-1"),
    ("tier2", "Tier-2"),
    ("write", "writing the data files"),
    ("report", "metrics and report"),
)


def backtest_args(files: dict[str, Path], out: Path) -> list[str]:
    bars = [f"--bars={k}={p}" for k, p in files.items()]
    return ["backtest", *bars, "--out", str(out), "--quiet"]


def child_env() -> dict[str, str]:
    """The environment of the children: Python writes and reuses its bytecode caches, as
    it does for a user (a shell that sets PYTHONDONTWRITEBYTECODE would have every run
    compile twotier's modules again)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of one child process, and its stderr. The child's
    CPU time (user + system) is kept in ``CPU``: on a machine shared with others, the wall
    time of a run includes the time it waited for a core, its CPU time does not."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
    )
    stderr = child.stderr.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{stderr[-3000:]}")
    CPU.append(usage.ru_utime + usage.ru_stime)
    return elapsed, usage.ru_maxrss / 1024, stderr


def whole_process(files: dict[str, Path], out: Path, repeat: int, *extra: str) -> None:
    argv = [sys.executable, "-m", "twotier", *backtest_args(files, out), *extra]
    run_child(argv)  # warm-up
    times, peaks = [], []
    CPU.clear()
    for _ in range(repeat):
        seconds, peak, _ = run_child(argv)
        times.append(seconds)
        peaks.append(peak)
    best, peak = min(times), max(peaks)
    label = " ".join(("whole process", *extra))
    print(
        f"{label}: best {best:.2f} s, median {statistics.median(times):.2f} s "
        f"({'meets' if best < TARGET_SECONDS else 'MISSES'} < {TARGET_SECONDS:g} s); "
        f"peak memory {peak:.0f} MB ({'meets' if peak < TARGET_MB else 'MISSES'} "
        f"< {TARGET_MB:g} MB)"
    )
    print(
        f"  CPU time (user + system): best {min(CPU):.2f} s, median "
        f"{statistics.median(CPU):.2f} s (the Parquet thread's included)"
    )


def breakdown(files: dict[str, Path], out: Path, repeat: int) -> None:
    runs = []
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            argv = [sys.executable, __file__, "--child", report.name, "--", *backtest_args(
                files, out)]  # fmt: skip
            wall, _, _ = run_child(argv)
            parts = json.loads(Path(report.name).read_text())
        parts["other"] = wall - sum(parts["seconds"].values())
        runs.append(parts)
    best = min(runs, key=lambda r: sum(r["seconds"].values()) + r["other"])
    total = sum(best["seconds"].values()) + best["other"]
    print(f"breakdown (the fastest of {repeat} runs, {total:.2f} s in all):")
    for key, words in PARTS:
        seconds = [r["seconds"][key] for r in runs]
        print(
            f"  {words:<28} {best['seconds'][key]:6.3f} s   (best {min(seconds):.3f}, median "
            f"{statistics.median(seconds):.3f})   peak memory after it {best['rss'][key]:5.0f} MB"
        )
    print(f"  {'other':<28} {best['other']:6.3f} s")


def child(report: Path, args: list[str]) -> None:
    """Run the CLI in this process with its parts timed; write the figures to ``report``."""
    import resource

    seconds: dict[str, float] = dict.fromkeys((*(k for k, _ in PARTS), "analysis"), 0.0)
    rss: dict[str, float] = {}

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def timed(key, function):
        def wrapper(*a, **k):
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                seconds[key] += time.perf_counter() - started
                rss[key] = peak_mb()

        return wrapper

    started = time.perf_counter()
    from twotier.cli import program  # first, as the program: pyarrow's memory pool chosen

    program.read_bar_files_ahead(args)  # as the program does (twotier.cli.program.console)
    import twotier.cli.main as main
    from twotier.cli import backtest as command

    seconds["imports"], rss["imports"] = time.perf_counter() - started, peak_mb()
    from twotier.engine import backtest as engine

    command.load_bar_files = timed("load", command.load_bar_files)
    engine.generate_signals = timed("tier1", engine.generate_signals)
    engine.run_tier2 = timed("tier2", engine.run_tier2)
    from twotier.report import run_report

    # The data files and the derived ones are both written inside write_run (their bytes
    # by the background thread, waited for at its end): writing is write_run less the
    # derived files' write_analysis, which counts in the report.
    run_report.write_run = timed("write", run_report.write_run)
    run_report.write_analysis = timed("analysis", run_report.write_analysis)
    command.report = timed("report", command.report)
    try:
        main.run(args)
    except SystemExit as done:
        if done.code:
            raise
    finally:
        analysis = seconds.pop("analysis", 0.0)
        seconds["write"] -= analysis
        seconds["report"] += analysis
        rss["report"] = max(rss.get("report", 0.0), rss.pop("analysis", 0.0))
        report.write_text(json.dumps({"seconds": seconds, "rss": rss}))


def main() -> None:
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        child(Path(sys.argv[at + 1]), sys.argv[at + 3 :])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--keep", type=Path, help="write the run folder here (kept)")
    args = parser.parse_args()

    from tiled_data import ten_years_built_apart

    data = ten_years_built_apart()  # the children's peak memory is their own
    print(f"data: {data.describe()}; {args.format} files")
    files = data.files(args.format)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch) / "run"
        whole_process(files, out, args.repeat)
        whole_process(files, out, args.repeat, "--no-report")  # the report as its own step
        breakdown(files, out, args.repeat)


if __name__ == "__main__":
    main()
