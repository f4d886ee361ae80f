"""Each Tier-2 rule is one function for one step (plain numbers) and for many steps
(arrays): the step calls it with numbers, the engine's stretch and scan logic with arrays.
Here the two forms meet on random inputs: the array form must equal the value form applied
step after step, bit for bit."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.scenario import IRON, MON, TUE, basket, config, day_bars, packages
from twotier.config.model import BreakerParams, ExitParams, LimitParams, SizingParams
from twotier.engine.backtest import run_tier2, split_packages
from twotier.market.instruments import InstrumentRegistry
from twotier.market.rolls import Roll, RollSchedule
from twotier.market.settlement import SettlementHistory
from twotier.money import price_units
from twotier.numeric import (
    above,
    carried_previous,
    decided,
    largest,
    running_max_restarting,
    smallest,
)
from twotier.tier2.breakers import daily_loss_fires, drawdown_fires, fired_on
from twotier.tier2.composite import Composite
from twotier.tier2.days import day64, day_marks, day_of
from twotier.tier2.exits import (
    ANY_LOSS_FLOOR,
    EXIT_INPUTS,
    EXIT_TREE,
    TRAIL_STATE,
    enabled_rules,
    exit_marks,
    first_exit,
    loss_floor,
    scan_key,
    scan_rules,
    side_exit_bars,
)
from twotier.tier2.margin import book_margins, liquidation_fires, margin_rate, reference_price
from twotier.tier2.sizing import conviction, entry_gate
from twotier.tier2.state import BasketState, PortfolioState, Position
from twotier.tier2.view import NO_REGIME, average_conviction, chaos_count, reserve_target

MONEY = st.integers(min_value=1, max_value=2 * 10**13)  # money units: up to 2e9 CNY
UNIT = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
DAY0 = date(2024, 10, 21)
DAYS = [date(1970, 1, 1), date(1969, 12, 31), date(2025, 3, 4), date(1, 1, 1)]  # epoch edges


def steps(n_max: int = 40):
    return st.integers(min_value=1, max_value=n_max)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=steps(),
    last_pv=MONEY,
    day_start=MONEY,
    peak=MONEY,
    reset_pending=st.booleans(),
)
def test_day_start_and_peak_of_a_stretch_equal_the_step_rule_applied_step_by_step(
    data, n, last_pv, day_start, peak, reset_pending
):
    """Also a flat stretch's one PV for every step, and peaks at and around the highest
    PV (where the stretch's peak is its start's at every step, or not)."""
    pv = np.array(data.draw(st.lists(MONEY, min_size=n, max_size=n)), dtype=np.int64)
    new_day = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    flat = data.draw(st.booleans())
    if flat:
        pv[:] = pv[0]
    high = int(pv.max())
    peak = data.draw(st.sampled_from([peak, high - 1, high, high + 1]))
    stretch_pv = int(pv[0]) if flat else pv
    starts, peaks = day_marks(stretch_pv, new_day, last_pv, day_start, peak, reset_pending)
    assert starts.dtype == peaks.dtype == np.int64
    pending = reset_pending
    for k in range(n):
        day_start, peak = day_marks(int(pv[k]), bool(new_day[k]), last_pv, day_start, peak, pending)
        pending = pending and not new_day[k]
        last_pv = int(pv[k])
        assert (int(starts[k]), int(peaks[k])) == (day_start, peak), k


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=steps(),
    first=MONEY,
    before=MONEY,
)
def test_carried_previous_is_the_value_before_the_latest_mark(data, n, first, before):
    """The array form (each run between marks filled at once) equals the value form
    applied step after step."""
    values = np.array(data.draw(st.lists(MONEY, min_size=n, max_size=n)), dtype=np.int64)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    carried = carried_previous(values, first, mask, before)
    assert carried.dtype == np.int64
    previous, expected = first, before
    for k in range(n):
        expected = carried_previous(int(values[k]), previous, bool(mask[k]), expected)
        assert int(carried[k]) == expected, k
        previous = int(values[k])


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=steps(), value=MONEY, first=MONEY, before=MONEY, peak=MONEY)
def test_one_value_for_every_position_is_that_value_repeated(data, n, value, first, before, peak):
    """carried_previous and running_max_restarting of one number (a flat stretch's PV)
    equal those of the array that repeats it."""
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    repeated = np.full(n, value, dtype=np.int64)
    carried = carried_previous(value, first, mask, before)
    assert carried.dtype == np.int64
    assert carried.tolist() == carried_previous(repeated, first, mask, before).tolist()
    for restart in (None, mask):
        one = running_max_restarting(value, peak, restart, carried)
        assert one.dtype == np.int64
        expected = running_max_restarting(repeated, peak, restart, carried)
        assert one.tolist() == expected.tolist()


NEAR = st.floats(min_value=-1e-8, max_value=1e-8, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    n=steps(40),
    limit=st.sampled_from([0.03, 0.1, 1.0, 0.5]),
)
def test_above_is_the_decided_test_with_a_plain_false_where_none_passes(data, n, limit):
    """Values at and about the limit, within its rounding: ``above`` answers as
    ``decided(values) > limit`` at every value, and a plain False only where none is."""
    offsets = data.draw(st.lists(NEAR | st.floats(-1.0, 0.0), min_size=n, max_size=n))
    values = limit + np.array(offsets)
    if data.draw(st.booleans()):
        values[data.draw(st.integers(0, n - 1))] = np.nan
    expected = decided(values) > limit
    got = above(values, limit)
    assert np.array_equal(np.broadcast_to(got, values.shape), expected)
    if got is False:
        assert not expected.any()
    assert above(float(values[0]), limit) == bool(expected[0])


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    n=steps(20),
    limit=st.sampled_from([0.03, 0.1, 0.5]),
)
def test_breakers_at_the_limit_fire_on_a_stretch_where_they_fire_step_by_step(data, n, limit):
    """PV a few money units either side of the limit, where the stretch's first look at
    the largest fall must leave the test to the decided values."""
    rules = BreakerParams(max_drawdown=limit, max_daily_loss=limit)
    base = np.array(data.draw(st.lists(MONEY, min_size=n, max_size=n)), dtype=np.int64)
    nudge = data.draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    pv = np.round(base * (1 - limit)).astype(np.int64) + np.array(nudge, dtype=np.int64)
    for fires in (drawdown_fires, daily_loss_fires):
        many = np.broadcast_to(fires(pv, base, False, rules), pv.shape)
        for k in range(n):
            assert bool(many[k]) == bool(fires(int(pv[k]), int(base[k]), False, rules)), k


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    n=st.sampled_from([1, 2, 3, 16, 17, 40]),
    level=st.sampled_from([0.8, 1.0]),
    near=st.booleans(),
)
def test_forced_liquidation_fires_on_a_stretch_where_it_fires_step_by_step(data, n, level, near):
    """The risk degree's test over many steps (with PV at or below 0 too) equals the
    step's, at and about the level."""
    pv = np.array(
        data.draw(st.lists(st.integers(-(10**6), 2 * 10**13), min_size=n, max_size=n)),
        dtype=np.int64,
    )
    spread = 1e-9 if near else 1.0
    shares = data.draw(st.lists(st.floats(1 - spread, 1 + spread), min_size=n, max_size=n))
    margin = level * np.abs(pv) / 10_000 * np.array(shares)
    many = np.broadcast_to(liquidation_fires(margin, pv, level), pv.shape)
    for k in range(n):
        assert bool(many[k]) == liquidation_fires(float(margin[k]), int(pv[k]), level), k


@pytest.mark.parametrize("n", [1, 3, 16, 17, 100])
def test_largest_and_smallest_are_numpys_as_python_numbers(n):
    values = np.random.default_rng(n).integers(-(2**62), 2**62, n)
    assert largest(values) == int(values.max()) and type(largest(values)) is int
    assert smallest(values) == int(values.min()) and type(smallest(values)) is int


@pytest.mark.parametrize("day", DAYS)
def test_day64_is_numpys_day(day):
    assert day64(day) == np.datetime64(day, "D")
    assert day64(day).dtype == np.dtype("datetime64[D]")


@pytest.mark.parametrize("day", DAYS)
def test_day_of_a_count_of_days_is_the_date_numpy_gives(day):
    days = np.array([day], dtype="datetime64[D]")
    assert day_of(int(days.view(np.int64)[0])) == days.item(0) == day


DATED_MARGIN = '[instruments."DCE/i"]\nschedule = [{ from = 2020-02-03, margin_rate = 0.15 }]\n'


def registry_of(tmp_path, text: str) -> InstrumentRegistry:
    path = tmp_path / "instruments.toml"
    path.write_text(text, encoding="utf-8")
    return InstrumentRegistry.load(path)


@pytest.mark.parametrize("text", ["", DATED_MARGIN], ids=["constant", "dated"])
def test_margin_rate_of_many_days_is_each_days(tmp_path, text):
    """The array form (one number where the rate never changes) gives each day the rate
    the value form gives it."""
    spec = registry_of(tmp_path, text)["DCE/i"]
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-03-01"))
    each = np.broadcast_to(margin_rate(spec, days, 0.02), days.shape)
    assert each.tolist() == [margin_rate(spec, day, 0.02) for day in days.tolist()]


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    n=steps(),
    opened_at=st.integers(min_value=-2, max_value=8),
    entry=st.integers(min_value=1, max_value=10**9),
    held_float=st.booleans(),
)
def test_reference_price_of_many_steps_is_each_steps(data, n, opened_at, entry, held_float):
    """Days in order, the position opened before them (None), on the first, within or
    after them: each step's reference price is the step's, bit for bit (and of the type
    comparing every day gives), whether every day has a previous settlement or not, and
    whether the price held is an integer or a float."""
    gaps = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    days = np.datetime64(DAY0, "D") + np.cumsum(gaps)
    first = days.item(0)
    opened = first + timedelta(days=opened_at)
    settle = st.integers(min_value=-1, max_value=10**9)
    settled = np.array(data.draw(st.lists(settle, min_size=n, max_size=n)), dtype=np.int64)
    held = np.array(data.draw(st.lists(st.integers(1, 10**9), min_size=n, max_size=n)))
    held = held.astype(np.float64) if held_float else held
    opened_on = None if opened < first else opened
    prices = reference_price(days, opened_on, entry, settled, held)
    each = [
        reference_price(day, opened, entry, int(settled[k]), held[k].item())
        for k, day in enumerate(days.tolist())
    ]
    assert prices.tolist() == each
    later = settled if settled.min() > 0 else np.where(settled > 0, settled, held)
    compared = later if opened_on is None else np.where(days == day64(opened), entry, later)
    assert prices.dtype == compared.dtype  # as comparing every day gives it


