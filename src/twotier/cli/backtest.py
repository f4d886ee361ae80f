"""``twotier backtest`` and ``twotier demo``.

Output modes: the default prints the summary tables and the report's path; ``--json``
prints the summary, the metrics and the paths as one JSON document; ``--quiet`` prints
nothing but errors and warnings (on stderr). Progress shows on stderr only when it is a
terminal and neither mode is chosen.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from twotier.cli.common import (
    UsageError,
    console,
    err_console,
    parse_bars_options,
    parse_rolls_options,
)
from twotier.config.load import load_config
from twotier.engine.backtest import run_backtest, run_tier2, split_packages
from twotier.engine.inputs import Environment, load_bar_files, load_roll_files
from twotier.report.progress import Phases
from twotier.report.run_report import write_analysis
from twotier.report.terminal import run_summary
from twotier.run.folder import BACKTEST
from twotier.run.folder import check as check_output
from twotier.run.result import BacktestResult
from twotier.run.writer import write_run
from twotier.tier1.package import read_packages

QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors and warnings.")
AS_JSON = typer.Option(False, "--json", help="Print the summary and metrics as JSON.")
FORCE = typer.Option(
    False, "--force", help="Replace a twotier folder of another kind at --out (never a user's)."
)
RISK_FREE = typer.Option(
    0.0, "--risk-free", help="Yearly risk-free rate for Sharpe and Sortino (0.02 = 2%)."
)


def backtest_command(
    bars: list[str] = typer.Option([], "--bars", help="INSTRUMENT=FILE, repeatable."),
    signals: Path | None = typer.Option(
        None, "--signals", help="A package table (CSV/Parquet): run Tier-2 alone."
    ),
    label: str | None = typer.Option(None, "--label", help="start or end (default: config)."),
    on_bad_bar: str | None = typer.Option(None, "--on-bad-bar", help="refuse, drop or repair."),
    start: str | None = typer.Option(None, "--start", help="First trading day to trade."),
    end: str | None = typer.Option(None, "--end", help="Last trading day to trade."),
    fill: str | None = typer.Option(None, "--fill", help="next_open or close."),
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE override, repeatable."),
    out: Path = typer.Option(Path("runs/latest"), "--out", "-o", help="Run folder to write."),
    rolls: list[str] = typer.Option(
        [], "--rolls", help="Roll schedule: INSTRUMENT=FILE (or FILE for one instrument)."
    ),
    contract_column: str | None = typer.Option(
        None, "--contract-column", help="Column of the bar files naming each bar's contract."
    ),
    force: bool = FORCE,
    as_json: bool = AS_JSON,
    quiet: bool = QUIET,
    risk_free: float = RISK_FREE,
) -> None:
    """Backtest Tier-1 + Tier-2 on bars, or Tier-2 alone on a package table.

    Writes the run folder with its HTML report. Spliced main-contract series are rolled
    with --rolls or a contract column (docs/rolls.md)."""
    if bool(bars) == bool(signals):
        raise UsageError("give either --bars INSTRUMENT=FILE (repeatable) or --signals FILE")
    if fill is not None:
        overrides = [*overrides, f"execution.fill={fill}"]
    check_output(out, BACKTEST, force=force)  # before any work: a refusal costs nothing
    config = load_config(config_file, overrides)
    env = Environment.from_config(config)
    files = parse_bars_options(bars)
    schedules = load_roll_files(parse_rolls_options(rolls, list(files) or config.instruments))
    talk = not (as_json or quiet)
    with Phases(err_console, enabled=talk) as phases:
        if signals is not None:
            with phases.step("reading packages"):
                table = read_packages(signals, require_open=config.execution.fill == "next_open")
                packages = split_packages(table, config, str(signals))
            with phases.step("Tier-2"):
                result = run_tier2(
                    packages,
                    config,
                    instruments=env.instruments,
                    calendar=env.calendar,
                    start=start,
                    end=end,
                    source=str(signals),
                    rolls=schedules,
                )
        else:
            inputs = {}
            with phases.step("loading bars", total=len(files)) as advance:
                for instrument, path in files.items():
                    one = {instrument: path}
                    inputs |= load_bar_files(one, config, env, label, on_bad_bar, contract_column)
                    advance()
            for instrument, given in inputs.items():
                for problem in given.loaded.dropped:
                    note = f"{instrument}: dropped line {problem.line}: {problem.problem}"
                    (console if talk else err_console).print(note, markup=False)
            result = run_backtest(
                {k: v.bars for k, v in inputs.items()},
                config,
                instruments=env.instruments,
                calendar=env.calendar,
                start=start,
                end=end,
                rolls=schedules,
                progress=phases.reporter(),
            )
        with phases.step("run folder and report"):
            folder = write_run(result, out, force=force)
            write_analysis(result, folder, risk_free)
    report(result, folder, as_json, quiet=quiet, risk_free=risk_free)


def report(
    result: BacktestResult,
    folder: Path,
    as_json: bool,
    *,
    quiet: bool = False,
    risk_free: float = 0.0,
) -> None:
    """What a finished run prints: JSON, nothing (``quiet``), or the summary tables, the
    warnings and the paths of the folder and its report."""
    metrics = result.compute_metrics(risk_free)
    report_path = folder / "report.html"
    if as_json:
        document = {
            **result.summary,
            "run_folder": str(folder),
            "report": str(report_path),
            "metrics": metrics,
        }
        typer.echo(json.dumps(document, indent=2, allow_nan=False))
    elif not quiet:
        for table in run_summary(metrics):
            console.print(table)
    for warning in result.warnings:
        (err_console if as_json or quiet else console).print(
            f"[yellow]warning:[/] {warning}", highlight=False
        )
    if not (as_json or quiet):
        console.print(f"run folder: {folder}", markup=False)
        console.print(f"report: {report_path}", markup=False)


def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run folder to write."),
    start: str | None = typer.Option(None, "--start", help="First trading day to trade."),
    end: str | None = typer.Option(None, "--end", help="Last trading day to trade."),
    force: bool = FORCE,
    as_json: bool = AS_JSON,
    quiet: bool = QUIET,
    risk_free: float = RISK_FREE,
) -> None:
    """Run the whole system on the bundled sample data.

    Three years of DCE/i, SHFE/cu and DCE/m 15-minute bars, the default configuration
    (the roll detector aside: the sample has no contracts); writes the run folder and its
    HTML report."""
    from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample

    # The sample is one synthetic series per instrument, never spliced from contracts:
    # its volatility shocks are not rolls, so the roll detector has nothing to say.
    check_output(out, BACKTEST, force=force)
    config = load_config(overrides=["rolls.warn_suspected=false"])
    talk = not (as_json or quiet)
    bars = {}
    with Phases(err_console, enabled=talk) as phases:
        with phases.step("loading the sample", total=len(SAMPLE_INSTRUMENTS)) as advance:
            for key in SAMPLE_INSTRUMENTS:
                bars[key] = load_sample(key)
                advance()
        if talk:
            for key, frame in bars.items():
                console.print(
                    f"sample {key}: {len(frame):,} bars, {frame.index[0]:%Y-%m-%d} to "
                    f"{frame.index[-1]:%Y-%m-%d}"
                )
        result = run_backtest(bars, config, start=start, end=end, progress=phases.reporter())
        with phases.step("run folder and report"):
            folder = write_run(result, out, force=force)
            write_analysis(result, folder, risk_free)
    report(result, folder, as_json, quiet=quiet, risk_free=risk_free)
