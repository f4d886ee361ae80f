"""``twotier signals``: Tier-1 over bar files, packages written to a run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from twotier.cli.common import console, parse_bars_options
from twotier.config.load import load_config
from twotier.config.model import Config
from twotier.engine.inputs import Environment, load_bar_files
from twotier.tier1.generator import SignalGenerator
from twotier.tier1.package import write_packages
from twotier.tier1.regime import REGIME_NAMES
from twotier.tier1.state import episodes


def signals_command(
    bars: list[str] = typer.Option(..., "--bars", help="INSTRUMENT=FILE, repeatable."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder to write signals/ into."),
    label: str | None = typer.Option(None, "--label", help="start or end (default: config)."),
    on_bad_bar: str | None = typer.Option(None, "--on-bad-bar", help="refuse, drop or repair."),
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE override, repeatable."),
) -> None:
    """Run each instrument's Tier-1 generator (1-, 5- or 15-minute input, resampled to 15
    minutes) and write its signal packages to OUT/signals/."""
    config = load_config(config_file, overrides)
    env = Environment.from_config(config)
    inputs = load_bar_files(parse_bars_options(bars), config, env, label, on_bad_bar)
    table = Table(title=f"Tier-1 signal packages -> {out / 'signals'}")
    for column in (
        "instrument",
        "generator",
        "bars",
        "warm-up",
        "long trig.",
        "short trig.",
        "episodes L/S",
        "regime up/down/range/chaos",
    ):
        table.add_column(column, justify="right" if column != "instrument" else "left")
    for instrument, given in inputs.items():
        for problem in given.loaded.dropped:
            console.print(f"{instrument}: dropped line {problem.line}: {problem.problem}")
        generator = generator_for(config, instrument)
        packages = generator.run(given.bars)
        params = generator.params.model_dump(mode="json")
        write_packages(packages, out, instrument, generator.name, params)
        table.add_row(instrument, generator.name, *signal_stats(packages, generator))
    console.print(table)


def generator_for(config: Config, instrument: str) -> SignalGenerator:
    return SignalGenerator(
        config.generator_name(instrument), instrument, config.tier1_params(instrument)
    )


def signal_stats(packages: pd.DataFrame, generator: SignalGenerator) -> list[str]:
    """Bars, warm-up bars, triggers, episodes and time in each regime, as table cells."""
    p = generator.params.indicators
    signal = packages["signal"].to_numpy()
    ep = episodes(signal)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], ep])) > 0)
    long_eps = int((signal[starts] == 1).sum())
    regimes = packages["regime"].value_counts(normalize=True)
    shares = "/".join(f"{regimes.get(k, 0.0):.0%}" for k in REGIME_NAMES)
    return [
        f"{len(packages):,}",
        f"{p.signal_warmup()} / {p.regime_warmup()}",
        f"{int((packages['trigger'] == 1).sum()):,}",
        f"{int((packages['trigger'] == -1).sum()):,}",
        f"{long_eps}/{len(starts) - long_eps}",
        shares,
    ]
