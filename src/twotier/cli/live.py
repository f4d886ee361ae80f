"""``twotier live``: live trading through a vn.py gateway (docs/live.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from twotier.cli.common import (
    STALE_AFTER,
    STEP_WAIT,
    UsageError,
    console,
    parse_instrument_files,
    seconds_option,
    split_rolls_options,
)


def live_command(
    gateway: str = typer.Option(
        ..., "--gateway", help="vn.py gateway: ctp (vnpy_ctp), another vnpy_NAME, or module:Class."
    ),
    connect: Path = typer.Option(
        ..., "--connect", help="The gateway's settings (JSON, chmod 600): never logged."
    ),
    state: Path = typer.Option(..., "--state", help="State folder (database, lock, log)."),
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE override, repeatable."),
    contract: list[str] = typer.Option(
        [], "--contract", help="INSTRUMENT=CODE: the contract traded (e.g. DCE/i=i2509)."
    ),
    rolls: list[str] = typer.Option(
        [], "--rolls", help="Roll schedule: INSTRUMENT=FILE (or FILE for one instrument)."
    ),
    history: list[str] = typer.Option(
        [], "--history", help="INSTRUMENT=FILE bars to warm Tier-1 up on (first start only)."
    ),
    flatten: bool = typer.Option(
        False, "--flatten", help="Kill switch: close every position, open none, then stop."
    ),
    adopt: bool = typer.Option(
        False, "--adopt", help="Accept what reconciliation finds different (docs/live.md)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run folder (default STATE/run)."),
    tick_grace: float = seconds_option(3.0, "--tick-grace", "Seconds before a minute closes."),
    step_wait: float = STEP_WAIT,
    stale_after: float = STALE_AFTER,
    ready_timeout: float = seconds_option(
        60.0, "--ready-timeout", "Seconds for the gateway to log in and report."
    ),
    durability: str = typer.Option(
        "full", "--durability", help="full (survives power loss) or normal (a crash)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings on stderr."),
) -> None:
    """Trade live through a vn.py gateway (CTP and others), crash-safe.

    The paper loop on the gateway's ticks and orders: the same state folder, restart,
    alerts and run folder as `twotier paper`; positions and equity reconciled at the
    start and after every reconnect (docs/live.md)."""
    from twotier.live.trading import LiveSettings, run_live

    if durability not in ("full", "normal"):
        raise UsageError(f"--durability is full or normal, not {durability!r}")
    contracts = {k: str(v) for k, v in parse_instrument_files(contract, "--contract").items()}
    settings = LiveSettings(
        gateway=gateway,
        connect=connect,
        state_dir=state,
        config_file=config_file,
        overrides=list(overrides),
        history=parse_instrument_files(history, "--history"),
        rolls=split_rolls_options(rolls),
        contracts=contracts,
        out_dir=out,
        flatten=flatten,
        adopt=adopt,
        tick_grace=tick_grace,
        step_wait=step_wait,
        stale_after=stale_after,
        ready_timeout=ready_timeout,
        synchronous=durability.upper(),
        quiet=quiet,
    )
    outcome = run_live(settings)
    console().print(
        f"live run stopped ({outcome.reason}): {outcome.steps} steps this run, "
        f"{outcome.total_steps} in all; run folder {outcome.run_dir}"
    )
