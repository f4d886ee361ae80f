"""Where a sweep runs: a local Dask cluster of worker processes (one thread each: the
engine is pure Python and holds the GIL), or an existing cluster given by its scheduler
address. Either way the workers must run this twotier version."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster
from distributed.comm import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin

from twotier import __version__
from twotier.errors import ConfigError

# The local cluster's workers do not sample their own stacks every 10 ms for the
# dashboard's profile page: a sweep's worker holds about 15 MB less and gives the engine
# the interpreter that often. A cluster of the user's own (``--scheduler``) keeps its
# settings.
LOCAL_WORKERS = {"distributed.worker.profile.enabled": False}


@contextmanager
def dask_client(
    workers: int = 2, scheduler: str | None = None, wait_seconds: float = 60
) -> Iterator[Client]:
    if scheduler:
        with _remote(scheduler, wait_seconds) as client:
            yield client
        return
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}")
    with _environment_kept():
        with dask.config.set(LOCAL_WORKERS), _children_ignore_interrupts():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",  # a free port: never clash with another
            )
        with cluster, Client(cluster) as client:
            check_workers(client)
            client.register_plugin(ClosedHeartbeatsQuiet())
            yield client


HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat."


class ClosedHeartbeatsQuiet(WorkerPlugin):
    """The local cluster's workers do not log a heartbeat that met the scheduler's side
    of the connection closed: the sweep's own process closes that scheduler (at the end
    and on a Ctrl-C), and a worker whose heartbeat was under way then printed a traceback
    (distributed logs it with the exception). Any other heartbeat failure is logged."""

    name = "twotier-closed-heartbeats-quiet"

    def setup(self, worker) -> None:
        logging.getLogger("distributed.worker").addFilter(not_a_closed_heartbeat)


def not_a_closed_heartbeat(record: logging.LogRecord) -> bool:
    failure = record.exc_info[1] if record.exc_info else None
    return not (record.msg == HEARTBEAT_FAILED and isinstance(failure, CommClosedError))


@contextmanager
def _environment_kept() -> Iterator[None]:
    """The process's environment as it was, after a local cluster: its nannies set their
    workers' (thread counts of the math libraries, malloc's trim threshold, the hash
    seed) in ours, where a notebook would keep them for everything it runs after."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for key in [k for k in os.environ if k not in before]:
            del os.environ[key]
        for key, value in before.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


@contextmanager
def _on_sigint(handler) -> Iterator[None]:
    """SIGINT taken by ``handler`` meanwhile, then as before; only the main thread can
    set it (elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _children_ignore_interrupts():
    """Processes started meanwhile (the local cluster's nannies and workers) ignore
    SIGINT: a terminal's Ctrl-C goes to the whole process group, and workers killed by it
    printed their tracebacks and failed the runs in flight, which a sweep whose own
    interrupt Python had dropped went on to rank. The sweep's process alone takes it and
    closes the cluster. (A Ctrl-C while the cluster starts is ignored.)"""
    return _on_sigint(signal.SIG_IGN)


@contextmanager
def interrupts_noted() -> Iterator[Callable[[], bool]]:
    """A Ctrl-C raises KeyboardInterrupt as usual and is noted: Python drops one raised
    inside a finalizer (a Dask future's, say), so a loop asks ``interrupted()`` too."""
    noted: list[bool] = []

    def note(signum, frame) -> None:
        noted.append(True)
        raise KeyboardInterrupt

    with _on_sigint(note):
        yield lambda: bool(noted)


@contextmanager
def _remote(address: str, wait_seconds: float) -> Iterator[Client]:
    probe_scheduler(address, wait_seconds)
    try:
        client = Client(address, timeout=f"{wait_seconds}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=wait_seconds)
        except TimeoutError:
            raise ConfigError(
                f"the Dask scheduler at {address} has no worker after {wait_seconds:.0f} s"
            ) from None
        check_workers(client)
        yield client
    finally:
        client.close()


PROBE_SECONDS = 10.0
HANDSHAKE_BYTES = 1 << 20  # a scheduler's handshake is a small dict


def probe_scheduler(address: str, wait_seconds: float, answer_seconds: float = PROBE_SECONDS):
    """Refuse an address where no Dask scheduler answers, before Dask's client reads
    from it (it takes the first eight bytes of any answer as a message length, and
    something else answering there, a web or SSH server, makes it allocate exabytes).
    A scheduler sends its handshake first on every new connection: a length-prefixed
    message of frames. Connecting is tried again for ``wait_seconds`` (a scheduler may be
    starting, as Dask's client allows); the handshake must come within
    ``answer_seconds``. Only ``tcp://`` addresses are probed (TLS is Dask's to check)."""
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--scheduler {address}: expected tcp://HOST:PORT")
    conn = _connect(address, host.strip("[]"), int(port), wait_seconds)  # IPv6 in brackets
    with conn:
        try:
            conn.settimeout(answer_seconds)
            head = _read(conn, 8)
            (size,) = struct.unpack("<Q", head)
            if not 16 <= size <= HANDSHAKE_BYTES:
                raise ConfigError(
                    f"something answers at {address}, but not a Dask scheduler (its first "
                    f"bytes are {head!r}); check the address and port"
                )
            (frames,) = struct.unpack("<Q", _read(conn, 8))
            if not 1 <= frames <= 64:
                raise ConfigError(f"something answers at {address}, but not a Dask scheduler")
        except TimeoutError:
            raise ConfigError(
                f"no Dask scheduler answers at {address} (nothing within "
                f"{answer_seconds:.0f} s; something else may be listening there)"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _connect(address: str, host: str, port: int, wait_seconds: float) -> socket.socket:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return socket.create_connection((host, port), timeout=max(1.0, wait_seconds))
        except (ConnectionRefusedError, TimeoutError) as exc:
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {address}: {exc} (for "
                    f"{wait_seconds:.0f} s)"
                ) from None
            time.sleep(0.2)
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("the connection closed without a handshake")
        data += chunk
    return data


def check_workers(client: Client) -> None:
    """Every worker imports twotier (which also loads the engine before the first task)
    and has the same version as this process."""
    try:
        versions = client.run(worker_version)
    except ImportError as exc:
        raise ConfigError(f"a Dask worker cannot import twotier: {exc}") from None
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        raise ConfigError(f"Dask workers run another twotier version than {__version__}: {wrong}")


def worker_version() -> str:
    import twotier.optimize.tasks  # noqa: F401  (the engine, loaded once per worker)

    return __version__


def dashboard(client: Client) -> str:
    """The dashboard address, with a word where its plots cannot be drawn."""
    link = client.dashboard_link
    if not client.run_on_scheduler(has_bokeh):
        base = link.rsplit("/", 1)[0]
        return f"{link} (plots need bokeh; the worker list is at {base}/info/main/workers.html)"
    return link


def has_bokeh() -> bool:
    return importlib.util.find_spec("bokeh") is not None
