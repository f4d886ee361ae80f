"""``twotier paper``: paper trading on bars as they arrive (docs/live.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from twotier.cli.common import (
    STALE_AFTER,
    STEP_WAIT,
    UsageError,
    check_interval,
    choice,
    console,
    parse_instrument_files,
    seconds_option,
    split_rolls_options,
)


def paper_command(
    feed: str = typer.Option(..., "--feed", help="folder:DIR (CSV files) or stdin (JSON lines)."),
    state: Path = typer.Option(..., "--state", help="State folder (database, lock, log)."),
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="KEY=VALUE override, repeatable."
    ),
    history: list[str] = typer.Option(
        [],
        "--history",
        metavar="INSTRUMENT=FILE",
        help="INSTRUMENT=FILE bars to warm Tier-1 up on (first start only).",
    ),
    rolls: list[str] = typer.Option(
        [],
        "--rolls",
        metavar="INSTRUMENT=FILE",
        help="Roll schedule: INSTRUMENT=FILE (or FILE for one instrument).",
    ),
    contract_column: str | None = typer.Option(
        None,
        "--contract-column",
        metavar="COLUMN",
        help="Column of the feed's bars naming each bar's contract (one for all).",
    ),
    label: str | None = typer.Option(
        None, "--label", help="start or end (default: as the state began, else the config)."
    ),
    bar_minutes: int | None = typer.Option(
        None,
        "--bar-minutes",
        help="The feed's bars: 1, 3, 5 or 15 (default: as the state began, else 15).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run folder (default STATE/run)."),
    once: bool = typer.Option(False, "--once", help="Folder feed: process what is there, stop."),
    step_wait: float = STEP_WAIT,
    grace: float = seconds_option(30.0, "--grace", "Seconds before a late 15-min bar closes."),
    stale_after: float = STALE_AFTER,
    poll: float = seconds_option(
        0.5, "--poll", "Seconds between looks at the feed.", check=check_interval
    ),
    flush_every: float = seconds_option(
        60.0, "--flush-every", "Seconds between run-folder writes in a catch-up."
    ),
    durability: str = typer.Option(
        "full", "--durability", help="full (survives power loss) or normal (a crash)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings on stderr."),
) -> None:
    """Paper-trade: Tier-1 and Tier-2 on bars as they arrive, crash-safe.

    Runs against the simulated broker with the state committed after every step, and
    resumes where it stopped. Spliced main-contract series are rolled with --rolls or a
    contract column (docs/live.md)."""
    from twotier.live.loop import PaperSettings, run_paper

    choice(durability, "--durability", ("full", "normal"))
    if contract_column is not None and "=" in contract_column:
        raise UsageError(
            f"--contract-column {contract_column}: paper trading takes one column name for "
            "the feed's bars of every instrument"
        )
    settings = PaperSettings(
        feed=feed,
        state_dir=state,
        config_file=config_file,
        overrides=list(overrides),
        history=parse_instrument_files(history, "--history"),
        rolls=split_rolls_options(rolls),
        contract_column=contract_column,
        label=label,
        bar_minutes=bar_minutes,
        out_dir=out,
        once=once,
        step_wait=step_wait,
        grace=grace,
        stale_after=stale_after,
        poll=poll,
        flush_every=flush_every,
        synchronous=durability.upper(),
        quiet=quiet,
    )
    outcome = run_paper(settings)
    console().print(
        f"paper run stopped ({outcome.reason}): {outcome.steps} steps this run, "
        f"{outcome.total_steps} in all; run folder {outcome.run_dir}"
    )
