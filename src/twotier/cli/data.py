"""``twotier data``: check and resample bar files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from twotier.cli.common import UsageError, console
from twotier.market.bars import read_bars, write_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import InstrumentRegistry
from twotier.market.resample import resample
from twotier.market.summary import DataSummary, summarize

app = typer.Typer(help="Check and resample bar files.", no_args_is_help=True)

INSTRUMENT = typer.Option(..., "--instrument", "-i", help="Instrument key, e.g. DCE/i.")
LABEL = typer.Option("start", "--label", help="How the file stamps bars: 'start' or 'end'.")
ON_BAD = typer.Option(
    "refuse", "--on-bad-bar", help="refuse (default), drop (and report), or repair (and report)."
)
INSTRUMENTS_FILE = typer.Option(
    None, "--instruments", help="A TOML file adding or overriding instruments."
)
CALENDAR_FILE = typer.Option(
    None,
    "--calendar",
    help="A TOML file of holidays = [...] and/or trading_days = [...] changing the XSHG calendar.",
)
BAR_MINUTES = typer.Option(
    None,
    "--bar-minutes",
    min=1,
    max=60,
    help="Length of the file's bars in minutes (default: the most common step between bars).",
)


def _spec(instrument: str, instruments_file: Path | None):
    return InstrumentRegistry.load(instruments_file)[instrument]


def _calendar(calendar_file: Path | None) -> TradingCalendar | None:
    return None if calendar_file is None else TradingCalendar.load(calendar_file)


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="CSV, CSV.gz or Parquet file of bars."),
    instrument: str = INSTRUMENT,
    label: str = LABEL,
    on_bad_bar: str = ON_BAD,
    instruments_file: Path | None = INSTRUMENTS_FILE,
    bar_minutes: int | None = BAR_MINUTES,
    calendar_file: Path | None = CALENDAR_FILE,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Validate a file of bars and summarise it: rows, range, trading days, sessions,
    gaps, problems."""
    calendar = _calendar(calendar_file)
    loaded = read_bars(
        file,
        _spec(instrument, instruments_file),
        label=label,
        on_bad_bar=on_bad_bar,
        bar_minutes=bar_minutes,
        calendar=calendar,
    )
    summary = summarize(loaded, calendar)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    _print_summary(summary)


def _print_summary(s: DataSummary) -> None:
    table = Table(
        title=Text(f"{s.source}: {s.instrument}, {s.bar_minutes}-minute bars"), show_header=False
    )
    table.add_column(style="bold")
    table.add_column()
    table.add_row("rows", f"{s.rows:,}")
    table.add_row(
        "bars", f"{s.first_bar:%Y-%m-%d %H:%M} to {s.last_bar:%Y-%m-%d %H:%M} (bar start)"
    )
    table.add_row(
        "trading days", f"{s.trading_days:,} ({s.first_day:%Y-%m-%d} to {s.last_day:%Y-%m-%d})"
    )
    missing = ", ".join(f"{d:%Y-%m-%d}" for d in s.missing_days[:8])
    more = f" ... (+{len(s.missing_days) - 8})" if len(s.missing_days) > 8 else ""
    table.add_row(
        "missing days",
        f"{len(s.missing_days)} of {s.calendar_trading_days} calendar trading days"
        + (f": {missing}{more}" if s.missing_days else ""),
    )
    table.add_row(
        "incomplete days", f"{s.incomplete_days} (fewer day-session bars than the sessions hold)"
    )
    table.add_row("intraday gaps", f"{s.intraday_gaps} (a bar missing inside a session)")
    for seg in s.sessions:
        kind = "night" if seg.night else "day"
        table.add_row(f"session {seg.segment}", f"{kind}: {seg.bars:,} bars on {seg.days:,} days")
    table.add_row("problems", Text(_problems(s)))
    console.print(table)
    for warning in s.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def _problems(s: DataSummary) -> str:
    if not s.dropped and not s.repaired:
        return "none"
    lines = [f"dropped line {p.line}: {p.problem}" for p in s.dropped]
    lines += [f"line {p.line}: {p.problem}" for p in s.repaired]
    return "\n".join(lines)


@app.command("resample")
def resample_command(
    file: Path = typer.Argument(..., help="CSV, CSV.gz or Parquet file of 1- or 5-minute bars."),
    instrument: str = INSTRUMENT,
    to: str = typer.Option("15min", "--to", help="Target bar length, e.g. 15min."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.parquet or .csv)."),
    label: str = LABEL,
    on_bad_bar: str = ON_BAD,
    instruments_file: Path | None = INSTRUMENTS_FILE,
    bar_minutes: int | None = BAR_MINUTES,
    calendar_file: Path | None = CALENDAR_FILE,
) -> None:
    """Resample bars to 15 minutes on session edges (bars never span a break)."""
    if not to.endswith("min") or not to[:-3].isdigit() or int(to[:-3]) == 0:
        raise UsageError(f"--to expects minutes such as 15min, got {to!r}")
    loaded = read_bars(
        file,
        _spec(instrument, instruments_file),
        label=label,
        on_bad_bar=on_bad_bar,
        bar_minutes=bar_minutes,
        calendar=_calendar(calendar_file),
    )
    bars = resample(
        loaded.frame, loaded.instrument, loaded.bar_minutes, int(to[:-3]), loaded.source
    )
    write_bars(bars, out)
    for p in loaded.dropped:
        console.print(f"dropped line {p.line}: {p.problem}", soft_wrap=True, markup=False)
    for p in loaded.repaired:
        console.print(f"line {p.line}: {p.problem}", soft_wrap=True, markup=False)
    console.print(
        f"{len(loaded.frame):,} {loaded.bar_minutes}-minute bars -> {len(bars):,} {to} bars "
        f"(bar start labels) written to {out}",
        soft_wrap=True,
        markup=False,
    )
