"""Writing files so that nothing is ever half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
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
    part given as bytes is text in UTF-8 already, written as it is."""
    parts = [text] if isinstance(text, str) else text
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as out:
        for part in parts:
            if isinstance(part, bytes):
                out.flush()  # the text before it goes first
                out.buffer.write(part)
                continue
            for at in range(0, len(part), TEXT_CHUNK):
                out.write(part[at : at + TEXT_CHUNK])


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
