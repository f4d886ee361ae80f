"""A decided step's marks serve its entries' soft limits (``Marks.hold``): where no fill
and no close decided has changed the book since they were taken, an entry's limit
context made from them is the one made afresh."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.tier2 import entries


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["execution.fill=close", "sizing.min_conviction=0.25"],
        ["market.forced_liquidation=false"],
    ],
)
def test_an_entrys_limit_context_from_the_steps_marks_is_the_one_made_afresh(
    overrides, monkeypatch
):
    made = entries.limit_context
    held = []

    def checked(c, state, b, inp, view, max_leverage, marks):
        context = made(c, state, b, inp, view, max_leverage, marks)
        never_held = dataclasses.replace(marks, booked=-1)
        assert context == made(c, state, b, inp, view, max_leverage, never_held)
        held.append(marks.hold(c))
        return context

    monkeypatch.setattr(entries, "limit_context", checked)
    bars = {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}
    last = pd.Timestamp("2023-09-30").date()
    bars = {k: v[v["trading_day"].dt.date <= last] for k, v in bars.items()}
    config = load_config(None, overrides)
    run_tier2(generate_signals(bars, config), config)
    assert True in held and False in held  # both: the marks taken, and made afresh
