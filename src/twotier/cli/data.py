"""``twotier data``: check and resample bar files, and find the rolls of per-contract files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from twotier.cli.common import UsageError, choice, console, note, warn
from twotier.cli.output_file import BARS, ROLL_SCHEDULE, check_output_file
from twotier.errors import DataError
from twotier.json_text import json_text
from twotier.market.bars import LoadedBars, merged_counts, read_bars, write_bars
from twotier.market.calendar import TradingCalendar
from twotier.market.contracts import contract_in_file_name, is_bar_file
from twotier.market.instruments import InstrumentRegistry, InstrumentSpec
from twotier.market.resample import resample
from twotier.market.rolls import (
    SUSPECTED_ROLL_ATRS,
    RollSchedule,
    main_contract,
    read_schedule,
    write_schedule,
)

if TYPE_CHECKING:
    from rich.table import Table

    from twotier.market.summary import DataSummary

app = typer.Typer(
    help="Check and resample bar files; find the rolls of per-contract files.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

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


AUCTION = typer.Option(
    "merge",
    "--auction",
    help="Opening auction bars (08:59, 20:59) and closing ticks (15:00:00): merge them into "
    "their sessions' bars, or refuse them.",
)
NIGHT_DATE = typer.Option(
    "calendar",
    "--night-date",
    help="How the file dates night bars: calendar (the evening they traded) or trading_day "
    "(the next trading day, as DCE's ActionDay in CTP).",
)


ROLLS_FILE = typer.Option(
    None,
    "--rolls",
    help="A roll schedule (CSV: trading_day,old_contract,new_contract,old_price,new_price).",
)
CONTRACT_COLUMN = typer.Option(
    None, "--contract-column", help="Column naming each bar's contract (e.g. i2009)."
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
    rolls_file: Path | None = ROLLS_FILE,
    contract_column: str | None = CONTRACT_COLUMN,
    auction: str = AUCTION,
    night_date: str = NIGHT_DATE,
    exit_days: int = typer.Option(
        1,
        "--exit-days-before-delivery",
        min=0,
        help="Delivery deadline: the last trading day before a contract's delivery month "
        "less this many trading days; roll information that keeps a contract until then is "
        "warned about.",
    ),
    detect_atrs: float = typer.Option(
        SUSPECTED_ROLL_ATRS,
        "--detect-atr-multiple",
        min=0.1,
        help="Without roll information, a session-open jump above this many ATRs is a "
        "suspected roll.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Validate a file of bars and summarise it.

    Rows, range, trading days, sessions, gaps, problems, and the rolls (given, or
    suspected where none are given)."""
    from twotier.market.summary import summarize

    calendar = _calendar(calendar_file)
    spec = _spec(instrument, instruments_file)
    loaded = read_bars(
        file,
        spec,
        label=label,
        on_bad_bar=on_bad_bar,
        bar_minutes=bar_minutes,
        calendar=calendar,
        contract_column=contract_column,
        auction=choice(auction, "--auction", ("merge", "refuse")),
        night_date=choice(night_date, "--night-date", ("calendar", "trading_day")),
    )
    schedule = None if rolls_file is None else read_schedule(rolls_file, spec.product)
    source = f"file {rolls_file}" if rolls_file else f"contract column {contract_column!r}"
    summary = summarize(
        loaded,
        calendar,
        rolls=schedule,
        roll_source=source,
        atr_multiple=detect_atrs,
        exit_days_before_delivery=exit_days,
    )
    if as_json:
        typer.echo(json_text(summary.as_dict(), indent=2))
        warn(summary.warnings)  # in the JSON, and where a person looks
        return
    _print_summary(summary)


def _print_summary(s: DataSummary) -> None:
    from rich.table import Table
    from rich.text import Text

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
    if s.merged:
        auctions, ticks = merged_counts(s.merged)
        table.add_row(
            "merged",
            f"{auctions} auction bar(s), {ticks} closing tick(s) folded into their sessions' "
            "bars (--auction merge)",
        )
    _roll_rows(table, s)
    console().print(table)
    warn(s.warnings)


