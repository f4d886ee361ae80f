"""Where a sweep runs: a local Dask cluster of worker processes (one thread each: the
engine is pure Python and holds the GIL), or an existing cluster given by its scheduler
address. Either way the workers must run this twotier version."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from twotier import __version__
from twotier.errors import ConfigError


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
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # a free port: never clash with another cluster
        ) as cluster,
        Client(cluster) as client,
    ):
        check_workers(client)
        yield client


@contextmanager
def _remote(address: str, wait_seconds: float) -> Iterator[Client]:
    try:
        client = Client(address, timeout=f"{wait_seconds}s")
    except (OSError, TimeoutError) as exc:
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
