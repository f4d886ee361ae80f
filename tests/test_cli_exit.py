"""How the ``twotier`` program ends once its command is done: without the interpreter's
teardown, but with everything an exit promises (output flushed, exit functions run, the
exit code, other threads' work finished). Each test runs the program in a fresh
interpreter, as a user does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _program(prelude: str, *args: str) -> subprocess.CompletedProcess:
    code = (
        f"import sys\n{prelude}\nfrom twotier.cli.main import console\n"
        f"sys.argv = ['twotier', *{list(args)!r}]\nconsole()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_program_skips_the_teardown_after_its_command():
    # A finalizer the teardown would run at the interpreter's end: left out, also when
    # the background thread has worked (as after a backtest, whose Parquet it encodes).
    done = _program(
        "from twotier.background import background\nbackground().submit(print, 'worked').result()\n"
        "class Late:\n    def __del__(self):\n        print('torn down')\nkept = Late()",
        "--version",
    )
    assert done.returncode == 0
    assert done.stdout.startswith("worked\ntwotier ")
    assert "torn down" not in done.stdout


def test_the_exit_functions_run_and_buffered_output_is_flushed():
    done = _program(
        "import atexit\natexit.register(lambda: print('exit function ran'))\n"
        "sys.stdout.write('buffered, no newline')",
        "--version",
    )
    assert done.returncode == 0
    assert done.stdout.startswith("buffered, no newline")
    assert done.stdout.rstrip().endswith("exit function ran")


def test_an_error_keeps_its_exit_code_and_message():
    done = _program("", "report", "/nonexistent/run-folder")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "start",
    [
        "import threading\nthreading.Thread(target=work).start()",  # waited for
        "from twotier.background import background\nbackground().submit(work)",  # finished
    ],
)
def test_work_still_running_in_another_thread_is_done_before_the_end(tmp_path: Path, start):
    mark = tmp_path / "written"
    write = f"open({str(mark)!r}, 'w').write('done')"
    prelude = f"import time\ndef work():\n    time.sleep(0.5)\n    {write}\n{start}"
    done = _program(prelude, "--version")
    assert done.returncode == 0
    assert mark.read_text() == "done"


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_program_started_with_its_output_closed_keeps_its_exit_code(closed):
    # Started with fd 1 or 2 closed (a cron job's `>&-`), Python has no sys.stdout or
    # sys.stderr: flushing them ended the program with a traceback and exit code 1.
    done = _program(f"sys.{closed} = None", "--version")
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