@pytest.mark.parametrize("text", ["", DATED_MARGIN], ids=["constant", "dated"])
@pytest.mark.parametrize("closing", [0, 3])
@pytest.mark.parametrize("opened", [date(2020, 1, 29), date(2020, 1, 20)])
def test_book_margins_of_many_steps_are_each_steps(tmp_path, text, closing, opened):
    """A stretch's margins (of all contracts and of those not closing) equal the step's,
    bit for bit, with one basket flat: the position opened within the days or before
    them, and its contract's settlements known before some of them or all."""
    registry = registry_of(tmp_path, text)
    specs = [registry["DCE/i"], registry["SHFE/cu"]]
    position = Position(
        1, 10, price_units(800.0), None, opened, None, "close", "MEDIUM", 0.5,
        0.5, 1.0, 1.0, 1e5, 0.02, 0.05, False, 0.0, 0.0, closing=closing, contract="i2005",
    )  # fmt: skip
    baskets = [BasketState(0, specs[0], 0, 0, position), BasketState(1, specs[1], 0, 0)]
    state = PortfolioState(baskets, 0, 0, 0, 0, 0)
    history = SettlementHistory()
    settled = [(date(2020, 1, 28), 795.0), (date(2020, 2, 4), 812.5)]
    if opened < date(2020, 1, 27):  # opened before the days: a settlement before every one
        settled.insert(0, (opened, 790.0))
    for day, price in settled:
        history.add("i2005", day, price_units(price))
    histories = [history, SettlementHistory()]
    days = np.repeat(np.arange(np.datetime64("2020-01-27"), np.datetime64("2020-02-07")), 2)
    closes = [price_units(800.0) + 10_000 * np.arange(len(days)), np.zeros(len(days), int)]
    held, unclosed, _, _ = book_margins(state, days, closes, histories, 0.02)
    for k, day in enumerate(days.tolist()):
        one = book_margins(state, day, [int(closes[0][k]), 0], histories, 0.02)
        assert (held[k], unclosed[k]) == one[:2], k


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=steps(),
    max_drawdown=st.floats(min_value=0.01, max_value=0.5),
    max_daily_loss=st.floats(min_value=0.01, max_value=0.5),
    switches=st.tuples(st.booleans(), st.booleans()),
    fired=st.tuples(st.none() | st.integers(0, 5), st.none() | st.integers(0, 5)),
)
def test_breakers_fire_on_a_stretch_where_they_fire_step_by_step(
    data, n, max_drawdown, max_daily_loss, switches, fired
):
    rules = BreakerParams(
        max_drawdown=max_drawdown,
        max_daily_loss=max_daily_loss,
        drawdown_breaker=switches[0],
        daily_loss_breaker=switches[1],
    )
    pv = np.array(data.draw(st.lists(MONEY, min_size=n, max_size=n)), dtype=np.int64)
    peak = np.maximum.accumulate(np.maximum(pv, data.draw(MONEY)))
    start = np.array(data.draw(st.lists(MONEY, min_size=n, max_size=n)), dtype=np.int64)
    offsets = sorted(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    days = [DAY0 + timedelta(days=d) for d in offsets]
    day64 = np.array(days, dtype="datetime64[D]")
    dd_day, loss_day = (None if f is None else DAY0 + timedelta(days=f) for f in fired)
    # a plain False: no step fires
    dd = np.broadcast_to(drawdown_fires(pv, peak, fired_on(day64, dd_day), rules), pv.shape)
    loss = np.broadcast_to(daily_loss_fires(pv, start, fired_on(day64, loss_day), rules), pv.shape)
    for k in range(n):
        v, p, s, d = int(pv[k]), int(peak[k]), int(start[k]), days[k]
        assert bool(dd[k]) == bool(drawdown_fires(v, p, fired_on(d, dd_day), rules)), k
        assert bool(loss[k]) == bool(daily_loss_fires(v, s, fired_on(d, loss_day), rules)), k


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=steps(60),
    weights=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    minima=st.tuples(UNIT, UNIT, UNIT),
)
def test_conviction_and_the_entry_gate_of_every_bar_equal_those_of_one_bar(
    data, n, weights, minima
):
    s = SizingParams(
        confidence_weight=weights[0],
        strength_weight=weights[1],
        min_confidence=minima[0],
        min_signal_strength=minima[1],
        min_conviction=minima[2],
    )
    signal = np.array(data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)))
    confidence = np.array(data.draw(st.lists(UNIT, min_size=n, max_size=n)))
    strength = np.array(data.draw(st.lists(UNIT, min_size=n, max_size=n)))
    conv = conviction(confidence, strength, s)
    gate = entry_gate(signal, confidence, strength, conv, s)
    for k in range(n):
        one = conviction(float(confidence[k]), float(strength[k]), s)
        assert one == conv[k]
        assert bool(gate[k]) == bool(
            entry_gate(int(signal[k]), float(confidence[k]), float(strength[k]), one, s)
        )


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=steps(), baskets=st.integers(1, 5), fixed=st.booleans())
def test_the_portfolio_view_of_every_step_equals_that_of_one_step(data, n, baskets, fixed):
    regime = st.sampled_from([NO_REGIME, 1, 2, 3, 4])
    regimes = [
        np.array(data.draw(st.lists(regime, min_size=n, max_size=n))) for _ in range(baskets)
    ]
    signals = [
        np.array(data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)))
        for _ in range(baskets)
    ]
    convictions = [
        np.array(data.draw(st.lists(UNIT, min_size=n, max_size=n))) for _ in range(baskets)
    ]
    limits = LimitParams()
    share = 0.1 if fixed else None
    chaos = chaos_count(regimes)
    average = average_conviction(signals, convictions)
    targets = reserve_target(chaos, average, limits, share)
    for k in range(n):
        one_chaos = chaos_count([int(r[k]) for r in regimes])
        one_average = average_conviction(
            [int(s[k]) for s in signals], [float(c[k]) for c in convictions]
        )
        assert one_chaos == chaos[k]
        assert (math.isnan(one_average) and math.isnan(average[k])) or one_average == average[k]
        assert reserve_target(one_chaos, one_average, limits, share) == targets[k]


