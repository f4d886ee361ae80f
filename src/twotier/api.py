"""The Python API: the same runs as the CLI, with DataFrames in and out.

import twotier
result = twotier.backtest(bars={"DCE/i": "i.csv", "SHFE/cu": "cu.csv", "DCE/m": "m.csv"},
                          label="end")
result.trades, result.equity, result.decisions, result.summary, result.metrics
result.report("report.html")
again = twotier.api.load_run("runs/latest")   # a finished run folder, the same kind of object
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from twotier.config.baskets import fit_baskets
from twotier.config.load import load_config, override
from twotier.config.model import Config
from twotier.engine.backtest import (
    instrument_signals,
    trading_period,
)
from twotier.engine.inputs import (
    BarInput,
    Environment,
    contract_columns,
    load_bar_files,
)
from twotier.engine.runs import backtest_bar_inputs, tier2_on_table
from twotier.errors import UnknownInstrumentError
from twotier.market.bars import bars_from_frame
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import RollSchedule, read_schedule
from twotier.report.run_report import write_run_folder
from twotier.run.folder import BACKTEST
from twotier.run.folder import check as check_output
from twotier.run.reader import load_run
from twotier.run.result import BacktestResult
from twotier.tier1.package import read_package_sources, validate_packages

BarsSource = str | Path | pd.DataFrame


def _config(config: Config | str | Path | None, overrides: Sequence[str], **values) -> Config:
    """The configuration with ``overrides`` and the keyword shortcuts (``fill=`` ...)."""
    extra = [override(key, value) for key, value in values.items() if value is not None]
    return load_config(config, [*overrides, *extra])


def load_bars_15min(
    bars: Mapping[str, BarsSource],
    config: Config,
    env: Environment,
    contract_column: str | Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Files or DataFrames -> validated 15-minute bars per instrument."""
    return {k: v.bars for k, v in _bar_inputs(bars, config, env, contract_column).items()}


def _bar_inputs(
    bars: Mapping[str, BarsSource],
    config: Config,
    env: Environment,
    contract_column: str | Mapping[str, str] | None = None,
) -> dict[str, BarInput]:
    """Files or DataFrames, validated (with what the loader dropped or repaired) and
    resampled to 15 minutes."""
    columns = contract_columns(contract_column, bars)
    files = {k: v for k, v in bars.items() if not isinstance(v, pd.DataFrame)}
    mine = {k: v for k, v in columns.items() if k in files}
    result = load_bar_files(files, config, env, contract_column=mine)
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
                contract_column=columns.get(instrument) or config.data.contract_column,
            )
            frame15 = resample(loaded.frame, spec, loaded.bar_minutes, BAR_MINUTES)
            result[instrument] = BarInput(loaded, frame15)
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
    signals: str | Path | pd.DataFrame | Sequence[str | Path] | None = None,
    config: Config | str | Path | None = None,
    overrides: Sequence[str] = (),
    start=None,
    end=None,
    fill: str | None = None,
    label: str | None = None,
    on_bad_bar: str | None = None,
    contract_column: str | Mapping[str, str] | None = None,
    rolls: Mapping[str, str | Path | RollSchedule] | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> BacktestResult:
    """A backtest from bars (through Tier-1) or from packages (Tier-2 alone: a table, a
    run folder, or several). The baskets follow the data as on the command line
    (``twotier.config.baskets``). ``rolls`` gives roll schedules (files or objects) per
    instrument of a spliced series; ``out`` also writes the run folder (``force``: over a
    twotier folder of another kind)."""
    if (bars is None) == (signals is None):
        raise ValueError("give either bars={instrument: file or DataFrame} or signals=table")
    if out is not None:
        check_output(Path(out), BACKTEST, force=force, option="out")
    trading_period(start, end)
    cfg = _config(
        config,
        overrides,
        **{"execution.fill": fill, "data.label": label, "data.on_bad_bar": on_bad_bar},
        **{"data.contract_column": contract_column if isinstance(contract_column, str) else None},
    )
    env = Environment.from_config(cfg)
    schedules = _schedules(rolls)
    if signals is not None:
        result = _tier2_alone(signals, cfg, env, start, end, schedules)
    else:
        unknown = [k for k in bars if k not in env.instruments]
        if unknown:
            raise UnknownInstrumentError(unknown[0], env.instruments.keys())
        fitted = fit_baskets(cfg, list(bars), fix="bars={{{instrument!r}: FILE}}")
        cfg = fitted.config
        traded = {k: v for k, v in bars.items() if k in cfg.instruments}
        inputs = _bar_inputs(traded, cfg, env, contract_column)
        result = backtest_bar_inputs(inputs, fitted, env, start=start, end=end, rolls=schedules)
    if out is not None:
        write_run_folder(result, out, force=force, option="out")
    return result


def _tier2_alone(signals, cfg, env, start, end, schedules) -> BacktestResult:
    need_open = cfg.execution.fill == "next_open"
    known = env.instruments.keys()
    paths = []
    if isinstance(signals, pd.DataFrame):
        source = "<packages DataFrame>"
        table = validate_packages(signals, source, require_open=need_open, instruments=known)
    else:
        paths = [signals] if isinstance(signals, str | Path) else list(signals)
        source = " + ".join(str(p) for p in paths)
        table = read_package_sources(paths, require_open=need_open, instruments=known)
    fitted = fit_baskets(
        cfg, list(table["instrument"].unique()), what="packages", fix="packages of {instrument}"
    )
    return tier2_on_table(
        table, fitted, env, start=start, end=end, source=source, rolls=schedules, paths=paths
    )


__all__ = ["BacktestResult", "Config", "backtest", "load_config", "load_run", "signals"]
