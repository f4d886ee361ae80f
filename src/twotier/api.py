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
    product_of,
)
from twotier.engine.runs import backtest_bar_inputs, tier2_on_table
from twotier.errors import ConfigError, UnknownInstrumentError
from twotier.market.bars import bars_from_frame
from twotier.market.resample import BAR_MINUTES, resample
from twotier.market.rolls import RollSchedule, read_schedule, validate_schedule
from twotier.report.run_report import write_run_folder
from twotier.run.folder import BACKTEST
from twotier.run.folder import check as check_output
from twotier.run.reader import load_run
from twotier.run.result import BacktestResult
from twotier.tier1.package import read_package_sources, validate_packages

BarsSource = str | Path | pd.DataFrame
# A table, a run folder or package file, several, or what ``signals`` gives
PackagesSource = str | Path | pd.DataFrame | Sequence[str | Path] | Mapping[str, pd.DataFrame]


def _config(config: Config | str | Path | None, overrides: Sequence[str], **values) -> Config:
    """The configuration with ``overrides`` and the keyword shortcuts (``fill=`` ...): a
    copy, so that a run keeps the configuration it ran with whatever the caller does to
    the object it gave."""
    if config is not None and not isinstance(config, Config | str | Path):
        raise ConfigError(
            f"config must be a Config, a file path or None, not {type(config).__name__}"
        )
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        raise ConfigError(
            'overrides is a list of "KEY=VALUE" strings, e.g. ["execution.fill=close"]'
        )
    extra = [override(key, value) for key, value in values.items() if value is not None]
    return load_config(config, [*overrides, *extra]).model_copy(deep=True)


def _check_bars(bars: Mapping[str, BarsSource]) -> None:
    if not isinstance(bars, Mapping) or not bars:
        raise ConfigError("bars is {instrument: file or DataFrame}, with at least one")
    for key, value in bars.items():
        if not isinstance(value, BarsSource):
            raise ConfigError(
                f"bars[{key!r}] must be a file path or a DataFrame, not {type(value).__name__}"
            )


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
                auction=config.data.auction,
                night_date=config.data.night_date,
                making=BAR_MINUTES,
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
    _check_bars(bars)
    cfg = _config(config, overrides, **{"data.label": label})
    env = Environment.from_config(cfg)
    _known(bars, env)
    schedules = _schedules(rolls, env, list(bars))
    frames = load_bars_15min(bars, cfg, env)
    return {k: instrument_signals(k, frame, cfg, schedules.get(k)) for k, frame in frames.items()}


def _known(instruments, env: Environment) -> None:
    unknown = [k for k in instruments if k not in env.instruments]
    if unknown:
        raise UnknownInstrumentError(unknown[0], env.instruments.keys())


def _schedules(rolls, env: Environment, instruments: list[str]) -> dict[str, RollSchedule]:
    """Roll schedules (files or objects) by instrument, as the CLI takes them: for an
    instrument given, naming contracts of its product."""
    schedules = {}
    for key, given in (rolls or {}).items():
        if key not in instruments:
            raise ConfigError(f"rolls[{key!r}]: {key} is not one of {', '.join(instruments)}")
        product = product_of(key, env.instruments)
        if isinstance(given, RollSchedule):
            validate_schedule(given, f"<{key} RollSchedule>", product)
            schedules[key] = given
        else:
            schedules[key] = read_schedule(given, product)
    return schedules


def backtest(
    bars: Mapping[str, BarsSource] | None = None,
    *,
    signals: PackagesSource | None = None,
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
    run folder, several, or what ``signals`` gives). The baskets follow the data as on
    the command line (``twotier.config.baskets``). ``rolls`` gives roll schedules (files
    or objects) per instrument of a spliced series; ``out`` also writes the run folder
    (``force``: over a twotier folder of another kind)."""
    if (bars is None) == (signals is None):
        raise ConfigError("give either bars={instrument: file or DataFrame} or signals=table")
    if signals is not None:
        given = {"label": label, "on_bad_bar": on_bad_bar, "contract_column": contract_column}
        for name, value in given.items():
            if value is not None:
                raise ConfigError(f"{name}= is about bar files; it does not apply to signals=")
    else:
        _check_bars(bars)
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
    if signals is not None:
        result = _tier2_alone(signals, cfg, env, start, end, rolls)
    else:
        _known(bars, env)
        schedules = _schedules(rolls, env, list(bars))
        fitted = fit_baskets(cfg, list(bars), fix="bars={{{instrument!r}: FILE}}")
        cfg = fitted.config
        traded = {k: v for k, v in bars.items() if k in cfg.instruments}
        inputs = _bar_inputs(traded, cfg, env, contract_column)
        result = backtest_bar_inputs(inputs, fitted, env, start=start, end=end, rolls=schedules)
    if out is not None:
        write_run_folder(result, out, force=force, option="out")
    return result


def _tier2_alone(signals, cfg, env, start, end, rolls) -> BacktestResult:
    need_open = cfg.execution.fill == "next_open"
    known = env.instruments.keys()
    paths = []
    if isinstance(signals, Mapping):  # as twotier.signals gives them
        if not signals or not all(isinstance(v, pd.DataFrame) for v in signals.values()):
            raise ConfigError("signals as a dict is {instrument: packages DataFrame}")
        signals = pd.concat(list(signals.values()), ignore_index=True)
    if isinstance(signals, pd.DataFrame):
        source = "<packages DataFrame>"
        table = validate_packages(signals, source, require_open=need_open, instruments=known)
    else:
        paths = [signals] if isinstance(signals, str | Path) else list(signals)
        source = " + ".join(str(p) for p in paths)
        table = read_package_sources(paths, require_open=need_open, instruments=known)
    traded = list(table["instrument"].unique())
    schedules = _schedules(rolls, env, traded)
    fitted = fit_baskets(cfg, traded, what="packages", fix="packages of {instrument}")
    return tier2_on_table(
        table, fitted, env, start=start, end=end, source=source, rolls=schedules, paths=paths
    )


__all__ = ["BacktestResult", "Config", "backtest", "load_config", "load_run", "signals"]
