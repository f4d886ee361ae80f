"""The program builds click's objects of the one command it runs (typer builds those of
every command an app holds, on every run): help, usage errors and the command itself are
the same as from the whole app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from twotier.cli.main import app, app_for

COMMANDS = [c.name for c in app.registered_commands]


def test_every_command_of_the_app_is_run_alone_and_groups_by_the_whole_app():
    assert {"backtest", "demo", "signals", "optimize", "paper", "live"} <= set(COMMANDS)
    for name in COMMANDS:
        assert app_for([name, "--out", "x"]).registered_commands == [
            c for c in app.registered_commands if c.name == name
        ]
    for args in (["data", "check"], ["config", "show"], [], ["--version"], ["nosuch"]):
        assert app_for(args) is app


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("tail", [["-h"], ["--no-such-option"], ["--bars"]])
def test_a_command_alone_prints_what_the_whole_app_prints(name, tail):
    runner = CliRunner()
    for args in ([name, *tail], ["--debug", name, *tail]):
        alone = runner.invoke(app_for(args), args, prog_name="twotier")
        whole = runner.invoke(app, args, prog_name="twotier")
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
        assert alone.output  # help, or the usage error
