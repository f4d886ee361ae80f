"""RULES.md 10.1, 10.2, 10.6 items 1, 2, 3, 5, 8: dated schedules, fees of two parts,
settlement prices, estimated limits and locked bars, one rule at a time, with the
arithmetic written out."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.broker.fees import InstrumentFees, fee_units
from twotier.market.instruments import InstrumentRegistry, default_registry
from twotier.market.settlement import (
    LOCKED_DOWN,
    LOCKED_UP,
    NO_PRICE,
    NOT_LOCKED,
    SettlementHistory,
    bar_limits,
    day_settlements,
    estimated_limits,
    locked,
)
from twotier.money import price_units

IRON, COPPER, MEAL = (default_registry()[k] for k in ("DCE/i", "SHFE/cu", "DCE/m"))


def u(price: float) -> int:
    return price_units(price)


# -- dated schedules (10.1, 10.6 item 1) ---------------------------------------------------


def test_shipped_limit_rates_follow_rules_10_1():
    on = {k: default_registry()[k].terms for k in ("DCE/i", "SHFE/cu", "DCE/m")}
    assert [on["DCE/i"].on(date(*d)).limit_rate for d in
            ((2019, 9, 2), (2020, 1, 31), (2020, 2, 3), (2021, 1, 4), (2024, 12, 6))] == [
        0.06, 0.06, 0.07, 0.11, 0.09,
    ]  # fmt: skip
    assert on["DCE/m"].on(date(2020, 12, 31)).limit_rate == 0.04
    assert on["DCE/m"].on(date(2021, 1, 4)).limit_rate == 0.07
    assert on["SHFE/cu"].on(date(2025, 12, 31)).limit_rate == 0.07
    assert on["SHFE/cu"].on(date(2026, 1, 5)).limit_rate == 0.09
    # Margin rates as in RULES.md 1 where no row says otherwise.
    assert [on[k].on(date(2024, 1, 2)).margin_rate for k in on] == [0.11, 0.09, 0.07]


@pytest.mark.parametrize("key", ["DCE/i", "SHFE/cu", "DCE/m"])
def test_rates_of_many_days_are_each_days_terms(key):
    """The array form a backtest's stretches use agrees with ``on`` on every day, before,
    across and after the shipped schedules' changes."""
    terms = default_registry()[key].terms
    days = np.arange(np.datetime64("2015-01-01"), np.datetime64("2027-01-01"))
    for name in ("limit_rate", "margin_rate"):
        each = [getattr(terms.on(d), name) for d in days.tolist()]
        assert terms.rates(name, days).tolist() == [np.nan if v is None else v for v in each]


def user_registry(tmp_path, text: str) -> InstrumentRegistry:
    path = tmp_path / "instruments.toml"
    path.write_text(text, encoding="utf-8")
    return InstrumentRegistry.load(path)


def test_schedule_rows_are_read_field_by_field_and_user_rows_win_on_the_same_date(tmp_path):
    registry = user_registry(
        tmp_path,
        """
[instruments."DCE/i"]
schedule = [
  { from = 2020-02-01, margin_rate = 0.15 },
  { from = 2023-06-01, fee = { open = 0.0002 } },
]
""",
    )
    terms = registry["DCE/i"].terms
    # 2020-02-01 (a Saturday) has both the shipped 7% limit and the user's 15% margin; a
    # row on a day without trading applies from the next trading day (2020-02-03).
    assert (terms.on(date(2020, 1, 31)).limit_rate, terms.on(date(2020, 1, 31)).margin_rate) == (
        0.06,
        0.11,
    )
    monday = terms.on(date(2020, 2, 3))
    assert (monday.limit_rate, monday.margin_rate) == (0.07, 0.15)
    # Later rows set one field each; the others carry on.
    later = terms.on(date(2024, 1, 2))
    assert (later.limit_rate, later.margin_rate) == (0.11, 0.15)
    assert later.fee.open_rate == Fraction(2, 10_000)
    assert later.fee.close_rate == Fraction(1, 10_000)  # the instrument's own


