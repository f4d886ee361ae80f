"""The ledger check in the engine itself: a cent out of place stops the run."""

from __future__ import annotations

import pytest

from helpers.scenario import IRON, MON, config, day_bars, packages
from helpers.scenario import basket as make_basket
from twotier.broker.simulated import SimulatedBroker
from twotier.engine.backtest import run_tier2, split_packages
from twotier.market.instruments import default_registry
from twotier.tier2.book import LedgerError
from twotier.tier2.composite import Composite


def run_with(corrupt):
    """A one-day scenario whose composite lets ``corrupt(state)`` act after each step."""
    times = day_bars(MON)[:6]
    table = packages(make_basket(IRON, times, [800, 801, 802, 803, 804, 805], signal=1,
                                 confidence=0.9, strength=0.8, regime=1))  # fmt: skip
    cfg = config("execution.fill=close")
    original = Composite.step

    def step(self, state, inp):
        original(self, state, inp)
        corrupt(state)

    Composite.step = step
    try:
        return run_tier2(split_packages(table, cfg, "<ledger>"), cfg, every_step=True)
    finally:
        Composite.step = original


def test_a_balanced_ledger_runs_through():
    run_with(lambda state: None)


def test_a_cent_missing_from_a_basket_stops_the_run_with_the_time():
    def steal_a_cent(state):
        if state.baskets[0].position is not None and not getattr(state, "_stolen", False):
            state.baskets[0].cash -= 100  # 100 money units = 1 cent
            state._stolen = True

    with pytest.raises(LedgerError, match=r"ledger broken at 2024-10-21 09:1"):
        run_with(steal_a_cent)


def test_fees_not_booked_to_the_ledger_stop_the_run():
    def forget_fees(state):
        state.fees = 0

    spec = default_registry()[IRON]
    assert SimulatedBroker({IRON: spec}).fees  # fees are charged by default
    with pytest.raises(LedgerError):
        run_with(forget_fees)
