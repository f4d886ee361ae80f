"""``twotier backtest`` and ``twotier demo``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from twotier.cli.common import UsageError, console, parse_bars_options
from twotier.config.load import load_config
from twotier.engine.backtest import run_backtest, run_tier2, split_packages
from twotier.engine.inputs import Environment, load_bar_files
from twotier.engine.results import BacktestResult
from twotier.engine.runfolder import write_run
from twotier.tier1.package import read_packages


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
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Backtest Tier-1 + Tier-2 on bar files, or Tier-2 alone on a package table."""
    if bool(bars) == bool(signals):
        raise UsageError("give either --bars INSTRUMENT=FILE (repeatable) or --signals FILE")
    if fill is not None:
        overrides = [*overrides, f"execution.fill={fill}"]
    config = load_config(config_file, overrides)
    env = Environment.from_config(config)
    if signals is not None:
        table = read_packages(signals, require_open=config.execution.fill == "next_open")
        packages = split_packages(table, config, str(signals))
        result = run_tier2(
            packages,
            config,
            instruments=env.instruments,
            calendar=env.calendar,
            start=start,
            end=end,
            source=str(signals),
        )
    else:
        files = parse_bars_options(bars)
        inputs = load_bar_files(files, config, env, label, on_bad_bar)
        for instrument, given in inputs.items():
            for problem in given.loaded.dropped:
                result_note = f"{instrument}: dropped line {problem.line}: {problem.problem}"
                console.print(result_note)
        result = run_backtest(
            {k: v.bars for k, v in inputs.items()},
            config,
            instruments=env.instruments,
            calendar=env.calendar,
            start=start,
            end=end,
        )
    folder = write_run(result, out)
    report(result, folder, as_json)


def report(result: BacktestResult, folder: Path, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({**result.summary, "run_folder": str(folder)}, indent=2))
        return
    s = result.summary
    table = Table(title=f"Backtest {s['start'][:10]} to {s['end'][:10]}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("initial capital", f"{s['initial_capital']:,.2f}")
    table.add_row("final PV", f"{s['final_pv']:,.2f}")
    table.add_row("total return", f"{s['total_return']:+.2%}")
    table.add_row("max drawdown", f"{s['max_drawdown']:.2%}")
    win = "-" if s["win_rate"] is None else f"{s['win_rate']:.0%}"
    table.add_row("trades (win rate)", f"{s['trades']} ({win})")
    table.add_row("fees", f"{s['fees']:,.2f}")
    table.add_row("open positions at end", str(s["open_positions"]))
    console.print(table)
    baskets = Table(title="Baskets")
    for column in ("basket", "instrument", "final equity", "return", "trades", "win rate"):
        baskets.add_column(column, justify="right")
    for b in s["baskets"]:
        win = "-" if b["win_rate"] is None else f"{b['win_rate']:.0%}"
        baskets.add_row(
            str(b["basket"]),
            b["instrument"],
            f"{b['final_equity']:,.2f}",
            f"{b['return']:+.2%}",
            str(b["trades"]),
            win,
        )
    console.print(baskets)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"run folder: {folder}")


def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run folder to write."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """The whole system on the bundled sample data (three years of DCE/i, SHFE/cu and DCE/m
    15-minute bars) with the default configuration."""
    from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample

    config = load_config()
    bars = {key: load_sample(key) for key in SAMPLE_INSTRUMENTS}
    if not as_json:
        for key, frame in bars.items():
            console.print(
                f"sample {key}: {len(frame):,} bars, {frame.index[0]:%Y-%m-%d} to "
                f"{frame.index[-1]:%Y-%m-%d}"
            )
    result = run_backtest(bars, config)
    folder = write_run(result, out)
    report(result, folder, as_json)
