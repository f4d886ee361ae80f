"""One process per state folder: an exclusive ``flock`` on ``STATE/lock``.

The kernel drops the lock when its holder exits, however it exits (SIGKILL included), so
a crashed run never leaves a stale lock behind. The holder writes its pid into the file
so that a refused process can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from twotier.errors import TwotierError


class StateLockedError(TwotierError):
    """Another process is running on the state folder."""


class StateLock:
    def __init__(self, folder: str | Path):
        self.path = Path(folder) / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StateLockedError(
                f"state folder {self.path.parent} is in use by another twotier process "
                f"(pid {holder}); stop that one first, or use another --state folder"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
