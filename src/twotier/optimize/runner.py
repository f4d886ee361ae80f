"""The sweep on Dask. Bars are scattered to every worker once; Tier-1 packages are one
task per instrument and distinct Tier-1 configuration, shared by every parameter set with
that configuration; parameter sets with the same packages and period run in one Tier-2
task over a batch (``tasks.backtest_batch``: one set after the other, sharing the tapes),
a few batches per worker so that the workers stay evenly busy. The runner holds a Tier-1
configuration's packages only while a batch it has still to submit reads them (each
batch's task holds its own until it has run; a walk-forward keeps the base
configuration's, which every window tests), so that the workers keep the packages of the
work in flight, not of every configuration the sweep has seen. Results are handled as
they arrive (saved at once, for resume), but nothing depends on their order: outcomes are
returned sorted, and a walk-forward window picks its best set only once all its training
runs are in.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd
from distributed import Client, Future, as_completed

from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.optimize.cluster import interrupts_noted
from twotier.optimize.objective import Objective
from twotier.optimize.space import BASE_SET, ParameterSet
from twotier.optimize.store import (
    Outcome,
    ResultStore,
    bars_fingerprint,
    digest,
    environment_fingerprint,
    run_key,
)
from twotier.optimize.tasks import backtest_batch, backtest_window, compute_packages, failure
from twotier.optimize.windows import Span, Window
from twotier.tier1.generator import generator_for

PHASE_ORDER = {"full": 0, "train": 0, "test": 1}
MAX_BATCH = 8  # parameter sets in one Tier-2 task at most (a smaller last batch idles less)
BATCHES_PER_WORKER = 4  # at least, where there are enough sets: evens out the workers' load


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
    tier2_tasks: int = 0  # Dask tasks, each a batch of runs
    tier2_runs: int = 0  # backtests computed
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
        # This sweep's own Dask keys: a key another client has just released (a sweep of
        # the same runs before this one, on a shared cluster) can race with its release.
        self._token = uuid.uuid4().hex[:12]
        self._data = {k: bars_fingerprint(v) for k, v in self.bars.items()}
        self._env_fp = environment_fingerprint(self.env)
        self._outcomes: dict[tuple[int, int, str], Outcome] = {}
        # Each task's batch: the runs of each of its configurations (equal keys share one).
        self._waiting: dict[Future, list[list[Run]]] = {}
        self._by_key: dict[str, list[Run]] = {}  # the runs waiting for a key's result
        self._tier1: dict[str, Future] = {}
        # Batches scheduled but not yet submitted that read each Tier-1 key: a key's
        # packages are let go once its last batch is submitted.
        self._readers: dict[str, int] = {}
        # Keys let go only at the end: a walk-forward tests the base configuration in
        # every window.
        self._held_to_end: set[str] = set()
        self._made: dict[str, int] = {}  # how many times each key's packages were submitted
        self._scattered: dict[str, Future] | None = None
        self._env_future: Future | None = None
        self._queue = as_completed()

    @property
    def walk_forward(self) -> bool:
        return self.windows[0].test is not None

    def run(self) -> list[Outcome]:
        phase = "train" if self.walk_forward else "full"
        if self.walk_forward and self.share_tier1:
            base = self._run(self.sets[0], self.windows[0], phase)
            self._held_to_end = set(self._package_keys(base).values())
        self._schedule([self._run(s, w, phase) for w in self.windows for s in self.sets])
        for window in self.windows:
            self._select_when_trained(window)
        with interrupts_noted() as interrupted:
            for future in self._queue:
                if interrupted():  # raised where Python dropped it: stop, rank nothing
                    raise KeyboardInterrupt
                batch = self._waiting.pop(future)
                for runs, payload in zip(batch, _collect(future, len(batch)), strict=True):
                    self._by_key.pop(runs[0].key, None)
                    for run in runs:
                        self._record(run, payload, reused=False)
                if self.walk_forward and batch[0][0].phase == "train":
                    self._select_when_trained(batch[0][0].window)
            if interrupted():
                raise KeyboardInterrupt
        self._tier1.clear()  # let the workers drop the packages
        return sorted(self._outcomes.values(), key=_order)

    # ------------------------------------------------------------------ scheduling

    def _run(self, pset: ParameterSet, window: Window, phase: str) -> Run:
        span = window.test if phase == "test" else window.train
        config = self.configs[pset.set_id]
        key = run_key(pset.overrides, config, self._data, span, phase == "test", self._env_fp)
        return Run(key, pset, config, window, phase, span)

    def _schedule(self, runs: list[Run]) -> None:
        self.progress.add_total(len(runs))
        fresh: list[Run] = []
        for run in runs:
            stored = self.store.load(run.key)
            if stored is not None and stored.ok:  # failed runs get another go
                self._record(run, _payload_of(stored), reused=True)
            elif run.key in self._by_key:  # the same backtest is already coming
                self._by_key[run.key].append(run)
            else:
                self._by_key[run.key] = [run]
                fresh.append(run)
        batches = self._batches(fresh)
        for batch in batches:
            for key in self._package_keys(batch[0]).values():
                self._readers[key] = self._readers.get(key, 0) + 1
        for batch in batches:
            self._submit(batch)

    def _batches(self, runs: list[Run]) -> list[list[Run]]:
        """Runs over the same packages and period, in batches that share a task; the
        batches of one Tier-1 configuration one after the other, whatever their period.
        Dask runs tasks in about the order they are submitted: a walk-forward's packages
        are then made, read by every window's batches and let go before the next
        configuration's are made (window by window, each worker held every
        configuration's packages until the last window: 1.95 GB at 100 ten-year sets)."""
        groups: dict[tuple, dict[tuple, list[Run]]] = {}
        for run in runs:
            packages = tuple(self._package_keys(run).items())
            groups.setdefault(packages, {}).setdefault((run.span, run.phase), []).append(run)
        batches = []
        for periods in groups.values():
            for group in periods.values():
                size = self._batch_size(len(group))
                batches += [group[at : at + size] for at in range(0, len(group), size)]
        return batches

    def _batch_size(self, runs: int) -> int:
        """Few tasks (each shares its tapes and costs Dask's overhead once), but enough of
        them that every worker stays busy to the end."""
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        return max(1, min(MAX_BATCH, math.ceil(runs / (BATCHES_PER_WORKER * workers))))

    def _submit(self, batch: list[Run]) -> None:
        first, keys = batch[0], [run.key for run in batch]
        packages = self._packages(first)
        future = self.client.submit(
            backtest_batch,
            self.window_task,
            [run.config for run in batch],
            packages,
            self._environment(),
            str(first.span.start),
            str(first.span.end),
            first.phase == "test",
            key=f"{getattr(self.window_task, '__name__', 'task')}-{digest(*keys)}-{self._token}",
            pure=False,
        )
        self.stats.tier2_tasks += 1
        self.stats.tier2_runs += len(batch)
        self._waiting[future] = [self._by_key[key] for key in keys]
        self._queue.add(future)
        for key in self._package_keys(first).values():
            self._readers[key] -= 1
            # The run's own packages (sharing off), or shared ones that no batch still to
            # submit reads: the task holds them now.
            if not self.share_tier1 or not (self._readers[key] or key in self._held_to_end):
                self._tier1.pop(key)

    def _package_keys(self, run: Run) -> dict[str, str]:
        """The Dask key of each instrument's Tier-1 packages: one per distinct Tier-1
        configuration (or per run, when sharing is off: the benchmark's comparison)."""
        keys = {}
        for instrument in run.config.instruments:
            generator = generator_for(run.config, instrument)
            identity = [instrument, generator.name, generator.params.model_dump(mode="json")]
            # What else shapes the packages: the market columns and the back-adjustment.
            identity += [run.config.market.any, run.config.rolls.adjust]
            identity.append(self._data[instrument])
            if not self.share_tier1:
                identity.append(run.key)
            keys[instrument] = (
                f"tier1-{instrument.replace('/', '_')}-{digest(identity)}-{self._token}"
            )
        return keys

    def _packages(self, run: Run) -> dict[str, Future]:
        """The run's Tier-1 futures, submitted when a batch first needs them: Dask runs
        tasks in about the order they were submitted, so packages made just before the
        batches that read them are not all held in the workers' memory at once. A
        walk-forward's chosen set is known only once its window is trained, after its
        packages were let go: they are made again (Tier-1 is a function of the bars and
        the configuration; about 45 ms for three ten-year instruments, against 35 MB held
        for every configuration), under a Dask key of their own: a key the client has
        just released can race with its release (see ``_scatter``)."""
        packages = {}
        for instrument, key in self._package_keys(run).items():
            if key not in self._tier1:
                bars = self._bar_futures()[instrument]
                made = self._made.get(key, 0)
                self._made[key] = made + 1
                self._tier1[key] = self.client.submit(
                    compute_packages, bars, instrument, run.config,
                    key=f"{key}-{made}" if made else key, pure=False,
                )  # fmt: skip
                self.stats.tier1_tasks += 1
            packages[instrument] = self._tier1[key]
        return packages

    def _bar_futures(self) -> dict[str, Future]:
        """Bars go to every worker once, not with each task."""
        if self._scattered is None:
            names = sorted(self.bars)
            futures = _scatter(self.client, [self.bars[k] for k in names])
            self._scattered = dict(zip(names, futures, strict=True))
        return self._scattered

    def _environment(self) -> Future:
        if self._env_future is None:
            [self._env_future] = _scatter(self.client, [self.env])
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


def _scatter(client: Client, values: list) -> list[Future]:
    """Copies of ``values`` on every worker, under keys of their own. Dask's default keys
    are hashes of the data: the same bars scattered again by the next sweep get the key
    the last sweep's futures are releasing, and the scheduler may forget it under the new
    ones (dask/distributed#8576), so that tasks lose their inputs or wait for ever."""
    return client.scatter(values, broadcast=True, hash=False)


def _collect(future: Future, runs: int) -> list[dict]:
    """The batch's payloads, each with its ``status``/``error`` (a run that failed is
    reported with its parameters and the sweep goes on); a task that failed as a whole
    (a worker lost, say) fails each of its runs."""
    try:
        if future.status == "cancelled":
            raise RuntimeError("the task was cancelled")
        return future.result()
    except Exception as exc:  # any error of the task itself, reported per run
        return [failure(exc)] * runs


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