# -- the exit tree and the exit scan ------------------------------------------------------


def a_position(side: int, entry: int, stop: float, target: float, trailing: bool) -> Position:
    t = pd.Timestamp("2024-10-21 09:00", tz="Asia/Shanghai").value
    return Position(
        side=side,
        contracts=3,
        entry_price=entry,
        entry_ns=t,
        entry_day=DAY0,
        decided_ns=t,
        price_kind="close",
        tier="STRONG",
        conviction=0.7,
        size_fraction=0.8,
        leverage=8.0,
        effective_leverage=7.5,
        committed=250_000.0,
        stop=stop,
        target=target,
        trailing=trailing,
        best_close=entry,
        basis=entry,
    )


# A position's scan over n bars: its side, stop, target and trailing flag, and the bars.
SCAN_CASES = {
    "data": st.data(),
    "n": steps(50),
    "side": st.sampled_from([-1, 1]),
    "stop": st.sampled_from([0.01, 0.015, 0.02, 0.025, 0.03]),
    "target": st.sampled_from([0.07, 0.08, 0.1]),
    "trailing": st.booleans(),
}
ENTRY = 8_000_000  # 800.0


def drawn_bars(data, n: int) -> tuple:
    """n bars after an entry at ENTRY: closes, signal, decided confidence and conviction,
    chaos count."""
    moves = data.draw(st.lists(st.integers(-80_000, 80_000), min_size=n, max_size=n))
    closes = ENTRY + np.cumsum(np.array(moves, dtype=np.int64))
    signal = np.array(data.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n)))
    confidence = decided(np.array(data.draw(st.lists(UNIT, min_size=n, max_size=n))))
    conv = decided(np.array(data.draw(st.lists(UNIT, min_size=n, max_size=n))))
    chaos = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return closes, signal, confidence, conv, chaos


