"""Pausing Python's cyclic garbage collector where a burst of objects that all live (or
hold no cycles) would make it walk them again and again for nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reference counting still frees memory as usual; only the collector's passes stop,
    and its state is restored after. Used as a decorator too (``run_tier2``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
