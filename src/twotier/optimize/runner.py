"""The sweep on Dask. Bars are scattered to every worker once; Tier-1 packages are one
task per instrument and distinct Tier-1 configuration, shared by every parameter set with
that configuration; each parameter set and period is one Tier-2 task taking those
packages as input. Results are handled as they arrive (saved at once, for resume), but
nothing depends on their order: outcomes are returned sorted, and a walk-forward window
picks its best set only once all its training runs are in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd
from distributed import Client, Future, as_completed

from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.optimize.objective import Objective
from twotier.optimize.space import BASE_SET, ParameterSet
from twotier.optimize.store import Outcome, ResultStore, bars_fingerprint, digest, run_key
from twotier.optimize.tasks import backtest_window, compute_packages
from twotier.optimize.windows import Span, Window
from twotier.tier1.generator import generator_for

PHASE_ORDER = {"full": 0, "train": 0, "test": 1}


@dataclass(frozen=True)
class Run:
    """One backtest to have: a parameter set over one period of one window."""

    key: str
    pset: ParameterSet
    config: Config
    window: Window
    phase: str
    span: Span

    @property
    def role(self) -> tuple[int, int, str]:
        return (self.pset.set_id, self.window.index, self.phase)


@dataclass
class SweepStats:
    tier1_tasks: int = 0
    tier2_tasks: int = 0
    reused: int = 0
    failed: int = 0


class Progress(Protocol):
    def add_total(self, n: int) -> None: ...

    def advance(self, outcome: Outcome, reused: bool) -> None: ...


class _Silent:
    def add_total(self, n: int) -> None:
        pass

    def advance(self, outcome: Outcome, reused: bool) -> None:
        pass


@dataclass
class SweepRunner:
    client: Client
    sets: list[ParameterSet]  # set 0 (the base configuration) first
    configs: Mapping[int, Config]
    windows: list[Window]
    objective: Objective
    bars: Mapping[str, pd.DataFrame]
    env: Environment
    store: ResultStore
    share_tier1: bool = True
    window_task: Callable = backtest_window  # tests swap in one that fails
    progress: Progress = field(default_factory=_Silent)
    stats: SweepStats = field(default_factory=SweepStats)
    choices: dict[int, int] = field(default_factory=dict)  # window -> chosen set id
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._data = {k: bars_fingerprint(v) for k, v in self.bars.items()}
        self._outcomes: dict[tuple[int, int, str], Outcome] = {}
        self._waiting: dict[Future, list[Run]] = {}
        self._by_key: dict[str, Future] = {}
        self._tier1: dict[str, Future] = {}
        self._scattered: dict[str, Future] | None = None
        self._env_future: Future | None = None
        self._queue = as_completed()

    @property
    def walk_forward(self) -> bool:
        return self.windows[0].test is not None

    def run(self) -> list[Outcome]:
        phase = "train" if self.walk_forward else "full"
        self._schedule([self._run(s, w, phase) for w in self.windows for s in self.sets])
        for window in self.windows:
            self._select_when_trained(window)
        for future in self._queue:
            runs = self._waiting.pop(future)
            self._by_key.pop(runs[0].key, None)
            payload = _collect(future)
            for run in runs:
                self._record(run, payload, reused=False)
            if self.walk_forward and runs[0].phase == "train":
                self._select_when_trained(runs[0].window)
        self._tier1.clear()  # let the workers drop the packages
        return sorted(self._outcomes.values(), key=_order)

    # ------------------------------------------------------------------ scheduling

    def _run(self, pset: ParameterSet, window: Window, phase: str) -> Run:
        span = window.test if phase == "test" else window.train
        config = self.configs[pset.set_id]
        key = run_key(pset.overrides, config, self._data, span, steps=phase == "test")
        return Run(key, pset, config, window, phase, span)

    def _schedule(self, runs: list[Run]) -> None:
        self.progress.add_total(len(runs))
        for run in runs:
            stored = self.store.load(run.key)
            if stored is not None and stored.ok:  # failed runs get another go
                self._record(run, _payload_of(stored), reused=True)
            elif run.key in self._by_key:
                self._waiting[self._by_key[run.key]].append(run)
            else:
                self._submit(run)

    def _submit(self, run: Run) -> None:
        future = self.client.submit(
            self.window_task,
            run.config,
            self._packages(run),
            self._environment(),
            str(run.span.start),
            str(run.span.end),
            run.phase == "test",
            key=f"{getattr(self.window_task, '__name__', 'task')}-{run.key}",
            pure=False,
        )
        self.stats.tier2_tasks += 1
        self._waiting[future] = [run]
        self._by_key[run.key] = future
        self._queue.add(future)

    def _packages(self, run: Run) -> dict[str, Future]:
        """One Tier-1 future per instrument and distinct Tier-1 configuration (or per
        run, when sharing is off: the benchmark's comparison)."""
        packages = {}
        for instrument in run.config.instruments:
            generator = generator_for(run.config, instrument)
            identity = [instrument, generator.name, generator.params.model_dump(mode="json")]
            # What else shapes the packages: the market columns and the back-adjustment.
            identity += [run.config.market.any, run.config.rolls.adjust]
            identity.append(self._data[instrument])
            if not self.share_tier1:
                identity.append(run.key)
            key = f"tier1-{instrument.replace('/', '_')}-{digest(identity)}"
            if key not in self._tier1:
                bars = self._bar_futures()[instrument]
                self._tier1[key] = self.client.submit(
                    compute_packages, bars, instrument, run.config, key=key, pure=False
                )
                self.stats.tier1_tasks += 1
            packages[instrument] = self._tier1[key]
        return packages

    def _bar_futures(self) -> dict[str, Future]:
        """Bars go to every worker once, not with each task (a list, so that the keys are
        hashes of the data and never clash with another sweep's on a shared cluster)."""
        if self._scattered is None:
            names = sorted(self.bars)
            futures = self.client.scatter([self.bars[k] for k in names], broadcast=True)
            self._scattered = dict(zip(names, futures, strict=True))
        return self._scattered

    def _environment(self) -> Future:
        if self._env_future is None:
            self._env_future = self.client.scatter(self.env, broadcast=True)
        return self._env_future

    # ------------------------------------------------------------------ results

    def _record(self, run: Run, payload: dict, reused: bool) -> None:
        outcome = Outcome(
            key=run.key,
            set_id=run.pset.set_id,
            window=run.window.index,
            phase=run.phase,
            start=str(run.span.start),
            end=str(run.span.end),
            values=dict(run.pset.values),
            **payload,
        )
        if not reused:
            self.store.save(outcome)  # at once: an interrupted sweep keeps it
        self.stats.reused += reused
        self.stats.failed += not outcome.ok
        self._outcomes[run.role] = outcome
        self.progress.advance(outcome, reused)

    def _select_when_trained(self, window: Window) -> None:
        """Once every set's training run of ``window`` is in, test the best set (and the
        base configuration, for comparison) on the window's test period."""
        if window.index in self.choices or not self.walk_forward:
            return
        trained = [self._outcomes.get((s.set_id, window.index, "train")) for s in self.sets]
        if any(o is None for o in trained):
            return
        candidates = [o for o in trained if o.set_id != BASE_SET]
        best = min(candidates, key=lambda o: self.objective.sort_key(o.set_id, o.metrics))
        self.choices[window.index] = best.set_id
        if not best.ok:
            self.notes.append(f"window {window.index}: every parameter set failed; not tested")
            return
        chosen = next(s for s in self.sets if s.set_id == best.set_id)
        self._schedule([self._run(chosen, window, "test"), self._run(self.sets[0], window, "test")])


def _collect(future: Future) -> dict:
    """The task's payload, or the failure as ``status``/``error``: one failing task is
    reported with its parameters and the sweep goes on."""
    try:
        if future.status == "cancelled":
            raise RuntimeError("the task was cancelled")
        return {"status": "ok", "error": None, **future.result()}
    except Exception as exc:  # any error of the task itself, reported per run
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}


def _payload_of(outcome: Outcome) -> dict:
    return {
        "status": outcome.status,
        "error": outcome.error,
        "metrics": outcome.metrics,
        "daily": outcome.daily,
        "steps": outcome.steps,
    }


def _order(outcome: Outcome) -> tuple:
    return (outcome.set_id, outcome.window, PHASE_ORDER[outcome.phase])
