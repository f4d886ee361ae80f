"""Pieces shared by the CLI commands: consoles, option parsing, error exits."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from twotier.errors import TwotierError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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