def _roll_rows(table: Table, s: DataSummary) -> None:
    from rich.text import Text

    if s.roll_source is not None:
        table.add_row(
            "rolls",
            Text(f"{len(s.rolls)} from {s.roll_source} (suspected-roll detection not needed)"),
        )
        for roll, bar in zip(s.rolls, s.roll_times, strict=True):
            where = "not in the data" if bar is None else f"from bar {bar:%Y-%m-%d %H:%M}"
            table.add_row(
                "roll",
                Text(
                    f"{roll.trading_day}: {roll.old_contract} {roll.old_price:g} -> "
                    f"{roll.new_contract} {roll.new_price:g} (ratio {roll.ratio:.6f}), {where}"
                ),
            )
        return
    found = s.suspected_rolls
    table.add_row(
        "suspected rolls",
        Text(
            f"{len(found)} (session-open jumps over {s.suspect_atrs:g} x ATR(14) of "
            f"{s.suspect_minutes}-minute bars"
            + (
                "; a roll or a real gap: give --rolls or --contract-column for rolls)"
                if found
                else ")"
            )
        ),
    )
    for suspect in found:
        table.add_row(
            "suspected roll",
            Text(
                f"{suspect.time:%Y-%m-%d %H:%M} (trading day {suspect.trading_day}): "
                f"{suspect.previous_close:g} -> {suspect.open:g}, {suspect.atrs:.1f} ATRs "
                f"(previous bar {suspect.previous_time:%Y-%m-%d %H:%M})"
            ),
        )


def _problems(s: DataSummary) -> str:
    if not s.dropped and not s.repaired:
        return "none"
    lines = [f"dropped line {p.line}: {p.problem}" for p in s.dropped]
    lines += [f"line {p.line}: {p.problem}" for p in s.repaired]
    return "\n".join(lines)


@app.command("resample", short_help="Resample bars to 15 minutes on session edges.")
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
    auction: str = AUCTION,
    night_date: str = NIGHT_DATE,
    contract_column: str | None = CONTRACT_COLUMN,
) -> None:
    """Resample bars to 15 minutes on session edges (bars never span a break).

    A contract column (--contract-column) is kept, as the column 'contract'."""
    if re.fullmatch(r"[1-9][0-9]*min", to) is None:  # ASCII digits only: int() wants them
        raise UsageError(f"--to expects minutes such as 15min, got {to!r}")
    check_output_file(out, "--out", BARS, reading=[file])
    loaded = read_bars(
        file,
        _spec(instrument, instruments_file),
        label=label,
        on_bad_bar=on_bad_bar,
        bar_minutes=bar_minutes,
        calendar=_calendar(calendar_file),
        auction=choice(auction, "--auction", ("merge", "refuse")),
        night_date=choice(night_date, "--night-date", ("calendar", "trading_day")),
        contract_column=contract_column,
    )
    bars = resample(
        loaded.frame, loaded.instrument, loaded.bar_minutes, int(to[:-3]), loaded.source
    )
    write_bars(bars, out)
    _report_repairs(loaded)
    if loaded.merged:
        merged = len(loaded.merged)
        note([f"{merged} auction bar(s) and closing tick(s) merged into their sessions' bars"])
    warn(loaded.warnings)
    console().print(
        f"{len(loaded.frame):,} {loaded.bar_minutes}-minute bars -> {len(bars):,} {to} bars "
        f"(bar start labels) written to {out}",
        soft_wrap=True,
        markup=False,
    )


