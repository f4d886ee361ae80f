"""Runs that share their tapes (a sweep's batch: ``SharedTapes``) give what each gives
alone, whatever keys they differ in; the tape's time axis is the sorted union of the
baskets' bar times."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from twotier.config import load_config
from twotier.engine.backtest import SharedTapes, generate_signals, run_tier2
from twotier.engine.tape import sorted_union
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample

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
        assert basket.package(bar) is basket._made[bar]
        assert basket.package(bar) == basket._package(bar)  # what the arrays say


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
    }  # fmt: skip
    for bar in (0, 17, 399):
        package = basket._package(bar)
        for name, column in columns.items():
            value, expected = getattr(package, name), column.tolist()[bar]
            assert type(value) is type(expected) and value == expected, name
