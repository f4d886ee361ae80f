"""How the ``twotier`` program ends once its command is done: without the interpreter's
teardown, but with everything an exit promises (output flushed, exit functions run, the
exit code, other threads' work finished). Each test runs the program in a fresh
interpreter, as a user does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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


def test_a_thread_still_working_is_waited_for(tmp_path: Path):
    mark = tmp_path / "written"
    prelude = (
        "import threading, time\n"
        f"def work():\n    time.sleep(0.5)\n    open({str(mark)!r}, 'w').write('done')\n"
        "threading.Thread(target=work).start()"
    )
    done = _program(prelude, "--version")
    assert done.returncode == 0
    assert mark.read_text() == "done"


def test_the_background_threads_work_is_finished_before_the_end(tmp_path: Path):
    mark = tmp_path / "written"
    prelude = (
        "import time\nfrom twotier.background import background\n"
        f"def work():\n    time.sleep(0.5)\n    open({str(mark)!r}, 'w').write('done')\n"
        "background().submit(work)"
    )
    done = _program(prelude, "--version")
    assert done.returncode == 0
    assert mark.read_text() == "done"
