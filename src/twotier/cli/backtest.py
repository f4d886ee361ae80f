"""``twotier backtest`` and ``twotier demo``.

Output modes: the default prints the summary tables and the report's path; ``--json``
prints the summary, the metrics and the paths as one JSON document; ``--quiet`` prints
nothing but errors and warnings (on stderr). Progress shows on stderr only when it is a
terminal and neither mode is chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import typer

from twotier.cli.common import (
    UsageError,
    check_rate,
    choice,
    console,
    err_console,
    note,
    parse_bars_options,
    parse_contract_columns,
    parse_rolls_options,
    warn,
)
from twotier.collector import settle
from twotier.config.baskets import fit_baskets
from twotier.config.load import load_config, override
from twotier.engine.backtest import run_backtest, trading_period
from twotier.engine.inputs import (
    Environment,
    contract_columns,
    load_bar_files,
    load_roll_files,
    loading_notes,
)
from twotier.engine.runs import backtest_bar_inputs, tier2_on_table
from twotier.errors import UnknownInstrumentError
from twotier.json_text import json_text
from twotier.market.bars import BadBarPolicy
from twotier.report.progress import Phases
from twotier.report.run_report import write_run_folder
from twotier.run.folder import BACKTEST
from twotier.run.folder import check as check_output
from twotier.run.result import BacktestResult
from twotier.run.signal_files import SignalFiles
from twotier.tier1.package import read_package_sources

QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors and warnings.")
AS_JSON = typer.Option(False, "--json", help="Print the summary and metrics as JSON.")
FORCE = typer.Option(
    False, "--force", help="Replace a twotier folder of another kind at --out (never a user's)."
)
RISK_FREE = typer.Option(
    0.0,
    "--risk-free",
    callback=check_rate,
    metavar="RATE",
    help="Yearly risk-free rate for Sharpe and Sortino (0.02 = 2%).",
)


# The options that are configuration keys: the option and the values it takes.
OPTION_VALUES = {
    "execution.fill": ("--fill", ("next_open", "close")),
    "data.label": ("--label", ("start", "end")),
    "data.on_bad_bar": ("--on-bad-bar", get_args(BadBarPolicy)),
}
# The options a backtest turns into configuration overrides (an invalid one is named).
OPTION_NAMES = {k: name for k, (name, _) in OPTION_VALUES.items()}
OPTION_NAMES["data.contract_column"] = "--contract-column"


def backtest_command(
    bars: list[str] = typer.Option(
        [], "--bars", metavar="INSTRUMENT=FILE", help="A bar file of an instrument; repeatable."
    ),
    signals: list[Path] = typer.Option(
        [],
        "--signals",
        metavar="TABLE|FOLDER",
        help="Packages (CSV/Parquet, or a run folder's signals/): run Tier-2 alone; repeatable.",
    ),
    label: str | None = typer.Option(
        None, "--label", metavar="start|end", help="How the bar files stamp bars (default: config)."
    ),
    on_bad_bar: str | None = typer.Option(
        None, "--on-bad-bar", metavar="refuse|drop|repair", help="What to do with bad bars."
    ),
    start: str | None = typer.Option(
        None, "--start", metavar="YYYY-MM-DD", help="First trading day to trade."
    ),
    end: str | None = typer.Option(None, "--end", metavar="YYYY-MM-DD", help="Last trading day."),
    fill: str | None = typer.Option(
        None, "--fill", metavar="next_open|close", help="Fill rule (default: config)."
    ),
    config_file: Path | None = typer.Option(
        None, "--config", metavar="FILE", help="TOML configuration file."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="A configuration override; repeatable."
    ),
    out: Path = typer.Option(
        Path("runs/latest"), "--out", "-o", metavar="FOLDER", help="Run folder to write."
    ),
    rolls: list[str] = typer.Option(
        [],
        "--rolls",
        metavar="INSTRUMENT=FILE",
        help="Roll schedule (FILE alone when one instrument is traded); repeatable.",
    ),
    contract_column: list[str] = typer.Option(
        [],
        "--contract-column",
        metavar="[INSTRUMENT=]COLUMN",
        help="Column naming each bar's contract: of every bar file, or of one; repeatable.",
    ),
    force: bool = FORCE,
    as_json: bool = AS_JSON,
    quiet: bool = QUIET,
    risk_free: float = RISK_FREE,
    with_report: bool = typer.Option(
        True,
        "--report/--no-report",
        help="Write report.html (--no-report: not now; `twotier report FOLDER` writes it).",
    ),
) -> None:
    """Backtest Tier-1 + Tier-2 on bars, or Tier-2 alone on packages.

    Writes the run folder with its HTML report. Spliced main-contract series are rolled
    with --rolls or a contract column (docs/rolls.md)."""
    if bool(bars) == bool(signals):
        raise UsageError("give either --bars INSTRUMENT=FILE (repeatable) or --signals TABLE")
    if signals:
        _bars_only(label=label, on_bad_bar=on_bad_bar, contract_column=contract_column)
    columns = parse_contract_columns(contract_column)
    # How the run reads its bars is configuration, so that its config.toml repeats it
    # (a contract column per instrument has no key: it is not recorded).
    given = {
        "execution.fill": fill,
        "data.label": label,
        "data.on_bad_bar": on_bad_bar,
    }
    for key, value in given.items():
        if value is not None:
            choice(value, *OPTION_VALUES[key])
    if isinstance(columns, str):
        given["data.contract_column"] = columns
    options = {k: v for k, v in given.items() if v is not None}
    named = [*(["--set"] if overrides else []), *(OPTION_NAMES[k] for k in options)]
    overrides = [*overrides, *(override(k, v) for k, v in options.items())]
    check_output(out, BACKTEST, force=force)  # before any work: a refusal costs nothing
    trading_period(start, end)
    config = load_config(config_file, overrides, overrides_from=" ".join(named))
    env = Environment.from_config(config)
    talk = not (as_json or quiet)
    files = SignalFiles()  # started as soon as Tier-1 has made the packages
    with Phases(err_console, enabled=talk) as phases:
        if signals:
            result = _tier2_alone(signals, rolls, config, env, start, end, phases)
        else:
            result = _from_bars(
                parse_bars_options(bars),
                rolls,
                config,
                env,
                columns,
                (start, end),
                phases,
                files,
            )
        folder = _write(result, out, force, risk_free, phases, files, with_report)
    report(result, folder, as_json, quiet=quiet, risk_free=risk_free, with_report=with_report)


def _write(
    result: BacktestResult,
    out: Path,
    force: bool,
    risk_free: float,
    phases: Phases,
    files: SignalFiles | None = None,
    with_report: bool = True,
) -> Path:
    """The run folder and its report, the result frozen out of the collector's passes
    first where the process ends with the command (it lives to the end)."""
    settle()
    with phases.step("run folder and report" if with_report else "run folder"):
        return write_run_folder(
            result, out, risk_free, with_report=with_report, force=force, signal_files=files
        )


def _bars_only(**given) -> None:
    for name, value in given.items():
        if value:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"{option} is about bar files; it does not apply to --signals")


def _tier2_alone(signals, rolls, config, env, start, end, phases) -> BacktestResult:
    source = " + ".join(str(s) for s in signals)
    with phases.step("reading packages"):
        table = read_package_sources(
            signals,
            require_open=config.execution.fill == "next_open",
            instruments=env.instruments.keys(),
        )
        fitted = fit_baskets(
            config,
            list(table["instrument"].unique()),
            what="packages",
            fix="--signals with a table of {instrument}'s packages",
        )
    schedules = load_roll_files(parse_rolls_options(rolls, fitted.config.instruments))
    with phases.step("Tier-2"):
        return tier2_on_table(
            table, fitted, env, start=start, end=end, source=source, rolls=schedules,
            paths=signals,
        )  # fmt: skip


def _from_bars(
    files, rolls, config, env, contract_column, period, phases, signal_files: SignalFiles
) -> BacktestResult:
    """``contract_column``: one name for every file or one per instrument; the rest of
    how bars are read is ``config.data``."""
    start, end = period
    unknown = [k for k in files if k not in env.instruments]
    if unknown:  # before any file is read
        raise UnknownInstrumentError(unknown[0], env.instruments.keys())
    fitted = fit_baskets(config, list(files))
    config = fitted.config
    traded = {k: v for k, v in files.items() if k in config.instruments}
    schedules = load_roll_files(parse_rolls_options(rolls, list(traded)))
    columns = contract_columns(contract_column, files)
    inputs = {}
    with phases.step("loading bars", total=len(traded)) as advance:
        for instrument, path in traded.items():
            one, column = {instrument: path}, columns.get(instrument)
            inputs |= load_bar_files(one, config, env, contract_column=column)
            advance()
    note(loading_notes(inputs))
    return backtest_bar_inputs(
        inputs,
        fitted,
        env,
        start=start,
        end=end,
        rolls=schedules,
        progress=phases.reporter(),
        on_signals=signal_files.start,
    )


def report(
    result: BacktestResult,
    folder: Path,
    as_json: bool,
    *,
    quiet: bool = False,
    risk_free: float = 0.0,
    with_report: bool = True,
) -> None:
    """What a finished run prints: JSON, nothing (``quiet``), or the summary tables and
    the paths of the folder and its report (or how to write it); the warnings go to stderr
    whatever the mode (and into the JSON document)."""
    metrics = result.compute_metrics(risk_free)
    report_path = folder / "report.html"
    if as_json:
        document = {
            **result.summary,
            "warnings": list(result.warnings),
            "run_folder": str(folder),
            "report": str(report_path) if with_report else None,
            "metrics": metrics,
        }
        typer.echo(json_text(document, indent=2))
    elif not quiet:
        from twotier.report.terminal import run_summary

        for table in run_summary(metrics):
            console().print(table)
    warn(result.warnings)
    if not (as_json or quiet):
        console().print(f"run folder: {folder}", markup=False)
        if with_report:
            console().print(f"report: {report_path}", markup=False)
        else:
            how = f"report: not written (twotier report {folder} writes it)"
            console().print(how, markup=False, soft_wrap=True)


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
                console().print(
                    f"sample {key}: {len(frame):,} bars, {frame.index[0]:%Y-%m-%d} to "
                    f"{frame.index[-1]:%Y-%m-%d}"
                )
        files = SignalFiles()
        result = run_backtest(
            bars, config, start=start, end=end, progress=phases.reporter(), on_signals=files.start
        )
        folder = _write(result, out, force, risk_free, phases, files)
    report(result, folder, as_json, quiet=quiet, risk_free=risk_free)
