"""The search space: which configuration keys vary, over which values, and how parameter
sets are drawn from them (the TOML format is in docs/optimize.md).

A dimension is either discrete (a fixed value, a grid or a range: a list of values) or a
uniform draw (``random``). ``method = "grid"`` takes the Cartesian product of every
dimension's values (a uniform dimension draws ``count`` values once); ``method = "random"``
draws ``samples`` sets, each dimension independently. Draws are seeded, so the same file
gives the same sets, numbered 1, 2, ... in the order they are made (0 is the base
configuration, see ``sweep.py``).
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from twotier.config.load import load_config, override
from twotier.config.model import Config
from twotier.errors import ConfigError
from twotier.io import read_toml

BASE_SET = 0  # the id of the base configuration, which runs beside every sweep
METHODS = ("grid", "random")
KINDS = ("grid", "range", "random")
SECTIONS = ("search", "space", "objective")
MAX_SETS = 100_000
MAX_AXIS = 10_000
DRAW_ROUNDS = 1_000  # of drawing again the values a random axis drew twice
# Keys that choose how bars are read: one sweep reads its bars once.
FIXED_PREFIXES = ("data.",)


@dataclass(frozen=True)
class Uniform:
    """A uniform draw from [low, high] (log-uniform with ``log``); whole numbers when both
    bounds are; floats rounded to ``digits`` decimals so that keys and columns stay
    readable."""

    low: float
    high: float
    log: bool = False
    digits: int = 6
    count: int | None = None

    @property
    def integer(self) -> bool:
        return _is_int(self.low) and _is_int(self.high)

    def draw(self, rng: np.random.Generator, n: int) -> list:
        if self.log:
            raw = np.exp(rng.uniform(math.log(self.low), math.log(self.high), n))
            return [int(np.rint(v)) if self.integer else round(float(v), self.digits) for v in raw]
        if self.integer:
            return [int(v) for v in rng.integers(self.low, self.high + 1, n)]
        return [round(float(v), self.digits) for v in rng.uniform(self.low, self.high, n)]

    def distinct(self, rng: np.random.Generator, n: int, where: str) -> list:
        """``n`` different values: draws of the same value are drawn again (the first ``n``
        draws when all differ, so a space whose draws never repeat keeps its values).
        Fewer than ``n`` values in the range is an error."""
        if self.integer:
            holds = int(self.high) - int(self.low) + 1
            if n > holds:
                raise ConfigError(
                    f"{where}: random count {n} asks for more whole numbers than {self.low} "
                    f"to {self.high} holds ({holds})"
                )
            if 2 * n > holds:  # most of them: drawing again would take long to find the rest
                chosen = rng.choice(holds, size=n, replace=False) + int(self.low)
                return [int(v) for v in chosen]
        values: dict = {}
        for _ in range(DRAW_ROUNDS):
            values.update(dict.fromkeys(self.draw(rng, n - len(values))))
            if len(values) == n:
                return list(values)
        raise ConfigError(
            f"{where}: random count {n}: only {len(values)} different values drawn between "
            f"{self.low} and {self.high} with {self.digits} digits; ask for fewer, or more digits"
        )


@dataclass(frozen=True)
class Dimension:
    """One configuration key and the values it takes: ``values`` (discrete) or
    ``uniform``."""

    key: str
    values: tuple[Any, ...] = ()
    uniform: Uniform | None = None

    def candidates(self) -> tuple[Any, ...]:
        """Values that must pass the configuration's validation on their own."""
        if self.uniform is None:
            return self.values
        return (self.uniform.low, self.uniform.high)


@dataclass(frozen=True)
class ParameterSet:
    """One point of the space: a value per varied key, as ``--set`` overrides."""

    set_id: int
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def overrides(self) -> list[str]:
        return [override(key, value) for key, value in self.values.items()]


@dataclass(frozen=True)
class SearchSpace:
    dimensions: tuple[Dimension, ...]
    method: str = "grid"
    seed: int = 0
    samples: int | None = None
    objective: dict[str, Any] = field(default_factory=dict)  # the raw [objective] table
    source: str = "<space>"

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.dimensions]


# ------------------------------------------------------------------------- reading


def load_space(path: str | Path) -> SearchSpace:
    return parse_space(read_toml(path, "search space file"), str(path))


