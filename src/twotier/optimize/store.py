"""Finished runs on disk: one small JSON file per run in ``DIR/results/``, written
atomically the moment its result arrives, named by a hash of what decides the result
(the set's overrides, the effective configuration, the bars, the period, the twotier
version). A sweep restarted on the same folder reuses every file whose key it needs; the
results table is always rebuilt from these files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twotier import __version__
from twotier.config.model import Config
from twotier.engine.inputs import Environment
from twotier.io import write_text_atomic
from twotier.optimize.windows import Span

RESULTS_FOLDER = "results"


@dataclass
class Outcome:
    """One backtest of one parameter set over one period, or its failure."""

    key: str
    set_id: int
    window: int
    phase: str  # "full" (no walk-forward), "train" or "test"
    start: str
    end: str
    values: dict[str, Any]
    status: str  # "ok" or "failed"
    error: str | None = None
    metrics: dict[str, Any] | None = None
    daily: dict[str, list] | None = None  # {"day": [...], "pv": [...]}
    steps: dict[str, list] | None = None  # test periods: {"time_ns", "trading_day", "pv"}

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def bars_fingerprint(frame: pd.DataFrame) -> str:
    """A hash of every bar (times and values), so that other data never reuses a result."""
    h = hashlib.sha256(",".join(map(str, frame.columns)).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()[:24]


def environment_fingerprint(env: Environment) -> str:
    """A hash of the instruments (specs, fees, margins, schedules) and the trading calendar
    a run uses: the configuration names data.instruments_file and data.calendar_file by
    path only, and a file edited in place must not reuse a result."""
    h = hashlib.sha256()
    for key in sorted(env.instruments.keys()):
        spec = env.instruments[key].model_dump(mode="json")
        h.update(json.dumps([key, spec], sort_keys=True, default=str).encode("utf-8"))
    calendar = env.calendar
    for days in (calendar.days, calendar.no_night, calendar.holidays):
        # each list ends with a separator: a day moved from one list to the next differs
        h.update(np.asarray(days, "datetime64[D]").astype("int64").tobytes() + b"|")
    h.update(str(calendar.assumed_from).encode("utf-8"))
    return h.hexdigest()[:24]


def run_key(
    overrides: Iterable[str],
    config: Config,
    data: dict[str, str],
    span: Span,
    steps: bool,
    environment: str = "",
) -> str:
    """What decides a run's result file: a test period keeps its step curve, so it is not
    the same file as a training run over the same days. ``environment``: the
    instruments and calendar (environment_fingerprint), whose files the configuration
    names only by path."""
    return digest(
        list(overrides),
        config.model_dump(mode="json"),
        {k: data[k] for k in config.instruments},
        [str(span.start), str(span.end)],
        steps,
        __version__,
        environment,
    )


class ResultStore:
    def __init__(self, out_dir: str | Path):
        self.folder = Path(out_dir) / RESULTS_FOLDER

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> Outcome | None:
        """The stored outcome of ``key``, or None (never run, or unreadable)."""
        try:
            return Outcome(**json.loads(self.path(key).read_text("utf-8")))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def save(self, outcome: Outcome) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path(outcome.key), json.dumps(asdict(outcome)))
