"""Instrument specifications as data: the shipped file (RULES.md section 1) and a user's
file of additions and overrides."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from twotier.errors import ConfigError, UnknownInstrumentError
from twotier.market.instruments import InstrumentRegistry, get_instrument

DAY = ((time(9, 0), time(10, 15)), (time(10, 30), time(11, 30)), (time(13, 30), time(15, 0)))


@pytest.mark.parametrize(
    ("key", "market", "product", "multiplier", "tick", "margin", "fee", "night"),
    [
        (
            "DCE/i",
            "DCE",
            "i",
            100,
            "0.5",
            0.11,
            ("turnover", "0.0001", "0.0001", "0.0001"),
            (time(21, 0), time(23, 0)),
        ),
        (
            "SHFE/cu",
            "SHFE",
            "cu",
            5,
            "10",
            0.09,
            ("turnover", "0.00005", "0.00005", "0.0001"),
            (time(21, 0), time(1, 0)),
        ),
        (
            "DCE/m",
            "DCE",
            "m",
            10,
            "1",
            0.07,
            ("per_lot", "1.5", "1.5", "0"),
            (time(21, 0), time(23, 0)),
        ),
    ],
)
def test_shipped_instruments_have_the_rules_values(
    key, market, product, multiplier, tick, margin, fee, night
):
    spec = get_instrument(key)
    assert (spec.key, spec.market, spec.product) == (key, market, product)
    assert spec.multiplier == multiplier
    assert spec.tick == Decimal(tick)
    assert spec.margin_rate == margin
    basis, open_, close, close_today = fee
    assert spec.fee.basis == basis
    assert spec.fee.open == Decimal(open_)
    assert spec.fee.close == Decimal(close)
    assert spec.fee.close_today == Decimal(close_today)
    assert spec.day_sessions == DAY
    assert spec.night_session == night


def test_shipped_file_holds_exactly_the_three_instruments():
    assert sorted(InstrumentRegistry.load().keys()) == ["DCE/i", "DCE/m", "SHFE/cu"]


def test_copper_night_crossing_midnight_is_one_segment_on_the_session_clock():
    segments = get_instrument("SHFE/cu").sessions.segments
    night = [s for s in segments if s.night]
    assert len(night) == 1
    assert (night[0].start, night[0].end) == (21 * 60, 25 * 60)  # 21:00 to 01:00
    assert str(night[0]) == "21:00-01:00"


def test_file_key_replaces_the_slash():
    assert get_instrument("SHFE/cu").file_key == "SHFE_cu"


def write(tmp_path, text: str):
    path = tmp_path / "instruments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_adds_an_instrument_and_overrides_one_field(tmp_path):
    path = write(
        tmp_path,
        """
[instruments."SHFE/al"]
market = "SHFE"
product = "al"
name = "aluminium"
multiplier = 5
tick = 5
margin_rate = 0.08
fee = { basis = "per_lot", open = 3, close = 3, close_today = 0 }
day_sessions = [["09:00", "10:15"], ["10:30", "11:30"], ["13:30", "15:00"]]
night_session = ["21:00", "01:00"]

[instruments."DCE/i"]
margin_rate = 0.13

