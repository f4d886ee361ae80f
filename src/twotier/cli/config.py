"""``twotier config``: show the effective configuration."""

from __future__ import annotations

from pathlib import Path

import typer

from twotier.config.load import config_to_toml, load_config

app = typer.Typer(help="Show and check configuration.", no_args_is_help=True, rich_markup_mode=None)


@app.command("show")
def show(
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE override, repeatable."),
) -> None:
    """Print the configuration as TOML.

    The defaults (RULES.md), or a file's effective values with any --set overrides."""
    typer.echo(config_to_toml(load_config(config_file, overrides)), nl=False)


@app.command("check")
def check(config_file: Path = typer.Argument(..., help="TOML configuration file.")) -> None:
    """Validate a configuration file, with the files it names.

    Unknown keys, values of the wrong type or out of range, a basket of an unknown
    instrument and a missing instruments or calendar file are errors."""
    from twotier.engine.inputs import Environment

    Environment.from_config(load_config(config_file))
    typer.echo(f"{config_file}: valid")
