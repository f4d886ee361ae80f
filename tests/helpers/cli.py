"""Running the ``twotier`` command in subprocesses, several at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


def run_cli(args: list[str], cwd: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """``python -m twotier ARGS`` in ``cwd``: wide, colourless output, captured."""
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "twotier", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


class Runs:
    """CLI invocations started together in a folder (a new scratch folder unless given);
    ``runs[name]`` waits for one."""

    def __init__(self, folder: Path | None = None, prefix: str = "twotier-cli-test-",
                 columns: int = 200):  # fmt: skip
        self.owned = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix=prefix)) if folder is None else folder
        self.columns = columns
        self._pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        self._futures: dict[str, Future] = {}

    def start(self, name: str, *args: str | Path) -> None:
        args_text = [str(a) for a in args]
        self._futures[name] = self._pool.submit(run_cli, args_text, self.folder, self.columns)

    def __contains__(self, name: str) -> bool:
        return name in self._futures

    def __getitem__(self, name: str) -> subprocess.CompletedProcess[str]:
        return self._futures[name].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self.owned:
            shutil.rmtree(self.folder, ignore_errors=True)


def invoke(args: list, capsys) -> tuple[int, str, str]:
    """``twotier ARGS`` in this process, as the console script runs it: (exit code,
    stdout, stderr)."""
    import pytest

    from twotier.cli.main import run

    with pytest.raises(SystemExit) as info:
        run([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def one_line_error(err: str) -> str:
    """The error line of a refused command: one, no traceback, and nothing else on
    stderr but warnings and notes."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert all(line.startswith(("error: ", "warning: ", "note: ")) for line in lines), err
    return errors[0]
