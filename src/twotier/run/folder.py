"""Output folders: what twotier may write over, and how it replaces one without losing
anything.

Every folder twotier writes carries a marker file, ``.twotier``, naming its kind (a
backtest run folder, a signals folder, an optimize sweep, a paper state folder, a paper
run folder). A folder given as an output is used only when it is

- new or empty, or
- a twotier folder of the same kind (by its marker, or, for folders written before
  markers existed, by holding nothing but what that kind holds) with nothing in it that
  twotier did not write: it is replaced (a run folder) or resumed (a sweep, a state).

``--force`` also replaces a twotier folder of another kind, never a paper state folder
(its database is the only record of a paper run). Anything else, a file or a folder
holding a user's files, is refused with one line saying what is there.

A folder written as a whole is built in a hidden temporary folder beside it
(``.NAME.xxxxxxxx``) and swapped in only when complete: where the system can (Linux's
``renameat2`` with ``RENAME_EXCHANGE``), the two folders trade places in one step, so that
no moment, and no kill, leaves NAME missing. Each temporary folder is locked
with ``flock`` while it is built, so the next run to the same target removes the ones a
killed run left behind and never one that a live process is still building.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from twotier.errors import TwotierError
from twotier.io import _umask

MARKER = ".twotier"
MARKER_FORMAT = 1


class OutputFolderError(TwotierError):
    """An output path twotier must not (or cannot) write."""


@dataclass(frozen=True)
class Kind:
    """A kind of folder twotier writes: its name (in the marker), how a person calls it,
    what it holds at its top level (name -> the file suffixes a subfolder holds, or None
    for a file), and the names that make an unmarked folder recognisably one."""

    name: str
    title: str
    entries: dict[str, tuple[str, ...] | None] = field(hash=False)
    signature: tuple[str, ...] = ()


RUN_ENTRIES: dict[str, tuple[str, ...] | None] = {
    "config.toml": None,
    "signals": (".parquet",),
    "trades.csv": None,
    "fills.csv": None,
    "equity.csv": None,
    "decisions.log": None,
    "summary.json": None,
    "metrics.json": None,
    "daily_returns.csv": None,
    "daily_returns.parquet": None,
    "report.html": None,
}
BACKTEST = Kind("backtest", "backtest run folder", RUN_ENTRIES, ("config.toml", "summary.json"))
PAPER_RUN = Kind("paper-run", "paper run folder", RUN_ENTRIES, ("config.toml", "summary.json"))
SIGNALS = Kind("signals", "signals folder", {"signals": (".parquet",)}, ("signals",))
OPTIMIZE = Kind(
    "optimize",
    "optimize sweep folder",
    {
        "results": (".json",),
        "results.parquet": None,
        "oos_equity.parquet": None,
        "summary.json": None,
        "report.html": None,
    },
    ("results",),
)
PAPER_STATE = Kind(
    "paper-state",
    "paper state folder",
    {
        "state.db": None,
        "state.db-wal": None,
        "state.db-shm": None,
        "state.db-journal": None,
        "lock": None,
        "paper.log": None,
        "config.toml": None,
        "run": None,  # the default run folder: a paper run folder of its own
    },
    ("state.db",),
)
KINDS = {k.name: k for k in (BACKTEST, PAPER_RUN, SIGNALS, OPTIMIZE, PAPER_STATE)}

# mkdtemp's names: the prefix and eight characters of this alphabet.
_TEMPORARY = r"\.{name}\.(?:[a-z0-9_]{{8}}|old)"


@dataclass(frozen=True)
class Found:
    """What an output path holds now."""

    path: Path
    exists: bool
    kind: Kind | None = None  # a twotier folder of this kind (marked, or recognised)
    marked: bool = False


def write_marker(folder: Path, kind: Kind) -> None:
    text = json.dumps({"twotier": kind.name, "format": MARKER_FORMAT}) + "\n"
    (folder / MARKER).write_text(text, encoding="utf-8")


def marked_kind(folder: Path) -> Kind | None:
    """The kind a folder's marker names, or None (no marker, or not one of ours)."""
    try:
        body = json.loads((folder / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return KINDS.get(body.get("twotier")) if isinstance(body, dict) else None


def inspect(path: Path, kind: Kind, option: str = "--out") -> Found:
    """What ``path`` holds, or an OutputFolderError when ``kind`` must not be written there
    (``--force`` aside: ``check`` decides that)."""
    path = Path(path)
    where = f"{option} {path}"
    if path.is_symlink():
        raise OutputFolderError(f"{where}: a symbolic link; give the folder itself")
    if Path.cwd().resolve().is_relative_to(path.resolve()):
        raise OutputFolderError(f"{where}: the current folder (or above it); give one inside it")
    if not path.exists():
        _check_creatable(path, where)
        return Found(path, exists=False)
    if not path.is_dir():
        raise OutputFolderError(
            f"{where}: a file is there, not a folder; give a new or empty folder "
            "(twotier never overwrites a file it did not write)"
        )
    try:
        names = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        raise OutputFolderError(f"{where}: cannot read the folder ({_reason(exc)})") from None
    if not names:
        _check_writable(path, where)
        return Found(path, exists=True)
    marked = marked_kind(path)
    found = marked or _recognised(path, names, kind)
    if found is None:
        raise OutputFolderError(
            f"{where}: the folder holds files twotier did not write ({_listed(names)}); "
            "give a new or empty folder"
        )
    foreign = _foreign(path, names, found)
    if foreign:
        raise OutputFolderError(
            f"{where}: a twotier {found.title} holding files twotier did not write "
            f"({_listed(foreign)}); move them out, or give another folder"
        )
    _check_writable(path, where)
    return Found(path, exists=True, kind=found, marked=marked is not None)


def check(
    path: Path, kind: Kind, *, force: bool = False, option: str = "--out", force_hint: bool = True
) -> Found:
    """``inspect``, and refuse a twotier folder of another kind unless ``force`` (never a
    paper state folder)."""
    found = inspect(path, kind, option)
    other = found.kind
    if other is None or other == kind:
        return found
    where = f"{option} {path}"
    if other == PAPER_STATE:
        raise OutputFolderError(
            f"{where}: a twotier paper state folder, not a {kind.title}; give another folder "
            "(a paper state is never replaced)"
        )
    if not force:
        hint = ", or --force to replace it" if force_hint else ""
        raise OutputFolderError(
            f"{where}: a twotier {other.title}, not a {kind.title}; give another folder{hint}"
        )
    return found


def write_folder(
    path: str | Path,
    kind: Kind,
    fill: Callable[[Path], None],
    *,
    force: bool = False,
    option: str = "--out",
) -> Path:
    """Build a folder of ``kind`` with ``fill(folder)`` beside ``path`` and swap it in
    when complete (an earlier folder there is replaced only then)."""
    path = Path(path)
    check(path, kind, force=force, option=option)
    _make_parent(path, option)
    remove_stale(path)
    with _building(path, kind) as tmp:
        fill(tmp)
        check(path, kind, force=force, option=option)  # it may have changed meanwhile
        _swap(tmp, path)
    return path


def claim_folder(
    path: str | Path,
    kind: Kind,
    *,
    force: bool = False,
    option: str = "--out",
    force_hint: bool = True,
) -> Found:
    """A folder written in place (a sweep resumed, a paper state): checked, created if
    new, a forced folder of another kind removed, and marked."""
    path = Path(path)
    found = check(path, kind, force=force, option=option, force_hint=force_hint)
    if found.kind is not None and found.kind != kind:
        _remove_ours(path)
        found = Found(path, exists=False)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not found.marked:
            write_marker(path, kind)
    except OSError as exc:
        raise OutputFolderError(f"{option} {path}: cannot write it ({_reason(exc)})") from None
    return found


def remove_stale(path: Path) -> list[Path]:
    """Temporary folders of ``path`` that a killed run left behind (marked, or empty, and
    locked by nobody), removed; returns them."""
    pattern = re.compile(_TEMPORARY.format(name=re.escape(path.name)))
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return removed
    for left in candidates:
        if left.is_symlink() or not left.is_dir():
            continue
        if marked_kind(left) is None and any(left.iterdir()):
            continue  # not ours
        with _locked(left, wait=False) as held:
            if held:
                shutil.rmtree(left, ignore_errors=True)
                removed.append(left)
    return removed


# -- helpers -----------------------------------------------------------------------------


def _recognised(path: Path, names: list[str], kind: Kind) -> Kind | None:
    """An unmarked folder is ``kind`` when it holds the kind's signature and nothing else
    than what the kind holds (a folder of an earlier twotier version)."""
    if not kind.signature or not set(kind.signature) <= set(names):
        return None
    return None if _foreign(path, names, kind) else kind


def _foreign(path: Path, names: list[str], kind: Kind) -> list[str]:
    """The entries of the folder that a folder of ``kind`` does not hold."""
    out = []
    for name in names:
        if name == MARKER or _is_own_temporary(name, kind):
            continue
        if name not in kind.entries:
            out.append(name)
            continue
        suffixes, entry = kind.entries[name], path / name
        if suffixes is None:
            if kind == PAPER_STATE and name == "run":  # a run folder, checked when written
                continue
            if not entry.is_file() or entry.is_symlink():
                out.append(name)
        elif not entry.is_dir() or entry.is_symlink():
            out.append(name)
        else:
            out += [f"{name}/{p.name}" for p in entry.iterdir() if not _holds(p, suffixes)]
    return out


def _holds(entry: Path, suffixes: tuple[str, ...]) -> bool:
    name = entry.name
    own_temporary = name.startswith(".") and name.endswith(".tmp")  # twotier.io's
    return entry.is_file() and (name.endswith(suffixes) or own_temporary)


def _is_own_temporary(name: str, kind: Kind) -> bool:
    """``twotier.io.atomic_path``'s temporary files (``.NAME.xxxx.tmp``) of the kind's
    files, and the temporary folders of the kind's subfolders."""
    for entry in kind.entries:
        if name.startswith(f".{entry}.") and name.endswith(".tmp"):
            return True
        if re.fullmatch(_TEMPORARY.format(name=re.escape(entry)), name):
            return True
    return False


def _listed(names: list[str], most: int = 4) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_creatable(path: Path, where: str) -> None:
    """The nearest existing ancestor must be a folder we may write in."""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        if ancestor.is_symlink():  # a dangling link
            raise OutputFolderError(f"{where}: {ancestor} is a broken symbolic link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputFolderError(f"{where}: {ancestor} is a file, not a folder")
    _check_writable(ancestor, where)


def _check_writable(folder: Path, where: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFolderError(f"{where}: cannot write in {folder} (permission denied)")


def _make_parent(path: Path, option: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"{option} {path}: cannot create it ({_reason(exc)})") from None


@contextlib.contextmanager
def _building(path: Path, kind: Kind) -> Iterator[Path]:
    """A marked, locked temporary folder beside ``path``; removed unless swapped in."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise OutputFolderError(f"cannot write beside {path} ({_reason(exc)})") from None
    try:
        with _locked(tmp, wait=True):
            tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; give what mkdir would
            write_marker(tmp, kind)
            yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _locked(folder: Path, *, wait: bool) -> Iterator[bool]:
    """An exclusive flock on the folder itself; yields whether it was taken."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _swap(tmp: Path, path: Path) -> None:
    """Put ``tmp`` where ``path`` is and remove the earlier folder: the two exchanged in
    one step where the system can, else the earlier one moved aside first."""
    if not path.exists():
        tmp.rename(path)
        return
    if _exchange(tmp, path):
        shutil.rmtree(tmp, ignore_errors=True)  # the earlier folder, now here
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    path.rename(aside)  # over the empty folder just made
    tmp.rename(path)
    shutil.rmtree(aside, ignore_errors=True)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Two paths trade places atomically (Linux 3.15 and glibc 2.28 on); False where the
    system or the file system cannot, for the caller to do it in two steps."""
    import ctypes  # only when a folder is replaced

    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):  # EPERM: seccomp
        return False
    raise OSError(code, os.strerror(code), str(b))


def _remove_ours(path: Path) -> None:
    """A twotier folder (checked by the caller) moved aside, then removed."""
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    path.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)
