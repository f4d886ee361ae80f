"""Strict configuration models: a value is taken as what it is, never coerced between
booleans, numbers and text (``max_leverage = true`` and ``trailing_stop = "yes"`` are
errors, not 1.0 and True). Integers are numbers wherever a number is asked for. Lists (as
TOML and the command line write them) are taken where the model keeps tuples."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

# allow_inf_nan=False: an infinite or NaN number is no setting (pydantic takes both).
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class StrictModel(BaseModel):
    model_config = STRICT


def as_tuples(value: Any) -> Any:
    """Lists, at any depth, as tuples (the model's own type for fixed tables)."""
    if isinstance(value, list | tuple):
        return tuple(as_tuples(v) for v in value)
    return value


# Annotated[tuple[...], LISTS]: a tuple field that also takes a list.
LISTS = BeforeValidator(as_tuples)


def not_boolean(value: Any) -> Any:
    """A number as written: pydantic's lax mode takes ``true`` as 1 (a margin rate of
    100%), where the data files' models must take numbers written as text."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    return value


# Annotated[float, NUMBER]: a number in a lax model (instrument data), never a boolean.
NUMBER = BeforeValidator(not_boolean)


def as_lists(value: Any) -> Any:
    """A model dump (python mode) with its tuples as lists: a tree the command line's
    ``--set a.0.b=...`` can index and TOML can hold."""
    if isinstance(value, dict):
        return {k: as_lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_lists(v) for v in value]
    return value
