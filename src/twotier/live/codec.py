"""Tier-2's state as JSON, explicitly.

Why JSON and not pickle: the state folder outlives the code that wrote it (an upgrade,
the continuous-contract fields being added to ``Position`` right now). A pickle restores
an object's ``__dict__`` as it was, so a field added since would be silently missing and
fail much later; here every dataclass is rebuilt through its constructor, so a new field
with a default gets it, and a field that no longer exists is a clear error at start. The
database also stays readable with the ``sqlite3`` shell. Floats survive exactly (JSON
numbers are written with ``repr``), so a restored state computes the same bits.

Tags: ``{"$dc": "module:Class", ...fields}`` for dataclasses of twotier's own modules
(nothing else is ever imported), ``$ts`` for timestamps (nanoseconds and zone), ``$date``,
``$tuple``, ``$dec`` for Decimal, ``$dt64`` for numpy dates, ``$spec`` for an instrument
(by key: the specification itself comes from the instrument file).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from twotier.errors import TwotierError
from twotier.market.instruments import InstrumentSpec

# 2: equity rows keep committed capital and notional, not their ratios; 3: closes wait as
# PendingClose (their failed tries counted), a roll may wait (PendingRoll), packages carry
# the bar's lock and volume (RULES.md 10); 4: orders, positions and the journal's decisions
# and rows keep their times as nanoseconds since the epoch.
STATE_VERSION = 4


class StateFormatError(TwotierError):
    """The state database holds something this version cannot read."""


def encode(value: Any) -> Any:
    """A JSON-ready tree of ``value``."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    if isinstance(value, np.generic):
        return _dt64(value) if isinstance(value, np.datetime64) else encode(value.item())
    if isinstance(value, pd.Timestamp):
        return _timestamp(value)
    if isinstance(value, datetime):
        return _timestamp(pd.Timestamp(value))
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, InstrumentSpec):
        return {"$spec": value.key}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass(value)
    raise StateFormatError(f"cannot store a {type(value).__name__} in the live state")


def _timestamp(value: pd.Timestamp) -> dict:
    return {"$ts": value.as_unit("ns").value, "tz": str(value.tz) if value.tz else None}


def _dict(value: dict) -> dict:
    if not all(type(k) is str for k in value):
        return {"$items": [[encode(k), encode(v)] for k, v in value.items()]}
    return {k: encode(v) for k, v in value.items()}


_PLAIN = {type(None), bool, int, float, str}
_ENCODERS: dict[type, Any] = {
    list: lambda v: [encode(x) for x in v],
    tuple: lambda v: {"$tuple": [encode(x) for x in v]},
    dict: _dict,
    pd.Timestamp: _timestamp,
    date: lambda v: {"$date": v.isoformat()},
    Decimal: lambda v: {"$dec": str(v)},
}


def _dt64(value: np.datetime64) -> dict:
    unit = np.datetime_data(value.dtype)[0]
    return {"$dt64": str(value), "unit": unit}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    if not cls.__module__.startswith("twotier."):
        raise StateFormatError(f"cannot store {cls.__module__}.{cls.__qualname__}")
    return tuple(f.name for f in dataclasses.fields(cls))


def _dataclass(value: Any) -> dict:
    cls = type(value)
    out: dict[str, Any] = {"$dc": f"{cls.__module__}:{cls.__qualname__}"}
    for name in _field_names(cls):
        out[name] = encode(getattr(value, name))
    return out


def decode(tree: Any, spec: Callable[[str], InstrumentSpec]) -> Any:
    """The value ``encode`` made ``tree`` of; ``spec(key)`` resolves instruments."""
    if isinstance(tree, list):
        return [decode(v, spec) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "$dc" in tree:
        return _build(tree, spec)
    if "$ts" in tree:
        return pd.Timestamp(tree["$ts"], tz=tree["tz"])
    if "$date" in tree:
        return date.fromisoformat(tree["$date"])
    if "$tuple" in tree:
        return tuple(decode(v, spec) for v in tree["$tuple"])
    if "$dec" in tree:
        return Decimal(tree["$dec"])
    if "$dt64" in tree:
        return np.datetime64(tree["$dt64"], tree["unit"])
    if "$spec" in tree:
        return spec(tree["$spec"])
    if "$items" in tree:
        return {decode(k, spec): decode(v, spec) for k, v in tree["$items"]}
    return {k: decode(v, spec) for k, v in tree.items()}


def _build(tree: dict, spec: Callable[[str], InstrumentSpec]) -> Any:
    module_name, _, name = tree["$dc"].partition(":")
    if not module_name.startswith("twotier."):
        raise StateFormatError(f"refusing to build {tree['$dc']}")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise StateFormatError(f"the state names {tree['$dc']}, which no longer exists") from None
    if not dataclasses.is_dataclass(cls):
        raise StateFormatError(f"{tree['$dc']} is not a dataclass")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    fields = {k: decode(v, spec) for k, v in tree.items() if k != "$dc"}
    gone = set(fields) - known
    if gone:
        raise StateFormatError(
            f"the state has field(s) {', '.join(sorted(gone))} of {name} that this version "
            "does not know; it was written by another version of twotier"
        )
    try:
        return cls(**fields)
    except TypeError as exc:
        raise StateFormatError(f"cannot rebuild {name} from the state: {exc}") from None


def dumps(value: Any) -> str:
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=True)


def loads(text: str, spec: Callable[[str], InstrumentSpec]) -> Any:
    return decode(json.loads(text), spec)
