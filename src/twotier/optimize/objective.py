"""What a sweep ranks parameter sets by: one objective (higher is better) and optional
constraints. A set that breaks a constraint ranks below every set that keeps them all, and
a set whose run failed ranks last; ties go to the lower set id, so a ranking never depends
on the order results arrived in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twotier.errors import ConfigError

OBJECTIVES = ("sharpe", "sortino", "calmar", "total_return")


@dataclass(frozen=True)
class Objective:
    name: str = "sharpe"
    max_drawdown: float | None = None  # a set is feasible at max_drawdown <= this
    min_trades: int | None = None  # ... and with at least this many closed trades

    def __post_init__(self) -> None:
        if self.name not in OBJECTIVES:
            raise ConfigError(
                f"unknown objective {self.name!r}; choose one of {', '.join(OBJECTIVES)}"
            )
        if self.max_drawdown is not None and not (
            _is_number(self.max_drawdown) and 0 < self.max_drawdown <= 1
        ):
            raise ConfigError(f"max_drawdown must be in (0, 1], not {self.max_drawdown!r}")
        if self.min_trades is not None and not (
            _is_number(self.min_trades) and self.min_trades >= 0 and self.min_trades % 1 == 0
        ):
            raise ConfigError(f"min_trades must be a whole number >= 0, not {self.min_trades!r}")

    def score(self, metrics: Mapping[str, Any] | None) -> float:
        """The objective's value; -inf where there is none (failed run, NaN)."""
        if not metrics:
            return -math.inf
        value = metrics.get(self.name)
        if value is None or not math.isfinite(value):
            return -math.inf
        return float(value)

    def violations(self, metrics: Mapping[str, Any] | None) -> list[str]:
        if not metrics:
            return ["no result"]
        broken = []
        if self.max_drawdown is not None and metrics["max_drawdown"] > self.max_drawdown:
            broken.append(f"max_drawdown {metrics['max_drawdown']:.2%} > {self.max_drawdown:.2%}")
        if self.min_trades is not None and metrics["trades"] < self.min_trades:
            broken.append(f"trades {metrics['trades']} < {self.min_trades}")
        return broken

    def feasible(self, metrics: Mapping[str, Any] | None) -> bool:
        return not self.violations(metrics)

    def sort_key(self, set_id: int, metrics: Mapping[str, Any] | None) -> tuple:
        """Ascending order is best first: succeeded, feasible, higher score, lower id."""
        return (metrics is None, not self.feasible(metrics), -self.score(metrics), set_id)

    def describe(self) -> str:
        parts = [self.name]
        if self.max_drawdown is not None:
            parts.append(f"max drawdown <= {self.max_drawdown:.2%}")
        if self.min_trades is not None:
            parts.append(f"trades >= {self.min_trades}")
        return ", ".join(parts)


def _is_number(value: Any) -> bool:
    """A number as written: not a boolean, not text, finite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def objective_from(
    table: Mapping[str, Any],
    name: str | None = None,
    max_drawdown: float | None = None,
    min_trades: int | None = None,
    source: str = "<space>",
) -> Objective:
    """The space file's ``[objective]`` table, with command-line values taking precedence."""
    extra = sorted(set(table) - {"name", "max_drawdown", "min_trades"})
    if extra:
        raise ConfigError(
            f"{source}: [objective] has unknown field(s) {', '.join(extra)}; "
            "expected name, max_drawdown, min_trades"
        )
    try:  # what the command line gives is its own mistake, not the file's
        Objective(name or "sharpe", max_drawdown, min_trades)
    except (ConfigError, TypeError) as exc:
        where = "--objective, --max-drawdown, --min-trades"
        raise ConfigError(f"the command line's objective ({where}): {exc}") from None
    try:
        return Objective(
            name or table.get("name", "sharpe"),
            max_drawdown if max_drawdown is not None else table.get("max_drawdown"),
            min_trades if min_trades is not None else table.get("min_trades"),
        )
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"{source}: [objective]: {exc}") from None
