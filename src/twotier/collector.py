"""Pausing Python's cyclic garbage collector where a burst of objects that all live (or
hold no cycles) would make it walk them again and again for nothing, and freezing what
lives to the end of a process that ends with its command."""

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


_ENDS_WITH_COMMAND = [False]


def command_process() -> None:
    """Declare this process one that ends when its command does (the ``twotier`` program,
    not a test session, the API or a sweep worker), and freeze what exists now."""
    _ENDS_WITH_COMMAND[0] = True
    gc.freeze()


def settle() -> None:
    """In a process that ends with its command, freeze what exists now out of the
    collector's passes: a command's result lives to the end, and the collector's next
    pass would walk all of it for nothing (after a ten-year backtest, 0.08 s of the
    time spent writing the run folder). Elsewhere nothing: a long-lived process must
    keep collecting what its cycles leave behind."""
    if _ENDS_WITH_COMMAND[0]:
        gc.freeze()