[instruments."SHFE/cu"]
fee = { close_today = 0.0002 }
""",
    )
    registry = InstrumentRegistry.load(path)
    assert sorted(registry.keys()) == ["DCE/i", "DCE/m", "SHFE/al", "SHFE/cu"]
    aluminium = registry["SHFE/al"]
    assert (aluminium.multiplier, aluminium.tick, aluminium.fee.open) == (5, 5, 3)
    assert registry["DCE/i"].margin_rate == 0.13
    assert registry["DCE/i"].multiplier == 100  # the rest as shipped
    copper_fee = registry["SHFE/cu"].fee  # a nested table is merged field by field
    assert copper_fee.close_today == Decimal("0.0002")
    assert copper_fee.open == Decimal("0.00005")
    assert get_instrument("DCE/i").margin_rate == 0.11  # the shipped registry is untouched


def test_unknown_instrument_is_an_error_listing_the_known_ones(tmp_path):
    with pytest.raises(UnknownInstrumentError) as info:
        get_instrument("DCE/x")
    assert "'DCE/x'" in str(info.value)
    assert "known instruments: DCE/i, DCE/m, SHFE/cu" in str(info.value)
    assert info.value.known == ["DCE/i", "DCE/m", "SHFE/cu"]
    assert "data.instruments_file" in str(info.value) and "--instruments FILE" in str(info.value)


def test_unknown_field_in_user_file_is_an_error_listing_the_known_fields(tmp_path):
    path = write(tmp_path, '[instruments."DCE/i"]\nmultipler = 200\n')
    with pytest.raises(ConfigError) as info:
        InstrumentRegistry.load(path)
    message = str(info.value)
    assert str(path) in message and "'DCE/i'" in message
    assert "unknown key 'multipler'" in message
    assert "known keys: market, product, name, multiplier, tick, margin_rate" in message


def test_unknown_fee_field_lists_the_fee_fields(tmp_path):
    path = write(tmp_path, '[instruments."DCE/i"]\nfee = { opne = 0.1 }\n')
    with pytest.raises(ConfigError, match=r"unknown key 'fee\.opne'; known keys: basis, open"):
        InstrumentRegistry.load(path)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("multiplier = -1", "multiplier: Input should be greater than 0"),
        ("multiplier = 0", "multiplier: Input should be greater than 0"),
        ("tick = 0", "tick: Input should be greater than 0"),
        ("margin_rate = 1.5", "margin_rate: Input should be less than or equal to 1"),
        ('night_session = ["21:00", "25:00"]', "night_session: expected a time as 'HH:MM', got"),
        ('night_session = ["21:00"]', "night_session: expected a pair"),
        ('day_sessions = [["09:00", "nine"]]', "day_sessions: expected a time as 'HH:MM'"),
        ('day_sessions = [["10:15", "09:00"]]', "must start before it ends"),
        ('day_sessions = [["09:00", "10:30"], ["10:15", "11:30"]]', "overlap"),
        ('night_session = ["17:00", "23:00"]', "must start after 18:00"),
        ("day_sessions = []", "non-empty list"),
        ('fee = { basis = "per_trade" }', "fee.basis"),
        ("fee = { open = -0.1 }", "fee.open: Input should be greater than or equal to 0"),
        ("margin_rate = true", "margin_rate: expected a number, not true"),
        ("multiplier = true", "multiplier: expected a number, not true"),
        ("tick = inf", "tick: Input should be a finite number"),
        ("fee = { open = 2 }", "a fee rate of turnover of 2 is more than 0.01 (1%)"),
        ('fee = { basis = "per_lot", open = 5000, close = 1, close_today = 1 }',
         "a fee of 5000 CNY a lot is more than 1000"),
        # schedule rows: checked one by one, numbered as the user's file has them
        ("schedule = [1, 2]", "schedule row 1 must be a table like { from = 2024-01-02"),
        ('schedule = ["2024-10-08"]', "schedule row 1 must be a table"),
        ("schedule = { from = 2024-10-08 }", "schedule must be a list of rows"),
        ("schedule = [{ from = [2024-10-08], margin_rate = 0.2 }]",
         "schedule row 1: from: Input should be a valid date"),
        ("schedule = [{ from = 2024-10-08, margin_rate = 0.2 }, { margin_rate = 0.2 }]",
         "schedule row 2: from: Field required"),
        ("schedule = [{ from = 2024-10-08, margin_rate = true }]",
         "schedule row 1: margin_rate: expected a number, not true"),
        ('schedule = [{ from = 2024-10-08, fee = { basis = "per_lot" } }]',
         "schedule row 1: unknown key 'fee.basis'; known keys: open, close, close_today"),
        ("schedule = [{ from = 2023-01-01, fee = { close = 2 } }]",
         "an amount in CNY a lot goes under fee_per_lot"),
        ("schedule = [{ start = 2023-01-01, margin_rate = 0.2 }]",
         "schedule row 1: from: Field required; unknown key 'start'; known keys: from, "
         "limit_rate"),
        ("price_range = [true, 5000]", "price_range.0: expected a number, not true"),
        ('market = "SHFE"', "the key 'DCE/i' names the market 'DCE', but market = 'SHFE'"),
        ('day_sessions = [["09:00", "10:10"]]',
         "session 09:00-10:10 does not open and close on the quarter hour"),
        ('night_session = ["21:05", "23:00"]', "does not open and close on the quarter hour"),
        ('earlier_sessions = [{ night_session = ["21:00", "23:20"] }]\nsessions_from = 2019-04-01',
         "does not open and close on the quarter hour"),
    ],
)  # fmt: skip
def test_bad_values_are_config_errors_naming_file_instrument_and_field(tmp_path, fields, message):
    path = write(tmp_path, f'[instruments."DCE/i"]\n{fields}\n')
    with pytest.raises(ConfigError) as info:
        InstrumentRegistry.load(path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}: instrument 'DCE/i': ")


def test_new_instrument_missing_fields_is_an_error_naming_them(tmp_path):
    path = write(tmp_path, '[instruments."SHFE/al"]\nmarket = "SHFE"\n')
    with pytest.raises(ConfigError) as info:
        InstrumentRegistry.load(path)
    for field in ("product", "multiplier", "tick", "margin_rate", "fee", "day_sessions"):
        assert f"{field}: Field required" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[instrument."DCE/i"]\nmultiplier = 1\n', "unknown top-level key(s) instrument"),
        ('[instruments]\n"DCE/i" = 3\n', "must be a table"),
        ('[instruments."DCE/i"]\nkey = "DCE/j"\n', "'key' is not a field"),
        ('[instruments."DCE/i"\n', "not valid TOML"),
    ],
)
def test_badly_shaped_user_file_is_a_config_error(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        InstrumentRegistry.load(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_user_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="instrument file not found"):
        InstrumentRegistry.load(tmp_path / "nope.toml")


def test_the_schedules_present_among_bars_are_numpys_unique_of_their_eras():
    hours = get_instrument("DCE/i").sessions
    assert hours.changes  # nights to 23:00 since 2019, to 23:30 before
    days = np.array(["2018-06-01", "NaT", "2020-01-02", "2018-06-04"], dtype="datetime64[D]")
    for picked in ([], [0], [1], [3, 0], [2, 1], [0, 1, 2, 3, 3]):
        era = hours.era_of(days[picked])
        assert np.array_equal(hours.eras_present(era), np.unique(era))


def test_locate_looks_up_what_a_search_of_each_schedule_finds():
    # The table of every session-clock minute gives each bar what searching its day's
    # schedule gives; minutes off the clock are searched.
    hours = get_instrument("DCE/i").sessions
    rng = np.random.default_rng(3)
    days = np.datetime64("2017-01-01") + rng.integers(0, 2000, 3000)
    days[::11] = np.datetime64("NaT")
    minutes = rng.integers(0, 24 * 60 + 6 * 60, 3000)
    for length in (1, 15, 60):
        for on in (days, None):
            searched = hours._search(minutes, length, on)
            assert np.array_equal(hours.locate(minutes, length, days=on), searched)
        assert np.array_equal(
            hours.locate(minutes - 400, length, days), hours._search(minutes - 400, length, days)
        )
    assert (hours.locate(minutes, 15, days=days) >= 0).any()
    assert set(hours.era_of(days).tolist()) == {0, 1}


def test_the_schedule_of_a_day_counts_the_schedules_begun_by_it():
    hours = get_instrument("DCE/i").sessions
    _, (change, _) = hours.eras
    days = np.array([change - 1, change, change + 400, "NaT", "1990-01-01"], dtype="datetime64[D]")
    assert hours.era_of(days).tolist() == [0, 1, 1, 1, 0]


def test_locate_and_the_schedule_of_a_day_take_one_value_too():
    hours = get_instrument("DCE/i").sessions
    _, (change, _) = hours.eras
    assert hours.era_of(change) == 1 and hours.era_of(np.datetime64("1990-01-01")) == 0
    assert hours.locate(np.int64(9 * 60), 15) == hours.locate(np.array([9 * 60]), 15)[0] >= 0
    assert hours.locate(9 * 60, 15, days=change) == hours.locate([9 * 60], 15, [change])[0]


def test_the_session_clock_puts_times_before_six_on_the_evening_before():
    from twotier.market.sessions import NS_PER_DAY, NS_PER_MINUTE, clock_minutes, session_clock

    rng = np.random.default_rng(5)
    wall = rng.integers(-3 * NS_PER_DAY, 20_000 * NS_PER_DAY, 5000)
    wall[:4] = [0, 6 * 60 * NS_PER_MINUTE - 1, 6 * 60 * NS_PER_MINUTE, -1]
    minutes, evenings = session_clock(wall)
    minute = clock_minutes(wall)
    dates = (wall // NS_PER_DAY).astype("datetime64[D]")
    early = minute < 6 * 60
    assert np.array_equal(minutes, np.where(early, minute + 24 * 60, minute))
    assert np.array_equal(evenings, np.where(early, dates - np.timedelta64(1, "D"), dates))
    assert minutes[:4].tolist() == [24 * 60, 24 * 60 + 359, 6 * 60, 24 * 60 - 1]
    # The earliest time pandas holds, and NaT: the clock must not wrap around int64.
    first = np.array([pd.Timestamp.min.value, pd.Timestamp.min.value + 5 * 3600 * 10**9])
    minutes, evenings = session_clock(np.append(first, np.iinfo(np.int64).min))
    assert minutes.tolist() == [1452, 1752, 1452]  # 00:12 and 05:12 past midnight
    assert evenings[:2].tolist() == [np.datetime64("1677-09-20", "D")] * 2
