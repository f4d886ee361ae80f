"""The configuration sections as plain values (``config.values``): the same fields and
values, nested sections included, and not changed once made."""

import pytest
from pydantic import BaseModel

from twotier.config import load_config
from twotier.config.model import Config
from twotier.config.values import values_of


def fields_of(section) -> dict:
    return {name: getattr(section, name) for name in type(section).model_fields}


@pytest.mark.parametrize("name", ["sizing", "limits", "breakers", "exits", "market"])
def test_a_sections_values_read_as_its_fields(name):
    section = getattr(load_config(), name)
    plain = values_of(section)
    for field, value in fields_of(section).items():
        got = getattr(plain, field)
        if isinstance(value, BaseModel):  # a nested section: its values, field by field
            assert got == values_of(value)
            assert {f: getattr(got, f) for f in type(value).model_fields} == fields_of(value)
        else:
            assert got == value and type(got) is type(value)


def test_a_sizing_tier_is_read_through_its_parent():
    config = Config.model_validate({"sizing": {"strong": {**fields_of(Config().sizing.strong),
                                                           "size_base": 0.7}}})  # fmt: skip
    plain = values_of(config.sizing)
    assert plain.strong.size_base == 0.7
    assert plain.medium.threshold == config.sizing.medium.threshold


def test_values_are_not_changed_once_made():
    plain = values_of(Config().breakers)
    with pytest.raises(AttributeError):
        plain.max_drawdown = 0.5
    assert "max_drawdown=0.1" in repr(plain)
