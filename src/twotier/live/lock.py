"""One process per state folder: an exclusive ``flock`` on the state folder itself.

The lock is held on the folder, not on a file in it, so it holds by itself: deleting
or replacing a file cannot let a second process in. The kernel drops it when its holder
exits, however it exits (SIGKILL included), so a crashed run never leaves a stale lock
behind. The holder writes its pid into ``STATE/lock`` so that a refused process can say
who holds the folder (the file is information only).
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from twotier.errors import TwotierError


class StateLockedError(TwotierError):
    """Another process is running on the state folder."""


class StateLock:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise StateLockedError(
                f"state folder {self.folder} is in use by another twotier process "
                f"(pid {self._holder()}); stop that one first, or use another --state folder"
            ) from None
        self._fd = fd
        try:
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(f"{os.getpid()}\n")
        except OSError:
            pass  # the pid is information; the lock holds without it

    def _holder(self) -> str:
        try:
            return self.path.read_text("utf-8").strip() or "unknown"
        except (OSError, UnicodeDecodeError):
            return "unknown"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