@settings(max_examples=200, deadline=None)
@given(**SCAN_CASES)
def test_the_exit_scan_over_many_bars_finds_the_exit_the_step_finds_bar_by_bar(
    data, n, side, stop, target, trailing
):
    entry = ENTRY
    closes, signal, confidence, conv, chaos = drawn_bars(data, n)
    x = ExitParams()
    p = a_position(side, entry, stop, target, trailing)
    scanned = first_exit(p, exit_marks(p, closes, signal, confidence, conv, chaos, x), x)
    stepped = None
    for k in range(n):
        m = exit_marks(
            p,
            int(closes[k]),
            int(signal[k]),
            float(confidence[k]),
            float(conv[k]),
            int(chaos[k]),
            x,
        )
        p.best_close, p.armed = m.best, m.armed
        hit = first_exit(p, m, x)
        if hit is not None:
            stepped = (k, hit[1])
            break
    assert scanned == stepped


@settings(max_examples=200, deadline=None)
@given(**SCAN_CASES)
def test_the_scans_side_only_bars_and_other_rules_find_the_exit_the_step_finds(
    data, n, side, stop, target, trailing
):
    """The planner's scan: the side-only rules' bars and the floor rules' loss floor
    found once over the tape, the other rules and the floor scanned before the first
    side-only bar. Each side-only bar is where those rules fire on that bar's plain values,
    the floor fires where a floor rule does, and the exit bar is the step's."""
    entry = ENTRY
    closes, signal, confidence, conv, chaos = drawn_bars(data, n)
    x = ExitParams()
    rules = enabled_rules(x)
    side_only = tuple(rule for rule in rules if rule.side_only)
    floor_rules = tuple(rule for rule in rules if rule.floor is not None)
    p = a_position(side, entry, stop, target, trailing)
    side_bars = side_exit_bars(side, signal, confidence, conv, chaos, x, rules).tolist()
    floor = loss_floor(confidence, conv, chaos, x, rules)
    stepped, probe = None, p
    for k in range(n):
        plain = (int(signal[k]), float(confidence[k]), float(conv[k]), int(chaos[k]))
        m = exit_marks(probe, int(closes[k]), *plain, x)
        assert (k in side_bars) == any(rule.fires(probe, m, x) for rule in side_only)
        floored = exit_marks(probe, int(closes[k]), *plain, x, floor[k : k + 1])
        below = bool(ANY_LOSS_FLOOR.fires(probe, floored, x)[0])
        assert below == any(rule.fires(probe, m, x) for rule in floor_rules)
        probe = replace(probe, best_close=m.best, armed=m.armed)
        if stepped is None and first_exit(probe, m, x) is not None:
            stepped = k
    end = side_bars[0] if side_bars else n
    scanned = end if side_bars else None
    if end:
        window = (closes[:end], signal[:end], confidence[:end], conv[:end], chaos[:end])
        marks = exit_marks(p, *window, x, floor[:end])
        hit = first_exit(p, marks, x, scan_rules(rules))
        scanned = scanned if hit is None else hit[0]
    assert scanned == stepped


