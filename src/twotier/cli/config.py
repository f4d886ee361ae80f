"""``twotier config``: show the effective configuration."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import BaseModel

from twotier.config.load import config_to_toml, load_config
from twotier.config.model import Config

app = typer.Typer(help="Show and check configuration.", no_args_is_help=True, rich_markup_mode=None)


@app.command("show")
def show(
    config_file: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="KEY=VALUE override, repeatable."
    ),
) -> None:
    """Print the configuration as TOML.

    The defaults (RULES.md), or a file's effective values with any --set overrides."""
    typer.echo(with_unset_keys(load_config(config_file, overrides)), nl=False)


def with_unset_keys(config: Config) -> str:
    """The configuration as TOML, with each key left unset (TOML has no "none") shown as
    a comment in its section, so that every key is listed."""
    lines = config_to_toml(config).splitlines()
    for section, model in config:
        if not isinstance(model, BaseModel):
            continue
        unset = [
            f'# {name} = ""  # unset: {field.description or name}'
            for name, field in type(model).model_fields.items()
            if getattr(model, name) is None
        ]
        if unset:
            lines[_section_end(lines, section) : _section_end(lines, section)] = unset
    return "\n".join(lines) + "\n"


def _section_end(lines: list[str], section: str) -> int:
    """Where the lines of ``[section]`` end (before the blank line that ends it)."""
    start = lines.index(f"[{section}]")
    end = start + 1
    while end < len(lines) and lines[end].strip() and not lines[end].startswith("["):
        end += 1
    return end


@app.command("check")
def check(config_file: Path = typer.Argument(..., help="TOML configuration file.")) -> None:
    """Validate a configuration file, with the files it names.

    Unknown keys, values of the wrong type or out of range, a basket of an unknown
    instrument and a missing instruments or calendar file are errors."""
    from twotier.engine.inputs import Environment

    Environment.from_config(load_config(config_file))
    typer.echo(f"{config_file}: valid")