def parse_space(doc: dict[str, Any], source: str = "<space>") -> SearchSpace:
    unknown = sorted(set(doc) - set(SECTIONS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown section(s) {', '.join(unknown)}; expected {', '.join(SECTIONS)}"
        )
    search = _table(doc, "search", source)
    _only(search, ("method", "seed", "samples"), "[search]", source)
    method = search.get("method", "grid")
    if method not in METHODS:
        raise ConfigError(f"{source}: [search] method must be 'grid' or 'random', not {method!r}")
    seed = search.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise ConfigError(f"{source}: [search] seed must be a whole number >= 0, not {seed!r}")
    samples = search.get("samples")
    if method == "random" and (not _is_int(samples) or samples < 1):
        raise ConfigError(f"{source}: [search] method = 'random' needs samples = N (N >= 1)")
    entries = _flatten(_table(doc, "space", source), source=source)
    if not entries:
        raise ConfigError(f'{source}: [space] is empty; add e.g. "sizing.min_conviction" = ...')
    dimensions = tuple(_dimension(key, spec, method, source) for key, spec in entries.items())
    objective = _table(doc, "objective", source)
    return SearchSpace(dimensions, method, seed, samples, objective, source)


def _table(doc: dict, name: str, source: str) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    return value


def _only(table: dict, allowed: tuple[str, ...], where: str, source: str) -> None:
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise ConfigError(
            f"{source}: {where} has unknown field(s) {', '.join(extra)}; "
            f"expected {', '.join(allowed)}"
        )


def _flatten(table: dict, prefix: str = "", source: str = "") -> dict[str, Any]:
    """``[space]`` entries by dotted key. Quoted keys (``"sizing.min_conviction" = ...``)
    and nested tables (``[space.sizing] min_conviction = ...``) mean the same, so one key
    written both ways is refused (one of the two would be dropped)."""
    flat = {}
    for name, spec in table.items():
        key = f"{prefix}{name}"
        if isinstance(spec, dict) and not set(spec) & set(KINDS):
            entries = _flatten(spec, f"{key}.", source)
        else:
            entries = {key: spec}
        for twice in entries.keys() & flat.keys():
            raise ConfigError(f"{source}: [space] {twice!r} is given twice")
        flat.update(entries)
    return flat


def _dimension(key: str, spec: Any, method: str, source: str) -> Dimension:
    where = f"{source}: [space] {key!r}"
    if key.startswith(FIXED_PREFIXES):
        raise ConfigError(f"{where}: data.* keys choose how bars are read; they cannot vary")
    if isinstance(spec, list):
        spec = {"grid": spec}
    if not isinstance(spec, dict):
        return Dimension(key, (_plain_value(spec, where),))
    kinds = [k for k in KINDS if k in spec]
    if len(kinds) != 1 or len(spec) != 1:
        raise ConfigError(
            f"{where}: expected one of {{grid = [...]}}, {{range = [start, stop, step]}} or "
            f"{{random = {{low = ..., high = ...}}}}, got {spec!r}"
        )
    kind = kinds[0]
    if kind == "grid":
        return Dimension(key, _grid(spec["grid"], where))
    if kind == "range":
        return Dimension(key, _range(spec["range"], where))
    return Dimension(key, uniform=_uniform(spec["random"], method, where))


def _plain_value(value: Any, where: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: {value!r} is not a usable value")
    if not isinstance(value, bool | int | float | str | list):
        raise ConfigError(f"{where}: {value!r} is not a number, string, boolean or list")
    return value


def _grid(values: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}: grid must be a non-empty list of values")
    distinct = []
    for value in values:
        value = _plain_value(value, where)
        if value not in distinct:
            distinct.append(value)
    return tuple(distinct)


def _range(bounds: Any, where: str) -> tuple[Any, ...]:
    """``[start, stop, step]``, stop included, in exact decimal steps (0.005 + 3 * 0.005
    is 0.02, not 0.019999...)."""
    if not isinstance(bounds, list) or len(bounds) != 3 or not all(map(_is_number, bounds)):
        raise ConfigError(f"{where}: range must be [start, stop, step] (numbers), got {bounds!r}")
    try:
        start, stop, step = (Decimal(str(v)) for v in bounds)
    except InvalidOperation:
        raise ConfigError(f"{where}: range {bounds!r} is not finite") from None
    if not step > 0:
        raise ConfigError(f"{where}: empty range {bounds!r}: the step must be > 0")
    if start > stop:
        raise ConfigError(f"{where}: empty range {bounds!r}: start is above stop")
    count = int((stop - start) / step) + 1
    if count > MAX_AXIS:
        raise ConfigError(f"{where}: range {bounds!r} has {count:,} values (at most {MAX_AXIS:,})")
    as_int = all(_is_int(v) for v in bounds)
    return tuple(int(start + i * step) if as_int else float(start + i * step) for i in range(count))


def _uniform(table: Any, method: str, where: str) -> Uniform:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: random must be a table {{low = ..., high = ...}}")
    _only(table, ("low", "high", "count", "log", "digits"), "random", where)
    low, high = table.get("low"), table.get("high")
    if not (_is_number(low) and _is_number(high)):
        raise ConfigError(f"{where}: random needs numbers low and high, got {table!r}")
    if not low <= high:
        raise ConfigError(f"{where}: empty range: random low {low!r} is above high {high!r}")
    if not _drawable(low, high):
        raise ConfigError(
            f"{where}: random low {low!r} to high {high!r} is wider than numbers are drawn in "
            "(floats: their difference must be finite; whole numbers: 64-bit)"
        )
    log = table.get("log", False)
    if log and low <= 0:
        raise ConfigError(f"{where}: random with log = true needs low > 0")
    count = table.get("count")
    if count is not None and (not _is_int(count) or not 1 <= count <= MAX_AXIS):
        raise ConfigError(f"{where}: random count must be a whole number from 1 to {MAX_AXIS}")
    if method == "grid" and count is None:
        raise ConfigError(f"{where}: with method = 'grid', random needs count = N (values drawn)")
    digits = table.get("digits", 6)
    if not _is_int(digits) or not 0 <= digits <= 15:
        raise ConfigError(f"{where}: random digits must be a whole number from 0 to 15")
    return Uniform(low, high, bool(log), digits, count)


def _drawable(low, high) -> bool:
    """Whether numpy can draw from [low, high]: whole numbers within 64 bits, floats
    whose difference is finite."""
    if _is_int(low) and _is_int(high):
        return low >= -(2**63) and high <= 2**63 - 1
    try:
        return math.isfinite(float(high) - float(low))
    except OverflowError:  # a whole number beyond any float
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------------------- drawing sets


def parameter_sets(space: SearchSpace) -> list[ParameterSet]:
    """The space's parameter sets, numbered from 1, the same for the same file."""
    rng = np.random.default_rng(space.seed)
    rows = _grid_rows(space, rng) if space.method == "grid" else _random_rows(space, rng)
    return [
        ParameterSet(i, dict(zip(space.keys, row, strict=True))) for i, row in enumerate(rows, 1)
    ]


def _grid_rows(space: SearchSpace, rng: np.random.Generator) -> list[tuple]:
    axes = []
    for dim in space.dimensions:
        if dim.uniform is None:
            axes.append(dim.values)
        else:  # drawn once, in key order, then sorted: a readable axis
            where = f"{space.source}: [space] {dim.key!r}"
            axes.append(tuple(sorted(dim.uniform.distinct(rng, dim.uniform.count, where))))
    total = math.prod(len(axis) for axis in axes)
    if total > MAX_SETS:
        raise ConfigError(
            f"{space.source}: the grid has {total:,} parameter sets (at most {MAX_SETS:,}); "
            "use method = 'random' with samples = N"
        )
    return list(itertools.product(*axes))


def _random_rows(space: SearchSpace, rng: np.random.Generator) -> list[tuple]:
    rows, seen = [], set()
    for _ in range(space.samples):
        row = tuple(_draw_one(dim, rng) for dim in space.dimensions)
        signature = json.dumps(row)
        if signature not in seen:  # a discrete space can repeat itself
            seen.add(signature)
            rows.append(row)
    return rows


def _draw_one(dim: Dimension, rng: np.random.Generator) -> Any:
    if dim.uniform is not None:
        return dim.uniform.draw(rng, 1)[0]
    return dim.values[int(rng.integers(len(dim.values)))]


# ------------------------------------------------------------------------- validation


def validate(space: SearchSpace, base: Config, sets: list[ParameterSet]) -> None:
    """Every key and value on its own, then every whole set, through ``load_config``:
    a sweep never starts with a set the configuration model refuses."""
    known = _known_keys(base)
    for dim in space.dimensions:
        for value in dim.candidates():
            _check_value(space.source, base, dim.key, value, known)
    for s in sets:
        try:
            load_config(base, s.overrides)
        except ConfigError as exc:
            shown = ", ".join(f"{k} = {v!r}" for k, v in s.values.items())
            raise ConfigError(
                f"{space.source}: parameter set {s.set_id} ({shown}) is refused by the "
                f"configuration: {_reason(exc)}"
            ) from None


def _check_value(source: str, base: Config, key: str, value: Any, known: list[str]) -> None:
    try:
        load_config(base, [override(key, value)])
    except ConfigError as exc:
        reason = _reason(exc)
        if "unknown key" in reason:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(
                f"{source}: [space] {key!r}: unknown configuration key{hint}"
            ) from None
        raise ConfigError(
            f"{source}: [space] {key!r} = {value!r} is refused by the configuration: {reason}"
        ) from None


def _reason(exc: ConfigError) -> str:
    return str(exc).split("invalid configuration: ", 1)[-1]


def _known_keys(config: Config) -> list[str]:
    keys: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for name, child in node.items():
                walk(child, f"{prefix}{name}.")
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for i, child in enumerate(node):
                walk(child, f"{prefix}{i}.")
        else:
            keys.append(prefix.rstrip("."))

    walk(config.model_dump(mode="json"), "")
    return keys
