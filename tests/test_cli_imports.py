"""What the ``twotier`` program loads: rich only in a command that prints with it, its
tables and progress bars only where they are drawn; the sample generator and the data
summary only in the commands that use them. Each test runs Python in a fresh
interpreter, as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RICH_LOADED = "print(*sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"


def _printed(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_commands_load_without_rich():
    assert _printed(f"import twotier.cli.main\n{RICH_LOADED}") == []


def test_the_commands_load_without_the_sample_generator_or_the_data_summary():
    loaded = _printed("import twotier.cli.main\nprint(*sys.modules)")
    assert "twotier.market.sample" not in loaded and "twotier.market.summary" not in loaded


def test_a_quiet_backtest_with_nothing_to_warn_about_loads_no_rich(tmp_path: Path):
    # The exit functions run as the program ends (without the interpreter's teardown).
    args = ["demo", "--end", "2023-01-31", "--out", str(tmp_path), "--quiet", "--force"]
    loaded = _printed(
        f"import atexit\natexit.register(lambda: {RICH_LOADED})\n"
        f"from twotier.cli.main import console\nsys.argv = ['twotier', *{args!r}]\nconsole()"
    )
    assert (tmp_path / "report.html").is_file()
    assert loaded == []


WARN = (
    "from twotier.cli.common import note, warn\n"
    "warn(['9 suspected roll(s) [bold]:smile: at 21:00:00'])\n"
    "note(['2 bars dropped'])\n"
)


def _warned(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{WARN}{RICH_LOADED}"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
        | env,
    )


def test_warnings_and_notes_to_a_pipe_are_plain_lines_without_rich():
    done = _warned({})
    assert done.stderr == (
        "warning: 9 suspected roll(s) [bold]:smile: at 21:00:00\nnote: 2 bars dropped\n"
    )
    assert done.stdout.split() == []  # rich never loaded


def test_warnings_go_through_rich_where_rich_is_told_stderr_is_a_terminal():
    for env in ({"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}):
        done = _warned(env)
        assert "\x1b[33mwarning:\x1b[0m 9 suspected roll(s)" in done.stderr  # yellow label
        assert "rich.console" in done.stdout.split()
    assert _warned({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}).stdout.split() == []