def test_a_days_terms_are_each_fields_latest_row_whichever_days_were_asked_before(tmp_path):
    """Terms are kept per period between the rows' first days: asking for days in any
    order gives, field by field, the value of the latest row on or before the day."""
    rows = """
[instruments."DCE/i"]
schedule = [
  { from = 2020-02-03, margin_rate = 0.15 },
  { from = 2021-03-01, fee = { open = 0.0002 } },
]
"""
    days = [date(2019, 1, 2) + timedelta(days=k) for k in range(0, 2600, 7)]
    shuffled = [days[k] for k in np.random.default_rng(7).permutation(len(days))]
    for n, order in enumerate((days, shuffled, days[::-1])):
        (tmp_path / str(n)).mkdir()
        terms = user_registry(tmp_path / str(n), rows)["DCE/i"].terms  # nothing cached yet
        for day in order:
            got = terms.on(day)
            assert got.margin_rate == terms.value("margin_rate", day)
            assert got.limit_rate == terms.value("limit_rate", day)
            assert got.fee.open_rate == Fraction(terms.value("open_rate", day))
    assert terms.on(date(2021, 3, 1)).fee.open_rate == Fraction(2, 10_000)
    assert terms.on(date(2021, 2, 26)).fee.open_rate != Fraction(2, 10_000)


def test_an_unset_limit_rate_means_no_limit(tmp_path):
    registry = user_registry(
        tmp_path,
        """
[instruments."XXX/a"]
market = "XXX"
product = "a"
multiplier = 10
tick = 1
margin_rate = 0.1
fee = { basis = "per_lot", open = 1, close = 1, close_today = 1 }
day_sessions = [["09:00", "10:15"], ["10:30", "11:30"], ["13:30", "15:00"]]
""",
    )
    assert registry["XXX/a"].terms.on(date(2024, 1, 2)).limit_rate is None
    rates = registry["XXX/a"].terms.rates("limit_rate", np.array(["2024-01-02"], "M8[D]"))
    assert np.isnan(rates).all()


def test_a_fee_with_both_parts_is_rounded_once_and_times_the_broker_multiplier(tmp_path):
    registry = user_registry(
        tmp_path,
        """
[instruments."DCE/m"]
schedule = [{ from = 2024-01-01, fee = { open = 0.00003 }, fee_per_lot = { open = 0.5 } }]
""",
    )
    meal = registry["DCE/m"]
    # 7 lots at 3,001: 0.00003 * 7 * 10 * 3,001 = 6.3021, + 7 * 0.5 = 3.5 -> 9.8021
    # -> 9.80; times 1.5: 14.70315 -> 14.70 (rounded once, not 9.80 * 1.5 = 14.70).
    day = date(2024, 3, 1)
    assert fee_units(meal, 7, u(3001), True, False, day) == 98_000
    assert fee_units(meal, 7, u(3001), True, False, day, Fraction(3, 2)) == 147_000
    # Before the row, the shipped 1.5 CNY per lot.
    assert fee_units(meal, 7, u(3001), True, False, date(2023, 12, 29)) == 105_000


def test_an_instruments_fees_made_once_a_fee_period_are_fee_units(tmp_path):
    registry = user_registry(
        tmp_path,
        """
[instruments."DCE/m"]
schedule = [
  { from = 2024-01-01, fee = { open = 0.00003, close_today = 0.00007 } },
  { from = 2024-02-01, fee_per_lot = { open = 0.5, close = 0.3 } },
]
""",
    )
    meal = registry["DCE/m"]
    for multiplier in (Fraction(1), Fraction(3, 2)):
        fees = InstrumentFees(meal, multiplier)
        for day in (date(2023, 12, 29), date(2024, 1, 5), date(2024, 3, 1), date(2023, 12, 29)):
            for opens, today in ((True, False), (False, True), (False, False)):
                for contracts, price in ((7, u(3001)), (1, u(2999.5)), (33, u(4100))):
                    expected = fee_units(meal, contracts, price, opens, today, day, multiplier)
                    assert fees.units(contracts, price, opens, today, day) == expected


