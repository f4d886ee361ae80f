"""Runs that share their tapes (a sweep's batch: ``SharedTapes``) give what each gives
alone, whatever keys they differ in; the tape's time axis is the sorted union of the
baskets' bar times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twotier.config import load_config
from twotier.engine.backtest import SharedTapes, generate_signals, run_tier2
from twotier.engine.tape import sorted_union
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.tier2.composite import Composite
from twotier.tier2.stretch import Stretch

TABLES = ("trades", "fills", "equity", "decisions")
# Tier-2 keys, some of which shape the tapes (conviction weights, reserve targets, the
# leverage mode, the market rules, the fill price) and some of which do not.
VARIANTS = [
    [],
    ["sizing.min_conviction=0.25", "exits.stop_loss_above=0.008"],
    ["sizing.confidence_weight=0.8", "sizing.strength_weight=0.2"],
    ["limits.reserve_defensive=0.5", "sizing.leverage_mode=fixed"],
    ["market.price_limits=false", "execution.fill=close"],
    [],
]


def test_runs_sharing_their_tapes_give_what_each_gives_alone():
    bars = {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}
    bars = {
        k: v[v["trading_day"].dt.date <= pd.Timestamp("2023-06-30").date()] for k, v in bars.items()
    }
    packages = generate_signals(bars, load_config())
    shared = SharedTapes()
    finals = set()
    for overrides in VARIANTS:
        config = load_config(None, overrides)
        together = run_tier2(packages, config, shared=shared)
        alone = run_tier2(packages, config)
        for name in TABLES:
            pd.testing.assert_frame_equal(getattr(together, name), getattr(alone, name))
        assert together.summary == alone.summary
        finals.add(together.summary["final_pv"])
    assert len(finals) > 2  # the variants trade differently
    # Basket tapes follow the conviction weights, the market rules and the fill price
    # only: three kinds among the variants, three baskets each.
    assert sum(key[0] == "basket" for key in shared._made) == 3 * len(SAMPLE_INSTRUMENTS)


@given(
    st.lists(
        st.lists(st.integers(-(2**40), 2**40), max_size=30).map(sorted), min_size=1, max_size=4
    )
)
def test_the_time_axis_is_the_sorted_union_of_the_baskets_times(times):
    stamps = [np.array(t, dtype=np.int64) for t in times]
    union, steps = sorted_union(stamps)
    assert union.dtype == np.int64
    assert np.array_equal(union, np.unique(np.concatenate(stamps)))
    # each basket's bars at their steps: where a binary search of the axis finds them
    assert len(steps) == len(stamps)
    for stamp, step in zip(stamps, steps, strict=True):
        assert step.dtype == np.int64
        assert np.array_equal(step, np.searchsorted(union, stamp))


def test_a_bar_is_made_a_package_once_and_kept_as_made():
    bars = {k: load_sample(k).iloc[:400] for k in SAMPLE_INSTRUMENTS}
    config = load_config()
    shared = SharedTapes()
    run_tier2(generate_signals(bars, config), config, shared=shared)
    [basket] = [t for key, t in shared._made.items() if key[0] == "basket" and key[2] == 0]
    asked = sorted(basket._made)
    assert asked  # the run asked for some bars, not for every one
    assert len(asked) < len(basket.close)
    for bar in asked[:50]:
        kept = basket._made[bar]
        assert basket.package(bar) is kept
        del basket._made[bar]
        assert basket.package(bar) == kept  # made again from the arrays: what they say


def test_a_package_holds_the_bar_as_plain_python_values():
    # As ``tolist`` gives them: int and float, never numpy's scalars (json, repr and the
    # arithmetic of the step see the same values whichever way they are read).
    bars = {k: load_sample(k).iloc[:400] for k in SAMPLE_INSTRUMENTS}
    config = load_config()
    shared = SharedTapes()
    run_tier2(generate_signals(bars, config), config, shared=shared)
    [basket] = [t for key, t in shared._made.items() if key[0] == "basket" and key[2] == 0]
    assert basket.market is not None  # the market's locks and limits are read too
    columns = {
        "time_ns": basket.time_ns, "trading_day": basket.trading_day, "open": basket.open,
        "close": basket.close, "signal": basket.signal, "confidence": basket.confidence,
        "strength": basket.strength, "regime": basket.regime, "episode": basket.episode,
        "conviction": basket.conviction, "locked": basket.market.locked,
        "volume": basket.market.volume,
    }  # fmt: skip
    for bar in (0, 17, 399):
        basket._made.pop(bar, None)  # made from the arrays, not kept from the run
        package = basket.package(bar)
        for name, column in columns.items():
            value, expected = getattr(package, name), column.tolist()[bar]
            assert type(value) is type(expected) and value == expected, name


def test_quiet_stretches_leave_a_latest_package_only_to_the_step_that_replaces_it():
    # A stretch leaves a basket's latest package to the decided step after it where that
    # step has a bar of the basket (it marks it before anything reads it); at every other
    # basket, and before every fill, each latest package is the latest bar's.
    bars = {k: load_sample(k).iloc[:3000] for k in SAMPLE_INSTRUMENTS}
    config = load_config()
    shared = SharedTapes()
    packages = generate_signals(bars, config)
    run_tier2(packages, config, shared=shared)  # makes the tape, to look the steps up
    [tape] = [t for key, t in shared._made.items() if key[0] == "tape"]
    checked = []

    def check(state, inp, replaced):
        k = int(np.searchsorted(tape.time_ns, inp.time_ns))
        for i, b in enumerate(state.baskets):
            latest = int(tape.latest[i, k - 1]) if k else -1
            if i not in replaced and latest >= 0:
                assert b.last is not None and b.last.bar == latest, (k, i)
                checked.append(k)

    def decide(self, state, inp):
        check(state, inp, inp.packages)
        return real_decide(self, state, inp)

    def fill(self, state, inp):
        check(state, inp, ())
        return real_fill(self, state, inp)

    real_decide, real_fill = Composite.decide, Composite.fill
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Composite, "decide", decide)
        patch.setattr(Composite, "fill", fill)
        run_tier2(packages, config, shared=shared)
    assert checked


def test_a_stretch_names_the_baskets_whose_bar_begins_at_a_step():
    stretch = Stretch(
        np.arange(4), np.zeros(4, "datetime64[D]"), np.zeros(4, bool), [],
        np.array([[3, 3, 4, 4], [-1, 0, 0, 1]]), np.zeros(4), [0, 1],
    )  # fmt: skip
    assert [stretch.marked_by(j) for j in (1, 2, 3, 4)] == [[1], [0], [1], [0, 1]]
    assert stretch.head(2).marked_after == [0]