@settings(max_examples=300, deadline=None)
@given(**SCAN_CASES, protect=st.sampled_from([0.01, 0.03, 0.05]))
def test_a_scan_passing_over_rules_its_pnl_cannot_reach_finds_the_exit_of_every_rule(
    data, n, side, stop, target, trailing, protect
):
    """``first_exit`` passes over a threshold rule whose threshold no bar's P&L reaches
    (``ExitRule.reach``): closes on each threshold's price (the loss floors' too), a unit
    either side of it, or anywhere between, find the exit and reason the rules checked at
    every bar find (the scan's rules with the loss floor too), and the step finds bar by
    bar."""
    entry = ENTRY
    x = ExitParams(profit_protect_pnl=protect)
    p = a_position(side, entry, stop, target, trailing)
    levels = [target, protect, -stop, -min(stop, x.chaos_stop_cap), x.trailing_activation]
    levels += [-x.confidence_drop_loss, -x.chaos_exit_loss]
    prices = [round(entry * (1 + side * level)) for level in levels]
    near = st.builds(lambda price, unit: price + unit, st.sampled_from(prices), st.integers(-1, 1))
    anywhere = st.integers(round(entry * 0.85), round(entry * 1.15))
    closes = np.array(data.draw(st.lists(near | anywhere, min_size=n, max_size=n)))
    _, signal, confidence, conv, chaos = drawn_bars(data, n)
    rules = enabled_rules(x)
    every_bar = tuple(replace(rule, reach=None) for rule in rules)
    marks = exit_marks(p, closes, signal, confidence, conv, chaos, x)
    scanned = first_exit(p, marks, x, rules)
    assert scanned == first_exit(p, marks, x, every_bar)
    floor = loss_floor(confidence, conv, chaos, x, rules)
    floored = exit_marks(p, closes, signal, confidence, conv, chaos, x, floor)
    scan = scan_rules(rules)
    every_scan_bar = tuple(replace(rule, reach=None) for rule in scan)
    assert first_exit(p, floored, x, scan) == first_exit(p, floored, x, every_scan_bar)
    stepped, probe = None, p
    for k in range(n):
        plain = (int(signal[k]), float(confidence[k]), float(conv[k]), int(chaos[k]))
        m = exit_marks(probe, int(closes[k]), *plain, x)
        probe = replace(probe, best_close=m.best, armed=m.armed)
        hit = first_exit(probe, m, x)
        if hit is not None:
            stepped = (k, hit[1])
            break
    assert scanned == stepped


