"""Configuration sections as plain values, for the loops that read them at every step.

A pydantic model answers each attribute read through its ``__getattr__`` hook, which the
interpreter cannot specialise: about 180 instructions a read, against about 20 for a
slot. A decided step of Tier-2 reads some 90 settings (its sizing, exits, breakers and
limits). The sections are frozen, so a copy of their values stays true for the run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel


@cache
def values_class(model: type[BaseModel]) -> type:
    """A slotted class with the model's fields (sections nested in it: their values)."""
    fields = tuple(model.model_fields)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"{model.__name__}Values({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{model.__name__}Values is not changed once made")

    return type(
        f"{model.__name__}Values",
        (),
        {
            "__slots__": fields,
            "__doc__": f"The values of a ``{model.__name__}`` (``values_of``).",
            "__module__": __name__,
            "__repr__": __repr__,
            "__eq__": __eq__,
            "__setattr__": __setattr__,
            "__hash__": None,
        },
    )


def values_of(section: BaseModel) -> Any:
    """The section's field values as plain attributes of the same names (its methods and
    properties are not carried: the step reads fields only)."""
    plain = object.__new__(values_class(type(section)))
    for name in type(section).model_fields:
        value = getattr(section, name)
        object.__setattr__(plain, name, values_of(value) if isinstance(value, BaseModel) else value)
    return plain
