"""Pieces shared by the CLI commands: consoles, option parsing, error exits."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from twotier.errors import TwotierError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class UsageError(TwotierError):
    """A command-line argument that cannot be used."""


def parse_bars_options(values: list[str]) -> dict[str, Path]:
    """``--bars DCE/i=FILE`` (repeatable) -> {instrument: path}, in the order given."""
    result: dict[str, Path] = {}
    for value in values:
        key, sep, file = value.partition("=")
        if not sep or not key or not file:
            raise UsageError(f"--bars expects INSTRUMENT=FILE (e.g. DCE/i=bars.csv), got {value!r}")
        if key in result:
            raise UsageError(f"--bars given twice for {key}")
        result[key] = Path(file)
    return result


def parse_rolls_options(values: list[str], instruments: list[str]) -> dict[str, Path]:
    """``--rolls DCE/i=FILE`` (repeatable), or ``--rolls FILE`` when one instrument is
    traded."""
    result: dict[str, Path] = {}
    for value in values:
        key, sep, file = value.partition("=")
        if not sep:
            if len(instruments) != 1:
                raise UsageError(
                    f"--rolls {value}: say which instrument it is for (--rolls INSTRUMENT=FILE)"
                )
            key, file = instruments[0], value
        if key not in instruments:
            raise UsageError(f"--rolls {value}: {key} is not one of {', '.join(instruments)}")
        result[key] = Path(file)
    return result
