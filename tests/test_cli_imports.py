"""What the ``twotier`` program loads: rich only in a command that prints with it, its
tables and progress bars only where they are drawn; the sample generator and the data
summary only in the commands that use them. Each test runs Python in a fresh
interpreter, as a user does."""

from __future__ import annotations

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
