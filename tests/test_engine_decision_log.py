"""A run without the decision log (a sweep's) gives every other output of the run with it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample


@pytest.mark.parametrize("overrides", [[], ["execution.fill=close", "sizing.min_conviction=0.25"]])
def test_a_run_without_the_decision_log_gives_the_same_trades_fills_equity_and_summary(
    overrides,
):
    bars = {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}
    last = pd.Timestamp("2023-09-30").date()
    bars = {k: v[v["trading_day"].dt.date <= last] for k, v in bars.items()}
    config = load_config(None, overrides)
    packages = generate_signals(bars, config)
    logged = run_tier2(packages, config)
    quiet = run_tier2(packages, config, decision_log=False)
    assert len(logged.decisions) > 0 and quiet.decisions.empty
    for table in ("trades", "fills", "equity"):
        pd.testing.assert_frame_equal(getattr(quiet, table), getattr(logged, table))
    assert "market" in logged.summary and "market" not in quiet.summary
    assert quiet.summary == {k: v for k, v in logged.summary.items() if k != "market"}
    assert logged.summary["trades"] > 0


def test_log_prices_keep_the_decimals_of_the_tick():
    """A treasury future's tick is 0.005: its fills are logged at their price, not one
    rounded to the cent (100.675 is not 100.67 or 100.68)."""
    from twotier.money import price_units
    from twotier.tier2.journal import number_text, price_text

    assert price_text(price_units(100.675)) == "100.675"
    assert price_text(price_units(0.005)) == "0.005"
    assert price_text(price_units(765)) == "765.00"
    assert price_text(price_units(3910.6412)) == "3910.6412"
    assert number_text(345.52) == "345.52"


def test_entry_close_and_roll_lines_keep_the_decimals_of_a_fine_tick():
    """A treasury future (tick 0.005): each price the log shows is the one traded."""
    from types import SimpleNamespace

    import pandas as pd

    from twotier.money import price_units
    from twotier.tier2.journal import Journal

    at = pd.Timestamp("2024-03-05 09:30", tz="Asia/Shanghai").value
    plan = SimpleNamespace(
        side=1, tier="full", contracts=2, size_fraction=0.5, leverage=3.0,
        effective_leverage=2.9, stop=0.02, target=0.05, price=100.675, conviction=0.6,
    )  # fmt: skip
    roll = SimpleNamespace(
        old_contract="T2403", new_contract="T2406", old_price=100.675, new_price=100.125,
        ratio=0.994537,
    )  # fmt: skip
    journal = Journal()
    journal.entry(at, 0, "CFFEX/T", plan, 0.7, 0.4)
    journal.close(at, 0, "CFFEX/T", 1, "stop_loss", price_units(100.675),
                  price_units(100.005), 2, 2, -13_400)  # fmt: skip
    journal.roll(at, 0, "CFFEX/T", 1, 2, roll)
    entry, close, rolled = (d.text for d in journal.decisions)
    assert "price=100.675," in entry
    assert "entry=100.675, exit=100.005," in close
    assert "old=100.675, new=100.125," in rolled


def test_a_decision_line_is_stamped_with_its_exchange_minute_as_strftime_writes_it():
    """The stamp's two-digit fields are looked up: every month, day, hour and minute is
    written as strftime writes it, zero-padded; ``Journal.write`` stamps its lines alike."""
    from twotier.market.times import ZONE
    from twotier.tier2.journal import Journal, stamp

    times = pd.date_range("2016-01-01", "2026-01-01", freq="9h7min", tz=ZONE)
    # and a summer-time year of China's (1988), and a time before the epoch
    times = [*times, *pd.to_datetime(["1999-12-31 23:59", "1988-07-01 09:30", "1960-03-01 10:15"])
             .tz_localize(ZONE)]  # fmt: skip
    journal = Journal()
    for t in times:
        assert stamp(t.value) == t.strftime("[%Y-%m-%d %H:%M]")
        journal.write(t.value, "BREAKER", None, "test", "a line")
        assert journal.decisions[-1].text == t.strftime("[%Y-%m-%d %H:%M] a line")


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.integers(-(10**15) + 1, 10**15 - 1), st.integers(-(10**7), 10**7)))
def test_a_price_in_price_units_is_written_as_its_float_would_be(units):
    """``price_text`` writes a price from its integer: the text ``number_text`` gives of
    the float (units / 10,000), at every scale it takes, and past it by the float."""
    from twotier.money import price_of
    from twotier.tier2.journal import EXACT_PRICE_UNITS, number_text, price_text

    assert price_text(units) == number_text(price_of(units))
    for edge in (EXACT_PRICE_UNITS - 1, -EXACT_PRICE_UNITS + 1, EXACT_PRICE_UNITS, 0):
        assert price_text(edge) == number_text(price_of(edge))


def test_a_price_is_written_the_same_when_looked_up():
    """``price_text`` looks an int's text up: the second time is the first's text, and a
    float (a basis carried by rolls) is written from the float, -0.0 as such."""
    from twotier.money import price_of
    from twotier.tier2.journal import number_text, price_text

    for units in (0, 1, -1, 50, 6_265_000, -6_265_000, 39_106_412, 10**15, -(10**16)):
        first, again = price_text(units), price_text(units)
        assert first == again == number_text(price_of(units))
    for basis in (39_106_412.0, 26_950_000.5, 0.0):
        assert price_text(basis) == number_text(price_of(basis))
    assert price_text(0) == "0.00" and price_text(-0.0) == "-0.00"


def test_a_stamps_date_is_written_as_isoformat_writes_it():
    """``date_text`` writes the year from its number and looks the month and day up: the
    text ``date.isoformat`` gives, every day from 1970 to 2100 and every 37th of the rest
    (years of fewer than four digits included)."""
    import datetime as dt

    from twotier.tier2.days import EPOCH_ORDINAL
    from twotier.tier2.journal import date_text

    every = range(dt.date(1970, 1, 1).toordinal(), dt.date(2100, 12, 31).toordinal() + 1)
    sampled = range(1, dt.date.max.toordinal() + 1, 37)
    for ordinal in [*every, *sampled, dt.date.max.toordinal()]:
        day = dt.date.fromordinal(ordinal)
        assert date_text(ordinal - EPOCH_ORDINAL) == day.isoformat()