class Recording:
    """A position that writes down which of its fields are read."""

    def __init__(self, position: Position):
        self._position, self.read = position, set()

    def __getattr__(self, name):
        self.read.add(name)
        return getattr(self._position, name)


def test_every_exit_rule_reads_only_what_the_exit_scan_may_cache():
    x = ExitParams()
    n = 4
    closes = np.array([8_000_000, 8_500_000, 7_600_000, 8_800_000])
    marks_of = {
        "one bar": lambda p: exit_marks(p, 8_200_000, -1, 0.1, 0.3, 2, x),
        "bars": lambda p: exit_marks(
            p, closes, np.full(n, -1), np.full(n, 0.1), np.full(n, 0.3), np.full(n, 2), x
        ),
    }
    for rule in EXIT_TREE:
        for form, marks in marks_of.items():
            spy = Recording(a_position(1, 8_000_000, 0.015, 0.07, True))
            m = marks(spy._position)
            fires = rule.fires(spy, m, x)
            rule.reason(spy, m, x, int(np.argmax(fires)) if form == "bars" else 0)
            if rule.reach is not None:
                rule.reach(spy, -0.5, 0.5, x)
            assert spy.read <= EXIT_INPUTS | TRAIL_STATE, (rule.switch, form, spy.read)
            if rule.side_only:  # the same for every position of a side, and any marks
                assert spy.read <= {"side"}, (rule.switch, form, spy.read)


