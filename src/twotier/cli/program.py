"""The ``twotier`` program's entry (the console script and ``python -m twotier``): what is
done before the commands are imported, then the commands (``twotier.cli.main``).

Importing the commands takes about 0.3 s (pandas, pyarrow, the configuration models), all
of it holding the GIL. The bar files a backtest or signals command line names are read
meanwhile on the background thread, where pyarrow's CSV reader lets go of the GIL
(``twotier.market.plain_csv.read_ahead``): about 0.04 s of a ten-year backtest."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from twotier.collector import collector_paused

# pyarrow's own allocator (mimalloc) keeps what it frees for later; the C library's gives
# most of it back, so a ten-year backtest peaks about 30 MB lower (335 -> 305 MB) in the
# same time. Read when pyarrow loads (before anything here loads it); a pool the user
# chose stays.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

READS_BAR_FILES = frozenset({"backtest", "signals"})  # with --bars INSTRUMENT=FILE


def console() -> None:
    """The program: the bar files read ahead, then the command run."""
    with collector_paused():
        read_bar_files_ahead(sys.argv[1:])
    from twotier.cli.main import console as run_command

    run_command()


def read_bar_files_ahead(args: list[str]) -> None:
    files = bar_files_named(args)
    if not files:  # pyarrow loads only for a command that reads bar files
        return
    from twotier.market.plain_csv import read_ahead

    for path in files:
        read_ahead(path)


def bar_files_named(args: list[str]) -> list[Path]:
    """The files of the ``--bars INSTRUMENT=FILE`` options of a backtest or signals
    command line, read the simple way: only a guess of what to read ahead (what the
    command reads is what typer parses; a file guessed wrong is read for nothing)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in READS_BAR_FILES:
        return []
    values = []
    for k, arg in enumerate(args):
        if arg == "--bars" and k + 1 < len(args):
            values.append(args[k + 1])
        elif arg.startswith("--bars="):
            values.append(arg.removeprefix("--bars="))
    named = [value.partition("=") for value in values]
    return [Path(file) for key, sep, file in named if key and sep and file]
