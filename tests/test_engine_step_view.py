"""The portfolio view a tape gives a step (chaos count, average conviction, reserve
target, computed for every step at once) is the one the step would compute from the
baskets' latest packages, at every step either engine decides."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.scenario import INSTRUMENTS, run
from helpers.streams import StreamSpec, baskets_override, stream
from twotier.tier2.composite import Composite


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@pytest.fixture
def checked_views(monkeypatch):
    """Every view given by a tape, checked against the one computed without it."""
    checked = []
    view = Composite.view

    def both(self, state, pv=None, known=None):
        given = view(self, state, pv, known)
        if known is not None:
            own = view(self, state, pv)
            fields = ("chaos", "average_conviction", "reserve_target")
            assert all(_same(getattr(given, f), getattr(own, f)) for f in fields)
            assert [type(getattr(given, f)) for f in fields] == [int, float, float]
            checked.append(given)
        return given

    monkeypatch.setattr(Composite, "view", both)
    return checked


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    seed=st.integers(0, 2**32 - 1),
    chaos=st.sampled_from([0.0, 0.2, 0.5]),
    mode=st.sampled_from(["smart", "fixed"]),
    start=st.sampled_from([None, "2024-10-22"]),
)
def test_tape_view_of_a_step_equals_the_view_of_its_latest_packages(
    checked_views, seed, chaos, mode, start
):
    spec = StreamSpec(seed=seed, instruments=INSTRUMENTS, days=3, first_day=0, nights=True,
                      volatility=0.01, persistence=0.9, chaos=chaos, thin=0.2)  # fmt: skip
    checked_views.clear()
    run(stream(spec), baskets_override(spec.instruments), f"sizing.leverage_mode={mode}",
        start=start)  # fmt: skip
    assert checked_views  # both engines decided steps with the tape's view