@pytest.mark.parametrize("fill", ["close", "next_open"])
def test_a_position_whose_scan_key_is_unchanged_has_unchanged_exit_inputs(fill):
    """Over a run that enters, is cut by the daily-loss breaker, rolls and closes, a
    position's exit inputs are a function of its scan key: what the scan caches stays
    valid."""
    seen: dict[tuple, tuple] = {}
    original = Composite.decide

    def decide(self, state, inp):
        original(self, state, inp)
        for b in state.baskets:
            p = b.position
            if p is not None:
                inputs = tuple(getattr(p, name) for name in sorted(EXIT_INPUTS))
                assert seen.setdefault((b.index, *scan_key(p)), inputs) == inputs

    monday = [800.0, 801.0, 802.0, 801.0, 803.0] + [802.0] * 10
    tuesday = [700.0, 701.0, 695.0, 690.0, 692.0, 693.0, 694.0]
    times = day_bars(MON) + day_bars(TUE)[: len(tuesday)]
    frame = basket(IRON, times, monday + tuesday, signal=1, confidence=1.0, strength=1.0)
    frame["contract"] = ["i2501"] * len(monday) + ["i2505"] * len(tuesday)
    table = packages(frame)
    table["contract"] = table["contract"].where(table["contract"].notna(), None)
    cfg = config(f"execution.fill={fill}", "exits.stop_loss=false")
    rolls = {IRON: RollSchedule((Roll(date(2024, 10, 22), "i2501", "i2505", 802.0, 700.0),))}
    Composite.decide = decide
    try:
        split = split_packages(table, cfg, "<scan key>")
        result = run_tier2(split, cfg, rolls=rolls, every_step=True)
    finally:
        Composite.decide = original
    assert {"daily_loss_derisk", "roll"} <= set(result.fills["reason"])
    assert len(seen) >= 3  # the entry, the roll, the cut


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n=steps(50),
    side=st.sampled_from([-1, 1]),
    trailing=st.booleans(),
)
def test_a_stretch_takes_the_scans_trailing_marks_as_it_would_compute_them(data, n, side, trailing):
    from dataclasses import replace

    from twotier.engine.events import ScannedBars, _ExitScan
    from twotier.tier2.exits import scan_key, trail

    entry = 8_000_000
    moves = data.draw(st.lists(st.integers(-80_000, 80_000), min_size=n, max_size=n))
    closes = entry + np.cumsum(np.array(moves, dtype=np.int64))
    x = ExitParams()
    p = a_position(side, entry, 0.02, 0.08, trailing)
    cut = data.draw(st.integers(0, n))  # the scan's chunks, as the planner makes them
    marks, probe = [], p
    for first, end in ((0, cut), (cut, n)):
        if end > first:
            _, best, armed = trail(probe, closes[first:end], x)
            marks.append((first, best, armed))
            probe = replace(probe, best_close=best[-1].item(), armed=bool(armed[-1]))
    bars = ScannedBars(None, {0: _ExitScan(scan_key(p), n, None, marks)})
    start = data.draw(st.integers(0, n - 1))
    last = data.draw(st.integers(start, n - 1))
    held = p  # the position after the bars before the stretch, as the steps left it
    if start:
        _, best, armed = trail(p, closes[:start], x)
        held = replace(p, best_close=best[-1].item(), armed=bool(armed[-1]))
    _, best, armed = trail(held, closes[start : last + 1], x)
    assert bars.known_trail(0, held, last) == (best[-1].item(), bool(armed[-1]))
    other = replace(held, contracts=held.contracts - 1)  # another position: no marks
    assert bars.known_trail(0, other, last) is None
