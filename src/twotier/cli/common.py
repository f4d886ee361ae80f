"""Pieces shared by the CLI commands: consoles, option parsing, error exits."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from twotier.analysis.metrics import yearly_rate
from twotier.errors import ConfigError, TwotierError

if TYPE_CHECKING:
    from rich.console import Console


@cache
def console() -> Console:
    """Standard output's console, made when first printed to: rich loads only in a
    command that prints with it (not with --quiet or --json but for warnings)."""
    return _console(stderr=False)


@cache
def err_console() -> Console:
    """Standard error's console: errors, warnings, notes, progress."""
    return _console(stderr=True)


def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


class UsageError(TwotierError):
    """A command-line argument that cannot be used."""


def parse_instrument_files(values: list[str], option: str = "--bars") -> dict[str, Path]:
    """``--bars DCE/i=FILE`` (repeatable) -> {instrument: path}, in the order given."""
    result: dict[str, Path] = {}
    for value in values:
        key, sep, file = value.partition("=")
        if not sep or not key or not file:
            raise UsageError(
                f"{option} expects INSTRUMENT=FILE (e.g. DCE/i=bars.csv), got {value!r}"
            )
        if key in result:
            raise UsageError(f"{option} given twice for {key}")
        result[key] = Path(file)
    return result


def parse_bars_options(values: list[str]) -> dict[str, Path]:
    return parse_instrument_files(values, "--bars")


def split_rolls_options(values: list[str]) -> dict[str | None, Path]:
    """``--rolls DCE/i=FILE`` (repeatable) or ``--rolls FILE`` -> {instrument or None:
    path}; None stands for the only instrument, which may be known only later."""
    result: dict[str | None, Path] = {}
    for value in values:
        key, sep, file = value.partition("=")
        name = key if sep else None
        if sep and (not key or not file):
            raise UsageError(f"--rolls expects INSTRUMENT=FILE or FILE, got {value!r}")
        if name in result:
            raise UsageError(f"--rolls given twice for {name or 'the instrument'}")
        result[name] = Path(file if sep else value)
    return result


def resolve_rolls(rolls: dict[str | None, Path], instruments: list[str]) -> dict[str, Path]:
    """Roll files by instrument; a file given without one is the only instrument's."""
    result: dict[str, Path] = {}
    for key, path in rolls.items():
        if key is None:
            if len(instruments) != 1:
                raise UsageError(
                    f"--rolls {path}: say which instrument it is for (--rolls INSTRUMENT=FILE)"
                )
            key = instruments[0]
        if key not in instruments:
            raise UsageError(f"--rolls {key}={path}: {key} is not one of {', '.join(instruments)}")
        result[key] = path
    return result


def parse_rolls_options(values: list[str], instruments: list[str]) -> dict[str, Path]:
    """``--rolls DCE/i=FILE`` (repeatable), or ``--rolls FILE`` when one instrument is
    traded."""
    return resolve_rolls(split_rolls_options(values), instruments)


def parse_contract_columns(values: list[str]) -> str | dict[str, str] | None:
    """``--contract-column COLUMN`` (every instrument) or ``INSTRUMENT=COLUMN``
    (repeatable, one per instrument)."""
    if not values:
        return None
    bare = [v for v in values if "=" not in v]
    if bare:
        if len(values) > 1:
            raise UsageError(
                "--contract-column: give one COLUMN for every instrument, or "
                f"INSTRUMENT=COLUMN for each, not {', '.join(repr(v) for v in values)}"
            )
        return bare[0]
    columns: dict[str, str] = {}
    for value in values:
        key, _, column = value.partition("=")
        if not key or not column:
            raise UsageError(
                f"--contract-column expects COLUMN or INSTRUMENT=COLUMN, got {value!r}"
            )
        if key in columns:
            raise UsageError(f"--contract-column given twice for {key}")
        columns[key] = column
    return columns


def choice(value: str, option: str, allowed: tuple[str, ...]) -> str:
    """An option's value, one of ``allowed`` (the option named in the error)."""
    if value not in allowed:
        listed = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise UsageError(f"{option} must be {listed}, not {value!r}")
    return value


def check_rate(value: float | None) -> float | None:
    """A yearly risk-free rate: a finite fraction (0.02 for 2%; ``yearly_rate``)."""
    if value is not None:
        try:
            yearly_rate(value)
        except ConfigError:
            raise typer.BadParameter(
                f"{value} is not a yearly rate; give a fraction, 0.02 for 2%"
            ) from None
    return value


MAX_SECONDS = 7 * 24 * 3600  # a week: beyond it a wait is a mistake, not a setting


def check_seconds(value: float) -> float:
    """A wait or interval of the paper and live loops: a number of seconds from 0 to a
    week (not NaN or infinite, which no clock can count to)."""
    if not 0 <= value <= MAX_SECONDS:  # NaN fails both
        raise typer.BadParameter(f"{value} is not a number of seconds from 0 to {MAX_SECONDS}")
    return value


def check_interval(value: float) -> float:
    """``check_seconds``, and more than 0: how often a loop looks again (0 would spin)."""
    if check_seconds(value) == 0:
        raise typer.BadParameter("0 seconds would look again without pause; give more")
    return value


def seconds_option(default: float, flag: str, help: str, check=check_seconds):
    """A ``check_seconds`` (or ``check_interval``) option of the paper and live loops."""
    return typer.Option(default, flag, callback=check, help=help)


STEP_WAIT = seconds_option(30.0, "--step-wait", "Seconds a step waits for a bar.")
STALE_AFTER = seconds_option(60.0, "--stale-after", "Seconds before a stale alert.")


def warn(messages: list[str]) -> None:
    """Warnings, on stderr whatever the output mode."""
    for message in messages:
        say("warning:", "yellow", message)


def note(messages: list[str]) -> None:
    """Notes (what the run did with its input), on stderr whatever the output mode."""
    for message in messages:
        say("note:", None, message)


def say(label: str, style: str | None, message: str) -> None:
    """``label message`` on one line of stderr (an error, a warning, a note): through rich
    on a terminal (the label in its colour); elsewhere (a pipe, a file, a log) as plain
    text, as rich would write it there, without loading rich for it (a script's quiet run
    that warns)."""
    if sys.stderr is None:  # started without one (pythonw)
        return
    if not stderr_is_terminal():
        sys.stderr.write(f"{label} {message}\n")
        return
    err_console().print(f"[{style}]{label}[/] " if style else f"{label} ", end="")
    err_console().print(message, markup=False, soft_wrap=True)


def stderr_is_terminal() -> bool:
    """Whether rich would take stderr for a terminal: told so by TTY_COMPATIBLE (1 or 0)
    or FORCE_COLOR (set, not empty), else whether it is one."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    if os.environ.get("FORCE_COLOR") is not None:
        return os.environ["FORCE_COLOR"] != ""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
