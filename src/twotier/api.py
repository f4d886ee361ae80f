"""The Python API: the same runs as the CLI, with DataFrames in and out.

import twotier
result = twotier.backtest(bars={"DCE/i": "i.csv", "SHFE/cu": "cu.csv", "DCE/m": "m.csv"},
                          label="end")
result.trades, result.equity, result.decisions, result.summary, result.metrics
result.report("report.html")
again = twotier.api.load_run("runs/latest")   # a finished run folder, the same kind of object
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from twotier.config.load import load_config
from twotier.config.model import Config
from twotier.engine.backtest import (
    instrument_signals,
    run_backtest,
    run_tier2,
    split_packages,
)
from twotier.engine.inputs import Environment, load_bar_files
from twotier.market.bars import bars_from_frame
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import RollSchedule, read_schedule
from twotier.report.run_report import write_analysis
from twotier.run.reader import load_run
from twotier.run.result import BacktestResult
from twotier.run.writer import write_run
from twotier.tier1.package import read_packages, validate_packages

BarsSource = str | Path | pd.DataFrame


def _config(config: Config | str | Path | None, overrides: Sequence[str], **values) -> Config:
    """The configuration with ``overrides`` and the keyword shortcuts (``fill=`` ...)."""
    extra = [f"{key}={json.dumps(value)}" for key, value in values.items() if value is not None]
    return load_config(config, [*overrides, *extra])


def load_bars_15min(
    bars: Mapping[str, BarsSource], config: Config, env: Environment
) -> dict[str, pd.DataFrame]:
    """Files or DataFrames -> validated 15-minute bars per instrument."""
    files = {k: v for k, v in bars.items() if not isinstance(v, pd.DataFrame)}
    result = {k: given.bars for k, given in load_bar_files(files, config, env).items()}
    for instrument, frame in bars.items():
        if isinstance(frame, pd.DataFrame):
            spec = env.instruments[instrument]
            loaded = bars_from_frame(
                frame,
                spec,
                source=f"<{instrument} DataFrame>",
                label=config.data.label,
                on_bad_bar=config.data.on_bad_bar,
                calendar=env.calendar,
            )
            result[instrument] = resample(loaded.frame, spec, loaded.bar_minutes, BAR_MINUTES)
    return {k: result[k] for k in bars}


def signals(
    bars: Mapping[str, BarsSource],
    config: Config | str | Path | None = None,
    overrides: Sequence[str] = (),
    label: str | None = None,
    rolls: Mapping[str, str | Path | RollSchedule] | None = None,
) -> dict[str, pd.DataFrame]:
    """Tier-1 signal packages for each instrument given (its generator and parameters
    from the configuration), back-adjusted across ``rolls`` where given."""
    cfg = _config(config, overrides, **{"data.label": label})
    env = Environment.from_config(cfg)
    frames = load_bars_15min(bars, cfg, env)
    schedules = _schedules(rolls)
    return {k: instrument_signals(k, frame, cfg, schedules.get(k)) for k, frame in frames.items()}


def _schedules(rolls) -> dict[str, RollSchedule]:
    return {
        k: v if isinstance(v, RollSchedule) else read_schedule(v) for k, v in (rolls or {}).items()
    }


def backtest(
    bars: Mapping[str, BarsSource] | None = None,
    *,
    signals: str | Path | pd.DataFrame | None = None,
    config: Config | str | Path | None = None,
    overrides: Sequence[str] = (),
    start=None,
    end=None,
    fill: str | None = None,
    label: str | None = None,
    on_bad_bar: str | None = None,
    rolls: Mapping[str, str | Path | RollSchedule] | None = None,
    out: str | Path | None = None,
) -> BacktestResult:
    """A backtest from bars (through Tier-1) or from a package table (Tier-2 alone).
    ``rolls`` gives roll schedules (files or objects) per instrument of a spliced series;
    ``out`` also writes the run folder."""
    if (bars is None) == (signals is None):
        raise ValueError("give either bars={instrument: file or DataFrame} or signals=table")
    cfg = _config(
        config,
        overrides,
        **{"execution.fill": fill, "data.label": label, "data.on_bad_bar": on_bad_bar},
    )
    env = Environment.from_config(cfg)
    schedules = _schedules(rolls)
    if signals is not None:
        need_open = cfg.execution.fill == "next_open"
        if isinstance(signals, pd.DataFrame):
            table = validate_packages(signals, "<packages DataFrame>", require_open=need_open)
            source = "<packages DataFrame>"
        else:
            table, source = read_packages(signals, require_open=need_open), str(signals)
        result = run_tier2(
            split_packages(table, cfg, source),
            cfg,
            instruments=env.instruments,
            calendar=env.calendar,
            start=start,
            end=end,
            source=source,
            rolls=schedules,
        )
    else:
        result = run_backtest(
            load_bars_15min(bars, cfg, env),
            cfg,
            instruments=env.instruments,
            calendar=env.calendar,
            start=start,
            end=end,
            rolls=schedules,
        )
    if out is not None:
        write_analysis(result, write_run(result, out))
    return result


__all__ = ["BacktestResult", "Config", "backtest", "load_config", "load_run", "signals"]
