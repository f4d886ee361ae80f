"""The garbage collector's handling: what the CLI freezes out of its passes, and when.
Each test runs in a fresh interpreter, since freezing is for the whole process."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [int(x) for x in done.stdout.split()]


def test_importing_the_cli_leaves_its_modules_objects_out_of_the_collectors_passes():
    young, frozen = _run(
        "import gc, twotier.cli.main; print(len(gc.get_objects(0)), gc.get_freeze_count())"
    )
    assert frozen > 100_000  # the objects of some 900 modules
    assert young < 1_000  # not left for the collector's next pass to walk


def test_settle_freezes_nothing_in_a_process_that_outlives_its_command():
    (frozen,) = _run(
        "import gc\nfrom twotier.collector import settle\n"
        "kept = [[i] for i in range(10_000)]\nsettle()\nprint(gc.get_freeze_count())"
    )
    assert frozen == 0


def test_settle_freezes_a_commands_result_in_a_process_that_ends_with_it():
    before, after = _run(
        "import gc\nfrom twotier.collector import command_process, settle\n"
        "command_process()\nbefore = gc.get_freeze_count()\n"
        "result = [[i] for i in range(10_000)]\nsettle()\n"
        "print(before, gc.get_freeze_count())"
    )
    assert after >= before + 10_000
