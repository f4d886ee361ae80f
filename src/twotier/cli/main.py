"""Entry point: ``twotier COMMAND ...``. Errors print one clear line (no traceback unless
``--debug``) and exit with a non-zero code."""

from __future__ import annotations

import sys

import typer

from twotier import __version__
from twotier.cli import config as config_commands
from twotier.cli import data as data_commands
from twotier.cli.backtest import backtest_command, demo_command
from twotier.cli.common import err_console
from twotier.cli.live import live_command
from twotier.cli.optimize import optimize_command
from twotier.cli.paper import paper_command
from twotier.cli.report import (
    compare_command,
    config_reference_command,
    report_command,
    trades_command,
)
from twotier.cli.sample import sample_command
from twotier.cli.signals import signals_command
from twotier.errors import TwotierError

app = typer.Typer(
    name="twotier",
    help="A two-tier trading system for Chinese commodity futures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_commands.app, name="data")
app.add_typer(config_commands.app, name="config")
app.command("signals")(signals_command)
app.command("backtest")(backtest_command)
app.command("demo")(demo_command)
app.command("sample")(sample_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.command("trades")(trades_command)
config_commands.app.command("reference")(config_reference_command)
app.command("optimize")(optimize_command)
app.command("paper")(paper_command)
app.command("live")(live_command)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"twotier {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """twotier: Tier-1 signal generators per instrument, a Tier-2 portfolio manager."""
    _state["debug"] = debug


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = sys.argv[1:] if argv is None else argv
    _state["debug"] = False
    try:
        app(args=args, prog_name="twotier", standalone_mode=True)
    except TwotierError as exc:
        if _state["debug"] or "--debug" in args:
            raise
        err_console.print("error: ", style="bold red", end="")
        err_console.print(str(exc), markup=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
