"""``twotier sample``: regenerate the synthetic sample bars (docs/sample-data.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from twotier.cli.common import UsageError, console
from twotier.cli.output_file import BARS, check_output_file
from twotier.market.sample_files import (
    SAMPLE_END,
    SAMPLE_INSTRUMENTS,
    SAMPLE_SEED,
    SAMPLE_START,
    sample_file_name,
)


def sample_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the Parquet files into."),
    start: str = typer.Option(SAMPLE_START, "--start", help="First trading day, YYYY-MM-DD."),
    end: str = typer.Option(SAMPLE_END, "--end", help="Last trading day, YYYY-MM-DD."),
    seed: int = typer.Option(SAMPLE_SEED, "--seed", help="Random seed (the bundled: default)."),
) -> None:
    """Write synthetic 15-minute bars of DCE/i, SHFE/cu and DCE/m.

    Made up, not market data: OUT/DCE_i.parquet, SHFE_cu.parquet and DCE_m.parquet. The
    defaults give the bundled sample files."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: a file is there, not a folder")
    for key in SAMPLE_INSTRUMENTS:  # a user's own DCE_i.parquet stays as it is
        check_output_file(out / sample_file_name(key), "--out", BARS, fix="give another folder")
    from twotier.market.sample import write_sample

    written = write_sample(out, start=start, end=end, seed=seed)
    console().print(f"synthetic sample bars (seed {seed}) written to {out}:", markup=False)
    for item in written.values():
        console().print(
            f"  {item.instrument:<8} {item.path.name:<16} {item.rows:>7,} bars, "
            f"{item.trading_days} trading days {item.first_day:%Y-%m-%d} to "
            f"{item.last_day:%Y-%m-%d} (bars {item.first_bar:%Y-%m-%d %H:%M} to "
            f"{item.last_bar:%Y-%m-%d %H:%M})",
            markup=False,
            soft_wrap=True,
        )
