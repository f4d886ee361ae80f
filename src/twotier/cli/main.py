"""Entry point: ``twotier COMMAND ...``. Errors print one clear line (no traceback unless
``--debug``) and exit with a non-zero code."""

from __future__ import annotations

import atexit
import errno
import gc
import os
import sys
import threading

from twotier.background import background
from twotier.cli import program  # noqa: F401 (chooses pyarrow's memory pool before it loads)
from twotier.collector import collector_paused, command_process

# The commands' imports make some 900 modules' objects, which all live to the end: the
# collector would walk them about 200 times on the way (0.06 s of every command), and all
# of them at its first pass after the pause (0.09 s) were they not frozen before it resumes.
with collector_paused():
    import typer
    from typer import Abort

    # typer (pinned) vendors click; its errors are not re-exported but by this module
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from twotier import __version__
    from twotier.cli import config as config_commands
    from twotier.cli import data as data_commands
    from twotier.cli.backtest import backtest_command, demo_command
    from twotier.cli.common import err_console, note, say
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
    from twotier.errors import BadBarsError, TwotierError

    gc.freeze()


def _typer() -> typer.Typer:
    return typer.Typer(
        name="twotier",
        help="A two-tier trading system for Chinese commodity futures.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: flags shown as flags, option names never cut
        context_settings={"help_option_names": ["-h", "--help"]},
    )


app = _typer()
# The command list shows each short help whole (a docstring's first line may be longer).
app.add_typer(
    data_commands.app, name="data", short_help="Check and resample bar files; find rolls."
)
app.add_typer(config_commands.app, name="config")
app.command("signals", short_help="Tier-1 alone: write each instrument's packages.")(
    signals_command
)
app.command("backtest")(backtest_command)
app.command("demo")(demo_command)
app.command("sample")(sample_command)
app.command("report", short_help="Rebuild a run folder's report and metrics.")(report_command)
app.command("compare", short_help="Compare runs side by side, in one HTML page.")(compare_command)
app.command("trades", short_help="List the trades of a run folder.")(trades_command)
config_commands.app.command(
    "reference", short_help="Print the configuration reference (Markdown)."
)(config_reference_command)
app.command("optimize", short_help="Sweep configuration keys on Dask; walk forward.")(
    optimize_command
)
app.command("paper", short_help="Paper-trade on bars as they arrive, crash-safe.")(paper_command)
app.command("live", short_help="Trade live through a vn.py gateway (CTP and others).")(live_command)

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


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``args``: where they name a command (not a group of them), an app
    of that command alone, the same to click but for the commands it lists, which ``args``
    never ask for (typer makes click's objects of every command an app holds on every
    run: 8 ms for all, under 1 for one); otherwise the whole app."""
    name = next((a for a in args if not a.startswith("-")), None)
    info = next((c for c in app.registered_commands if c.name == name), None)
    if info is None:
        return app
    alone = _typer()
    alone.callback()(main)
    alone.registered_commands.append(info)
    return alone


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: every error is one line on stderr and a non-zero exit
    (``--debug`` shows the traceback)."""
    args = sys.argv[1:] if argv is None else argv
    _state["debug"] = False
    debug = "--debug" in args
    try:
        code = app_for(args)(args=args, prog_name="twotier", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:  # click's: an unknown option, a value of the wrong type
        command = exc.ctx.command_path if exc.ctx is not None else "twotier"
        _error(f"{exc.format_message()} (see {command} -h)")
        sys.exit(exc.exit_code)
    except ClickException as exc:
        _error(exc.format_message())
        sys.exit(exc.exit_code)
    except Abort:
        _error("aborted")
        sys.exit(1)
    except BadBarsError as exc:
        if _state["debug"] or debug:
            raise
        _bad_bars(exc)
        sys.exit(1)
    except TwotierError as exc:
        if _state["debug"] or debug:
            raise
        _error(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        err_console().print("interrupted")
        sys.exit(130)
    except OSError as exc:  # a file the user named that cannot be read or written
        if _state["debug"] or debug or exc.errno == errno.EPIPE:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        sys.exit(1)
    except Exception as exc:
        if _state["debug"] or debug:
            raise
        _error(
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in twotier: run "
            "again with --debug for the traceback and report it"
        )
        sys.exit(3)
    sys.exit(code or 0)


def console() -> None:
    """The ``twotier`` program once its commands are imported (``twotier.cli.program``,
    the console script and ``python -m twotier``): ``run`` in a process that ends with
    the command (``collector.settle`` freezes a command's result out of the collector's
    passes), then the objects the command made frozen out of the interpreter's last
    garbage collection, which would otherwise walk all of them on the way out (0.2 s
    after a ten-year backtest). Only for a process that ends here: ``run`` alone in
    tests."""
    command_process()
    try:
        run()
    except SystemExit as done:
        if isinstance(done.code, int | None):
            _leave(done.code or 0)
        raise
    finally:
        gc.freeze()


def _leave(code: int) -> None:
    """End the process now that the command is done, without the interpreter's teardown:
    it frees the command's objects one by one (0.02 s after a ten-year backtest) for a
    process about to lose all its memory at once. Only once the background thread's task
    under way is done (one not started is dropped: only files read ahead for a command
    that failed before it read them can be left) and no other thread runs; the exit
    functions run and the output is flushed as at any exit. Otherwise (or if flushing
    fails) the usual exit."""
    if background.cache_info().currsize:
        background().shutdown(wait=True, cancel_futures=True)
    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the program was started with it closed
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _bad_bars(exc: BadBarsError) -> None:
    """Bad bars as one error line (the file, how many, the first, what to do) and a note
    for each of the first ten."""
    first = exc.problems[0]
    _error(
        f"{exc.source}: {len(exc.problems)} bad bar(s), the first at {exc.unit} {first.line}: "
        f"{first.problem} ({exc.hint})"
    )
    note([f"{exc.unit} {p.line}: {p.problem}" for p in exc.problems[1:10]])
    if len(exc.problems) > 10:
        note([f"... and {len(exc.problems) - 10} more"])


def _error(message: str) -> None:
    say("error:", "bold red", message)