# -- settlement (10.1, 10.6 item 3) ---------------------------------------------------------


def test_settlement_is_the_volume_weighted_typical_price_to_the_tick_half_up():
    # Two days of two bars each, iron ore (tick 0.5).
    high = np.array([u(802), u(806), u(700), u(700)])
    low = np.array([u(798), u(800), u(700), u(700)])
    close = np.array([u(800), u(805), u(700), u(701)])
    volume = np.array([100.0, 300.0, 0.0, 0.0])
    starts = np.array([0, 2])
    # Day 1: typical 800.0 (x100) and 803.6667 (x300) -> 802.75 -> 803.0 (half up).
    # Day 2: no volume -> the last close, 701.0.
    settled = day_settlements(starts, high, low, close, volume, u(0.5))
    assert settled.tolist() == [u(803.0), u(701.0)]


def test_a_settle_column_wins_with_the_days_last_value():
    high = low = close = np.array([u(800)] * 3)
    settle = np.array([np.nan, u(799.5), np.nan])  # blank cells are no value
    settled = day_settlements(np.array([0]), high, low, close, np.ones(3), u(0.5), settle)
    assert settled.tolist() == [u(799.5)]


def test_settlement_history_answers_with_the_contracts_latest_earlier_day():
    history = SettlementHistory()
    history.add("i2005", date(2020, 3, 30), u(650))
    history.add("i2005", date(2020, 3, 31), u(640))
    history.add("i2009", date(2020, 3, 31), u(580))
    assert history.before("i2005", date(2020, 3, 31)) == u(650)
    assert history.before("i2005", date(2020, 4, 3)) == u(640)
    assert history.before("i2009", date(2020, 3, 31)) is None
    days = np.array(["2020-03-30", "2020-03-31", "2020-04-01"], dtype="M8[D]")
    assert history.before_each("i2005", days).tolist() == [NO_PRICE, u(650), u(640)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([None, "i2005", "i2009"]), st.integers(-2, 5)),
        max_size=30,
    )
)
def test_settlement_history_of_days_is_the_history_added_day_by_day(rows):
    """The backtest's bulk form answers as adding each day's settlement would."""
    days = np.datetime64("2020-01-02") + np.arange(len(rows)) * 2  # a day without between
    contracts = np.array([c for c, _ in rows], dtype=object)
    prices = np.array([p for _, p in rows], dtype=np.int64)
    added = SettlementHistory()
    for d, c, p in zip(days, contracts, prices, strict=True):
        if p > 0:
            added.add(c, d.item(), int(p))
    bulk = SettlementHistory.of_days(contracts, days, prices)
    asked = np.datetime64("2020-01-01") + np.arange(2 * len(rows) + 2)
    for contract in (None, "i2005", "i2009"):
        assert bulk.before_each(contract, asked).tolist() == (
            added.before_each(contract, asked).tolist()
        )
        assert [bulk.before(contract, d) for d in asked.tolist()] == [
            added.before(contract, d) for d in asked.tolist()
        ]


# -- limits and locks (10.2, 10.6 items 5, 8) ---------------------------------------------


@pytest.mark.parametrize(
    ("prev", "rate", "tick", "up", "down"),
    [
        # 594.5 * 1.06 = 630.17 -> down to 630.0; * 0.94 = 558.83 -> up to 559.0
        (594.5, 0.06, 0.5, 630.0, 559.0),
        # 659.0 * 1.07 = 705.13 -> 705.0; * 0.93 = 612.87 -> 613.0
        (659.0, 0.07, 0.5, 705.0, 613.0),
        # 2806 * 1.04 = 2918.24 -> 2918; * 0.96 = 2693.76 -> 2694
        (2806.0, 0.04, 1.0, 2918.0, 2694.0),
        # exact multiples stay: 600 * 1.07 = 642.0, * 0.93 = 558.0
        (600.0, 0.07, 0.5, 642.0, 558.0),
    ],
)
def test_estimated_limits_round_up_down_and_down_up_to_the_tick(prev, rate, tick, up, down):
    assert estimated_limits(u(prev), rate, u(tick)) == (u(up), u(down))
    arrays = estimated_limits(np.array([u(prev)]), np.array([rate]), u(tick))
    assert (arrays[0].tolist(), arrays[1].tolist()) == ([u(up)], [u(down)])


