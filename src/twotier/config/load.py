"""Configuration from TOML files and ``--set KEY=VALUE`` overrides, and back to TOML."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ValidationError

from twotier.config.model import Config, _deep_merge
from twotier.errors import ConfigError
from twotier.io import read_toml
from twotier.strict import as_lists


def _parse_value(text: str) -> Any:
    """A TOML value (``1.5``, ``true``, ``"close"``, ``[1, 2]``), else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def override(key: str, value: Any) -> str:
    """``KEY=VALUE`` as ``load_config`` reads it."""
    return f"{key}={toml_value(value)}"


def toml_value(value: Any) -> str:
    """A value as inline TOML: JSON's text for numbers, text, booleans and lists (TOML's
    too), tables inline (``{"instrument" = "DCE/i", ...}``: a JSON object is no TOML)."""
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _key_parts(dotted: str) -> list[str]:
    """A dotted key as TOML writes it (``generators."DCE/i".params.min_confidence``), or
    plain parts between dots (``generators.DCE/i.params.min_confidence``)."""
    try:
        return _only_key(tomllib.loads(f"{dotted} = 0"))
    except tomllib.TOMLDecodeError:
        parts = dotted.split(".")
        if all(p and '"' not in p and "'" not in p for p in parts):
            return parts
        raise ConfigError(f"--set {dotted}: not a key (write it as TOML does)") from None


def _only_key(tree: dict) -> list[str]:
    path = []
    while isinstance(tree, dict):
        ((key, tree),) = tree.items()
        path.append(key)
    return path


def _set_path(tree: dict, dotted: str, value: Any) -> None:
    parts = _key_parts(dotted)
    node: Any = tree
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[_index(part, dotted, len(node))]
            continue
        if part not in node or not isinstance(node[part], dict | list):
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[_index(last, dotted, len(node))] = value
    else:
        node[last] = value


def _index(part: str, dotted: str, size: int) -> int:
    if not part.isdigit() or int(part) >= size:
        raise ConfigError(f"--set {dotted}: {part!r} is not an index of a list of {size}")
    return int(part)


def apply_overrides(tree: dict, overrides: list[str]) -> dict:
    """Apply ``KEY=VALUE`` strings (dotted keys) to a configuration tree."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE (e.g. execution.fill=close), got {item!r}")
        _set_path(tree, key.strip(), _parse_value(value.strip()))
    return tree


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for e in exc.errors():
        path = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown key {path!r}")
        else:
            shown = e.get("input")
            got = f" (got {shown!r})" if not isinstance(shown, dict) else ""
            message = e["msg"].removeprefix("Value error, ")
            if e["type"] == "value_error":
                got = ""  # the message names what is wrong
            lines.append(f"{path}: {message}{got}" if path else f"{message}{got}")
    return f"{source}: invalid configuration: " + "; ".join(lines)


def load_config(
    path: str | Path | Config | None = None,
    overrides: list[str] | None = None,
    *,
    files_from: Path | None = None,
    overrides_from: str = "--set",
) -> Config:
    """Defaults (or a given Config), then the file, then ``--set`` overrides (or those of
    the options named by ``overrides_from``); validated as a whole. A relative file the
    configuration names (``FILE_KEYS``) is read from the configuration file's folder (or
    ``files_from``), one given with ``--set`` from the current folder; the configuration
    names them absolute, so that a run's config.toml names the same files wherever it is
    read."""
    tree = as_lists(Config().model_dump())  # python values: Decimals stay Decimals
    source = "defaults"
    if isinstance(path, Config):
        if not overrides:
            return path
        tree, source = as_lists(path.model_dump()), "configuration"
    elif path is not None:
        path = Path(path)
        user = read_toml(path, "configuration file")
        tree = _deep_merge(
            tree, _files_from(user, path.parent if files_from is None else files_from)
        )
        source = str(path)
    return _validated(tree, overrides, source, overrides_from)


def stored_config(text: str, source: str) -> Config:
    """A configuration twotier stored (a paper state's): the files it names relative, as
    twotier named them before it made them absolute, are from the current folder, where
    twotier read them then."""
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not TOML: {exc}") from None
    tree = _deep_merge(as_lists(Config().model_dump()), _files_from(user, Path.cwd()))
    return _validated(tree, None, source, "")


def _validated(tree: dict, overrides: list[str] | None, source: str, given: str) -> Config:
    if overrides:
        tree = apply_overrides(tree, list(overrides))
        source += f" + {given}"
    tree = _files_from(tree, Path.cwd())  # from --set (or a Config made in Python)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


FILE_KEYS = ("instruments_file", "calendar_file")  # of [data]


def _files_from(tree: dict, folder: Path) -> dict:
    """The tree with the relative files it names read from ``folder`` (made absolute)."""
    data = tree.get("data")
    if not isinstance(data, dict):
        return tree
    given = {k: data[k] for k in FILE_KEYS if isinstance(data.get(k), str) and data[k]}
    absolute = {k: str(folder / v) for k, v in given.items() if not Path(v).is_absolute()}
    return {**tree, "data": {**data, **absolute}} if absolute else tree


def plain(value: Any) -> Any:
    """A configuration value as TOML can hold it: no None, lists for tuples, numbers for
    Decimals, dicts for models."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def config_to_toml(config: Config) -> str:
    """The configuration as TOML that ``load_config`` reads back to the same values."""
    return tomli_w.dumps(plain(config.model_dump()))
