"""``twotier report``, ``twotier compare``, ``twotier trades`` (all on finished run
folders) and ``twotier config reference``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from twotier.cli.common import UsageError, check_rate, console, err_console
from twotier.cli.output_file import FileKind, check_output_file, page_titled
from twotier.json_text import json_text
from twotier.report.progress import Phases
from twotier.report.run_report import write_analysis
from twotier.run.reader import RunFolderError, load_run

RUN_DIR = typer.Argument(..., help="A run folder (twotier backtest --out).")


def _risk_free(folder: Path, given: float | None) -> float:
    """The rate asked for, else the one the folder's metrics were computed with, else 0."""
    if given is not None:
        return given
    recorded = _recorded_rate(folder)
    return 0.0 if recorded is None else recorded


def _recorded_rate(folder: Path) -> float | None:
    """The rate of the folder's metrics.json; None without one (not written, unreadable)."""
    try:
        return float(json.loads((folder / "metrics.json").read_text("utf-8"))["risk_free"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _rate_option(default: str):
    """``--risk-free``: the rate given, else what the folders' metrics say."""
    return typer.Option(
        None,
        "--risk-free",
        callback=check_rate,
        metavar="RATE",
        help=f"Yearly risk-free rate (default: {default}).",
    )


def _common_risk_free(folders: list[Path], given: float | None) -> float:
    """The rate asked for, else the one every run's metrics were computed with (runs
    without metrics.json have none to say; 0 if none has): Sharpe and Sortino side by
    side must share their rate."""
    if given is not None:
        return given
    rates = {folder: rate for folder in folders if (rate := _recorded_rate(folder)) is not None}
    if len(set(rates.values())) > 1:
        each = ", ".join(f"{folder}: {rate:g}" for folder, rate in rates.items())
        raise UsageError(
            f"the runs' metrics use different risk-free rates ({each}); give --risk-free "
            "RATE to compare them at one"
        )
    return next(iter(rates.values()), 0.0)


def report_command(
    run_dir: Path = RUN_DIR,
    risk_free: float | None = _rate_option("the run's, else 0"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Rebuild report.html and metrics.json of a run folder from its data files."""
    rate = _risk_free(run_dir, risk_free)
    with Phases(err_console, enabled=not quiet) as phases:
        with phases.step("reading the run folder"):
            run = load_run(run_dir)
        with phases.step("metrics and report"):
            write_analysis(run, run_dir, rate)
    if not quiet:
        from twotier.report.terminal import run_summary

        for table in run_summary(run.compute_metrics(rate)):
            console().print(table)
        console().print(f"report: {run_dir / 'report.html'}", markup=False)


def compare_command(
    run_dirs: list[Path] = typer.Argument(..., help="Two or more run folders."),
    out: Path = typer.Option(Path("compare.html"), "--out", "-o", help="HTML file to write."),
    risk_free: float | None = _rate_option("the one the runs' metrics share; else refused"),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Compare runs: metrics side by side, equity curves overlaid in one HTML file."""
    if len(run_dirs) < 2:
        raise UsageError("compare needs at least two run folders")
    risk_free = _common_risk_free(run_dirs, risk_free)
    from twotier.report.compare import write_compare

    names = [str(d) for d in run_dirs]
    if len({Path(d).resolve() for d in run_dirs}) < len(run_dirs):  # by any path to it
        raise UsageError("a run folder is given twice")
    check_output_file(out, "--out", _compare_page())
    with Phases(err_console, enabled=not as_json) as phases:
        runs, metrics = {}, {}
        with phases.step("reading run folders", total=len(names)) as advance:
            for name, folder in zip(names, run_dirs, strict=True):
                run = load_run(folder)
                metrics[name] = run.compute_metrics(risk_free)
                runs[name] = _as_compared(run)
                advance()
        with phases.step("writing the comparison"):
            path = write_compare(runs, metrics, out)
    warnings = {name: list(run.warnings) for name, run in runs.items()}
    if as_json:
        document = {"report": str(path), "runs": metrics, "warnings": warnings}
        typer.echo(json_text(document, indent=2))
        return
    from twotier.report.terminal import compare_table

    console().print(compare_table(metrics))
    console().print(f"report: {path}", markup=False)


def _as_compared(run):
    """What the comparison page draws of a run once its metrics are made: PV by step
    and drawdown (``charts.compare_chart``), its configuration and warnings. A run folder
    read whole (signal packages, decisions, trades, every step's columns) held 55 MB for
    ten years of three instruments, so that comparing 16 of them took 1 GB."""
    return dataclasses.replace(
        run,
        packages={},
        trades=run.trades.iloc[:0],
        fills=run.fills.iloc[:0],
        decisions=run.decisions.iloc[:0],
        equity=run.equity[["trading_day", "pv"]].copy(),
    )


def _compare_page() -> FileKind:
    """What ``compare --out`` writes (the page module loads with the command)."""
    from twotier.report.compare import COMPARE_TITLE

    return FileKind("comparison page", (".html", ".htm"), lambda p: page_titled(p, COMPARE_TITLE))


def trades_command(
    run_dir: Path = RUN_DIR,
    reason: str | None = typer.Option(
        None, "--reason", help="Exit reason, or its start (stop_loss matches stop_loss_2pct)."
    ),
    instrument: str | None = typer.Option(None, "--instrument", "-i", help="e.g. DCE/i."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per row)."),
) -> None:
    """The trades of a run folder (one row per exit; open positions have reason 'open')."""
    from twotier.run.reader import REQUIRED_TRADES, read_table

    if as_csv and as_json:
        raise UsageError("give --csv or --json, not both")
    if not run_dir.is_dir():
        raise RunFolderError(str(run_dir), "no such run folder")
    trades = read_table(run_dir / "trades.csv", REQUIRED_TRADES)  # as written: times as text
    if instrument is not None:
        known = sorted(trades["instrument"].unique())
        if instrument not in known:
            raise UsageError(
                f"no trades of {instrument!r} in {run_dir}; instruments: "
                f"{', '.join(known) or 'none'}"
            )
        trades = trades[trades["instrument"] == instrument]
    if reason is not None:
        trades = trades[trades["reason"].astype(str).str.startswith(reason)]
    if as_csv:
        typer.echo(trades.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    if as_json:  # the values as the CSV file has them (times as text, empty as null)
        rows = json.loads(trades.to_json(orient="records", double_precision=15))
        typer.echo(json_text(rows, indent=2, ensure_ascii=False))
        return
    if trades.empty:
        console().print("no trades match")
        return
    from twotier.report.terminal import trades_table

    title = f"{len(trades):,} trade rows of {run_dir}"
    console().print(trades_table(trades, title))


def config_reference_command() -> None:
    """Print the configuration reference (Markdown) generated from the model.

    Every key with its default and description (docs/configuration.md)."""
    from twotier.report.reference import configuration_reference

    typer.echo(configuration_reference(), nl=False)