def _contract_files(folder: Path, spec: InstrumentSpec) -> tuple[dict[str, Path], list[str]]:
    """{contract code: file} of the bar files in ``folder`` whose name holds a code of the
    instrument's product, and the names of the other files."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    files: dict[str, Path] = {}
    skipped = []
    for path in sorted(folder.iterdir()):
        code = None
        if path.is_file() and is_bar_file(path.name):
            try:
                code = contract_in_file_name(path.name, spec.product)
            except ValueError as exc:
                raise DataError(str(path), str(exc)) from None
        if code is None:
            skipped.append(path.name)
        elif code in files:
            raise DataError(str(path), f"a second file of contract {code} (after {files[code]})")
        else:
            files[code] = path
    if not files:
        raise UsageError(
            f"{folder}: no bar file named after a {spec.product} contract "
            f"(e.g. {spec.product}2202.csv or {spec.market}.{spec.product}2202.m1.csv)"
        )
    return files, skipped


def _report_repairs(loaded: LoadedBars) -> None:
    note([f"{loaded.source}: dropped line {p.line}: {p.problem}" for p in loaded.dropped])
    note([f"{loaded.source}: line {p.line}: {p.problem}" for p in loaded.repaired])


def _print_rolls(schedule: RollSchedule, title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title))
    for name in ("trading day", "old", "new", "old price", "new price", "ratio"):
        table.add_column(name, justify="right" if "price" in name or name == "ratio" else "left")
    for r in schedule:
        table.add_row(
            str(r.trading_day),
            r.old_contract,
            r.new_contract,
            f"{r.old_price:g}",
            f"{r.new_price:g}",
            f"{r.ratio:.6f}",
        )
    console().print(table)


@app.command("rolls")
def rolls_command(
    folder: Path = typer.Argument(
        ...,
        help="Folder of per-contract bar files, the contract in each name "
        "(cu2202.csv, SHFE.cu2203.m1.csv); files of other products are skipped.",
    ),
    instrument: str = INSTRUMENT,
    by: str = typer.Option(
        "open_interest", "--by", help="What makes a contract the main one: open_interest or volume."
    ),
    confirm_days: int = typer.Option(
        3, "--confirm-days", min=1, help="Trading days a new leader must lead before it takes over."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the roll schedule (CSV)."),
    spliced: Path | None = typer.Option(
        None, "--spliced", help="Write the spliced main-contract bars with a contract column."
    ),
    label: str = LABEL,
    on_bad_bar: str = ON_BAD,
    instruments_file: Path | None = INSTRUMENTS_FILE,
    bar_minutes: int | None = BAR_MINUTES,
    calendar_file: Path | None = CALENDAR_FILE,
) -> None:
    """Build a roll schedule from per-contract files.

    The main contract is the leader by open interest (or volume), switched to once it has
    led --confirm-days trading days."""
    if by not in ("open_interest", "volume"):
        raise UsageError(f"--by must be open_interest or volume, not {by!r}")
    spec = _spec(instrument, instruments_file)
    files, skipped = _contract_files(folder, spec)
    if out is not None and spliced is not None and out.resolve() == spliced.resolve():
        raise UsageError(f"--out and --spliced are both {out}; give two files")
    for path, option, kind in ((out, "--out", ROLL_SCHEDULE), (spliced, "--spliced", BARS)):
        if path is not None:
            check_output_file(path, option, kind, reading=files.values())
    calendar = _calendar(calendar_file)
    frames = {}
    for code, path in files.items():
        loaded = read_bars(
            path, spec, label=label, on_bad_bar=on_bad_bar, bar_minutes=bar_minutes,
            calendar=calendar,
        )  # fmt: skip
        _report_repairs(loaded)
        frames[code] = loaded.frame
    schedule, bars = main_contract(
        frames, by, confirm_days, sources={code: str(path) for code, path in files.items()}
    )
    if skipped:
        console().print(f"skipped (no {spec.product} contract in the name): {', '.join(skipped)}",
                      markup=False, soft_wrap=True)  # fmt: skip
    measure = by.replace("_", " ")
    _print_rolls(
        schedule,
        f"{spec.key}: {len(schedule)} roll(s) among {', '.join(frames)} "
        f"(by {measure}, {confirm_days} trading days to confirm)",
    )
    if out is not None:
        write_schedule(schedule, out)
        console().print(f"roll schedule written to {out}", markup=False, soft_wrap=True)
    if spliced is not None:
        write_bars(bars, spliced)
        console().print(
            f"{len(bars):,} spliced bars (bar start labels, contract column 'contract') "
            f"written to {spliced}",
            markup=False,
            soft_wrap=True,
        )
