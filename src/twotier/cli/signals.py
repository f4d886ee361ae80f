"""``twotier signals``: Tier-1 over bar files, packages written to a run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from twotier.cli.common import (
    console,
    note,
    parse_bars_options,
    parse_contract_columns,
    parse_rolls_options,
)
from twotier.config.load import load_config
from twotier.engine.backtest import instrument_signals
from twotier.engine.inputs import Environment, load_bar_files, load_roll_files, loading_notes
from twotier.run.folder import SIGNALS, write_folder
from twotier.run.folder import check as check_output
from twotier.tier1.generator import SignalGenerator, generator_for
from twotier.tier1.package import write_packages
from twotier.tier1.regime import REGIME_NAMES
from twotier.tier1.state import episodes


def signals_command(
    bars: list[str] = typer.Option(
        ..., "--bars", metavar="INSTRUMENT=FILE", help="INSTRUMENT=FILE, repeatable."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder to write signals/ into."),
    label: str | None = typer.Option(None, "--label", help="start or end (default: config)."),
    on_bad_bar: str | None = typer.Option(None, "--on-bad-bar", help="refuse, drop or repair."),
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="KEY=VALUE override, repeatable."
    ),
    rolls: list[str] = typer.Option(
        [],
        "--rolls",
        metavar="INSTRUMENT=FILE",
        help="Roll schedule: INSTRUMENT=FILE (or FILE for one instrument).",
    ),
    contract_column: list[str] = typer.Option(
        [],
        "--contract-column",
        metavar="[INSTRUMENT=]COLUMN",
        help="Column naming each bar's contract: of every bar file, or of one; repeatable.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace a twotier folder of another kind at --out."
    ),
) -> None:
    """Run each instrument's Tier-1 generator and write its signal packages.

    Input bars of 1, 3, 5 or 15 minutes are resampled to 15 minutes and back-adjusted
    across rolls when roll information is given; packages go to OUT/signals/."""
    check_output(out, SIGNALS, force=force)
    config = load_config(config_file, overrides)
    env = Environment.from_config(config)
    files = parse_bars_options(bars)
    schedules = load_roll_files(parse_rolls_options(rolls, list(files)))
    columns = parse_contract_columns(contract_column)
    inputs = load_bar_files(files, config, env, label, on_bad_bar, columns)
    blocks = []

    def fill(folder: Path) -> None:
        for instrument, given in inputs.items():
            generator = generator_for(config, instrument)
            packages = instrument_signals(instrument, given.bars, config, schedules.get(instrument))
            params = generator.params.model_dump(mode="json")
            path = write_packages(packages, folder, instrument, generator.name, params)
            stats = signal_stats(packages, generator)
            blocks.append(format_stats(instrument, generator.name, path.name, stats))

    write_folder(out, SIGNALS, fill, force=force)
    note(loading_notes(inputs))
    console().print(f"Tier-1 signal packages -> {out / 'signals'}", markup=False)
    for block in blocks:
        console().print("", *block, sep="\n")


@dataclass(frozen=True)
class SignalStats:
    """What one generator's packages hold, in counts."""

    bars: int
    signal_warmup: int
    regime_warmup: int
    long_triggers: int
    short_triggers: int
    long_episodes: int
    short_episodes: int
    regime_shares: dict[str, float]  # regime name -> share of the bars


def signal_stats(packages: pd.DataFrame, generator: SignalGenerator) -> SignalStats:
    """Bars, warm-up bars, triggers, episodes and time in each regime."""
    p = generator.params.indicators
    signal = packages["signal"].to_numpy()
    ep = episodes(signal)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], ep])) > 0)
    long_eps = int((signal[starts] == 1).sum())
    regimes = packages["regime"].value_counts(normalize=True)
    trigger = packages["trigger"].to_numpy()
    return SignalStats(
        bars=len(packages),
        signal_warmup=p.signal_warmup(),
        regime_warmup=p.regime_warmup(),
        long_triggers=int((trigger == 1).sum()),
        short_triggers=int((trigger == -1).sum()),
        long_episodes=long_eps,
        short_episodes=len(starts) - long_eps,
        regime_shares={name: float(regimes.get(k, 0.0)) for k, name in REGIME_NAMES.items()},
    )


def format_stats(instrument: str, generator: str, file: str, s: SignalStats) -> list[str]:
    """One short block of lines per instrument (fits an 80-column terminal)."""
    shares = ", ".join(f"{name} {share:.0%}" for name, share in s.regime_shares.items())
    return [
        f"{instrument}  {generator}  -> {file}",
        f"  bars      {s.bars:,} (warm-up: signal {s.signal_warmup}, regime {s.regime_warmup})",
        f"  triggers  long {s.long_triggers:,}, short {s.short_triggers:,}",
        f"  episodes  long {s.long_episodes:,}, short {s.short_episodes:,}",
        f"  regime    {shares}",
    ]
