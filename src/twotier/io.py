"""Writing files so that nothing is ever half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed over it only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


TEXT_CHUNK = 1 << 20  # characters encoded at a time


def write_text_atomic(path: str | Path, text: str | Iterable[str | bytes]) -> None:
    """``text`` (or its parts, one after the other) as UTF-8, whole or not at all, encoded
    a chunk at a time: a report of ten years is 19 MB of text in memory (two bytes a
    character), and its bytes all at once would add another 10 MB at the run's peak. A
    part given as bytes is text in UTF-8 already, written as it is. Line ends are
    written as given (``\n``) on every system."""
    with atomic_path(path) as tmp, tmp.open("wb") as out:
        for block in _utf8_blocks(text):
            out.write(block)


def _utf8_blocks(text: str | Iterable[str | bytes]) -> Iterator:
    """``text`` (or its parts, one after the other) as UTF-8, a chunk of ``TEXT_CHUNK``
    characters at a time; a part that is not text (bytes, a buffer, a function for
    ``WritesBehind``) as it is."""
    for part in [text] if isinstance(text, str) else text:
        if not isinstance(part, str):
            yield part
            continue
        for at in range(0, len(part), TEXT_CHUNK):
            yield part[at : at + TEXT_CHUNK].encode("utf-8")


class WritesBehind:
    """Files whose bytes the background thread writes (``twotier.background``), in the
    order given, while the caller goes on: a write lets go of the GIL, so it takes the
    other core while this one formats the next file (a ten-year run folder is 34 MB, some
    50 ms of writes). Only for files inside a folder that is built whole and swapped in
    (``twotier.run.folder``), so never seen half-written: the files are written in place,
    and ``writes_behind`` waits for them before the folder is swapped in or removed."""

    def __init__(self) -> None:
        self._pending: list[Future] = []

    def write(self, path: Path, text: str | Iterable[str | bytes | Callable[[], bytes]]) -> None:
        """``text`` (or its parts, one after the other) into a new file at ``path``: text
        as UTF-8 (encoded here, a chunk at a time), bytes (or any buffer, such as
        pyarrow's) as they are; a function is called on the background thread, and what
        it returns written (work that lets go of the GIL: pyarrow's CSV writer). The
        file's parts go to the background thread together, once all are made."""
        from twotier.background import background

        file = open(path, "wb")  # noqa: SIM115 (closed on the background thread)
        blocks: list[bytes | Callable[[], bytes]] = []
        try:
            blocks.extend(_utf8_blocks(text))
        finally:  # one task a file: each task takes the GIL from this thread to start
            self._pending.append(background().submit(_write_blocks, file, blocks))

    def wait(self) -> None:
        """Wait for every write given; the first that failed is raised."""
        pending, self._pending = self._pending, []
        failed = [f.exception() for f in pending]
        first = next((e for e in failed if e is not None), None)
        if first is not None:
            raise first


def _write_blocks(file, blocks: list[bytes | Callable[[], bytes]]) -> None:
    with file:
        for block in blocks:
            file.write(block() if callable(block) else block)


@contextlib.contextmanager
def writes_behind() -> Iterator[WritesBehind]:
    """A ``WritesBehind`` whose writes are all done when the block ends; if the block
    fails, its error goes on (a write's own failure then says nothing more)."""
    behind = WritesBehind()
    try:
        yield behind
    except BaseException:
        with contextlib.suppress(BaseException):
            behind.wait()
        raise
    behind.wait()


def read_toml(path: str | Path, what: str) -> dict:
    """A TOML file as a dict; a missing or unreadable file, one that is not a regular file
    (a device, a pipe: it may never end), or bad TOML, is a ConfigError naming the file
    (``what``: "configuration file", "calendar file", ...). A byte-order mark is read past,
    as editors on Windows write one."""
    import tomllib

    from twotier.errors import ConfigError

    path = Path(path)
    try:
        if path.exists() and not path.is_file():
            raise ConfigError(f"{path}: the {what} is not a file")
        return tomllib.loads(path.read_text("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc}") from None
