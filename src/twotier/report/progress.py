"""Progress of the CLI's long steps on stderr, only when stderr is a terminal (so pipes,
files, --json and --quiet see nothing of it)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class Phases:
    """Named steps of a command: ``with phases.step("Tier-2", total=n) as advance: ...``;
    a step without a total shows a spinner and its elapsed time. Where nothing is shown,
    no progress bar is made (nor rich's progress module imported)."""

    def __init__(self, console: Callable[[], Console], enabled: bool = True):
        """``console``: gives the console to draw on, asked for only if ``enabled``."""
        shown = enabled and console().is_terminal
        self.progress = _progress_bars(console()) if shown else None

    def __enter__(self) -> Phases:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def reporter(self, names: dict[str, str] | None = None):
        """A ``progress(phase, done, total)`` callback for the engine: one bar per phase;
        None where nothing is shown."""
        if self.progress is None:
            return None
        progress = self.progress
        names = names or {"tier1": "Tier-1 generators", "tier2": "Tier-2 steps"}
        tasks: dict[str, int] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(names.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        return report

    @contextlib.contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Callable]:
        if self.progress is None:
            yield _nothing
            return
        task = self.progress.add_task(description, total=total)
        try:
            yield lambda n=1: self.progress.advance(task, n)
        finally:
            self.progress.update(task, total=total or 1, completed=total or 1)


def _nothing(n: int = 1) -> None:
    """A hidden step's ``advance``."""


def _progress_bars(console: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
