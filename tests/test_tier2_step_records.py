"""A decided step's marks and record in one pass each (``book.marked_step``,
``records.record_row``) are those of the functions a stretch shares: at every decided
step, the closes, equities, PV and largest value of ``latest_closes``, ``marked_equities``
and ``largest_value``, type for type; and the record's columns, in their order, hold the
step's values (a quiet stretch appends the same ``record_row``'s values)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.scenario import IRON, MON, NO_BREAKERS, TUE, basket, config, day_bars, packages
from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2, split_packages
from twotier.market.rolls import Roll, RollSchedule
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.tier2 import book, composite, records
from twotier.tier2.book import largest_value, latest_closes, marked_equities
from twotier.tier2.view import commitments


def typed(values) -> list:
    return [(type(v), v) for v in values]


@pytest.fixture
def checked_steps(monkeypatch):
    """Each decided step's marks and record checked against the shared functions; the
    baskets seen: (whether in a position, whether its roll waits)."""
    seen = set()
    marked_step, record_row = book.marked_step, records.record_row

    def checked_marks(state):
        closes, equities, pv, largest = marked_step(state)
        assert typed(closes) == typed(latest_closes(state))
        shared_equities, shared_pv = marked_equities(state, closes, check=False)
        assert typed([*equities, pv]) == typed([*shared_equities, shared_pv])
        assert type(largest) is int and largest == largest_value(state, closes)
        seen.update((b.position is not None, b.pending_roll is not None) for b in state.baskets)
        return closes, equities, pv, largest

    def checked_row(state, time_ns, day, closes, peak, day_start, target, marked, margin=None):
        row = record_row(state, time_ns, day, closes, peak, day_start, target, marked, margin)
        names = records.record_columns(len(state.baskets), margin is not None)
        record = dict(zip(names, row, strict=True))
        held = commitments(state, closes, with_margin=False)
        equities, pv = marked
        expected = {
            "time": time_ns, "trading_day": day, "pv": pv, "peak": peak,
            "day_start": day_start, "committed": held.committed, "notional": held.notional,
            "reserve_target": target,
            "active_positions": sum(b.position is not None for b in state.baskets),
        }  # fmt: skip
        if margin is not None:
            expected["margin"] = margin
        for i, b in enumerate(state.baskets):
            p = b.position
            expected[f"equity_{i}"] = equities[i]
            expected[f"position_{i}"] = 0 if p is None else p.side * p.contracts
        assert list(record) == list(expected)
        assert typed(record.values()) == typed(expected.values())
        return row

    monkeypatch.setattr(composite, "marked_step", checked_marks)
    monkeypatch.setattr(composite, "record_row", checked_row)
    return seen


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["execution.fill=close", "sizing.min_conviction=0.25"],
        ["market.forced_liquidation=false"],
    ],
)
def test_a_decided_steps_marks_and_record_are_the_shared_functions(overrides, checked_steps):
    bars = {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}
    last = pd.Timestamp("2023-09-30").date()
    bars = {k: v[v["trading_day"].dt.date <= last] for k, v in bars.items()}
    cfg = load_config(None, overrides)
    run_tier2(generate_signals(bars, cfg), cfg)
    assert {(False, False), (True, False)} <= checked_steps


def test_a_position_whose_roll_waits_is_marked_and_recorded_at_the_old_contracts_price(
    checked_steps,
):
    # Iron ore held long over a roll whose first bar is locked at its limit: the roll
    # waits a bar, the position marked at the old contract's price meanwhile.
    t, u = day_bars(MON), day_bars(TUE)
    closes = [800.0] * 14 + [810.0] + [700.0, 702.0, 703.0, 703.0]
    frame = basket(IRON, t + u[:4], closes, open=[*closes[:15], 700.0, 701.0, 702.0, 703.0],
                   signal=1, confidence=0.9, strength=0.8)  # fmt: skip
    frame["high"] = [c + 1 for c in closes[:15]] + [700.0, 703.0, 704.0, 704.0]
    frame["low"] = [c - 1 for c in closes[:15]] + [700.0, 700.5, 702.0, 702.0]
    frame["volume"], frame["limit_up"], frame["limit_down"] = 1000.0, 900.0, 700.0
    frame["contract"] = ["i2501"] * 15 + ["i2505"] * 4
    cfg = config("execution.fill=next_open", "exits.stop_loss=false", *NO_BREAKERS)
    split = split_packages(packages(frame), cfg, "<roll>")
    rolls = {IRON: RollSchedule((Roll(u[0].date(), "i2501", "i2505", 810.0, 729.0),))}
    run_tier2(split, cfg, rolls=rolls, every_step=True)
    assert (True, True) in checked_steps