def test_no_previous_settlement_or_no_rate_means_no_estimated_limits():
    assert estimated_limits(NO_PRICE, 0.07, u(0.5)) == (NO_PRICE, NO_PRICE)
    assert estimated_limits(u(600), float("nan"), u(0.5)) == (NO_PRICE, NO_PRICE)


def test_a_one_price_bar_within_the_tolerance_of_an_estimated_limit_is_locked():
    # Previous settlement 659.0, 7%: limit down 613.0; tolerance 1.5% of 659.0 = 9.885,
    # so a one-price bar at or below 622.885 is locked down (the real 2020-02-03 bars at
    # 606.5 are; one at 623.0 is not).
    def lock(price):
        return bar_limits(u(price), u(price), u(659.0), 0.07, u(0.5), 0.015, NO_PRICE,
                          NO_PRICE)[2]  # fmt: skip

    assert lock(606.5) == LOCKED_DOWN
    assert lock(622.5) == LOCKED_DOWN
    assert lock(623.0) == NOT_LOCKED
    assert lock(696.0) == LOCKED_UP  # limit up 705.0 less 9.885
    # A bar with a range is never locked, at the limit or not.
    assert bar_limits(u(613.0), u(612.5), u(659.0), 0.07, u(0.5), 0.015, NO_PRICE,
                      NO_PRICE)[2] == NOT_LOCKED  # fmt: skip


def test_with_limits_from_the_data_the_price_must_equal_the_limit():
    # Limits from the data: no tolerance; a one-price bar just inside is not locked.
    up, down = u(2915), u(2695)
    assert locked(u(2915), u(2915), up, down, 0, 0) == LOCKED_UP
    assert locked(u(2914), u(2914), up, down, 0, 0) == NOT_LOCKED
    # The data's limits win over the estimate, side by side.
    lock = bar_limits(u(2914), u(2914), u(2806), 0.04, u(1), 0.015, up, NO_PRICE)[2]
    assert lock == NOT_LOCKED  # the estimate with its tolerance would have said locked up


def test_locks_worked_out_on_one_price_bars_alone_match_bar_limits_on_every_bar():
    # The backtest's market arrays work limits out for one-price bars only; every bar's
    # lock must be what bar_limits gives it (blank highs and lows never one-price).
    from twotier.engine.market import _locks

    rng = np.random.default_rng(7)
    n = 400
    starts = np.arange(0, n, 20)
    day = np.repeat(np.datetime64("2020-02-03") + np.arange(len(starts)), 20)
    prev = np.where(rng.random(len(starts)) < 0.2, NO_PRICE, u(659.0))
    low = u(600.0) + u(0.5) * rng.integers(0, 240, n)
    high = np.where(rng.random(n) < 0.5, low, low + u(0.5))
    high[::37], low[::41], high[5], low[5] = NO_PRICE, NO_PRICE, NO_PRICE, NO_PRICE
    up = np.where(rng.random(n) < 0.3, u(700.0), NO_PRICE)
    down = np.full(n, NO_PRICE, dtype=np.int64)
    got = _locks(high, low, starts, day, prev, IRON, 0.015, up, down)
    rate = IRON.terms.rates("limit_rate", day)
    blank_high, blank_low = np.where(high > 0, high, NO_PRICE), np.where(low > 0, low, -2)
    bar_prev = np.repeat(prev, 20)
    want = bar_limits(blank_high, blank_low, bar_prev, rate, u(0.5), 0.015, up, down)[2]
    assert got.tolist() == want.tolist()
    assert {LOCKED_UP, LOCKED_DOWN, NOT_LOCKED} <= set(got.tolist())
