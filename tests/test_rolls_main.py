"""The main contract from per-contract bars: the leader by open interest (or volume), the
confirmation days, never back to an older contract, the roll prices, the spliced series;
on hand-built contracts and on the real SHFE cu2202 file."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from twotier.errors import DataError
from twotier.market.bars import bars_from_frame
from twotier.market.contracts import contract_in_file_name, parse_contract
from twotier.market.rolls import Roll, main_contract, schedule_from_contracts

TZ = "Asia/Shanghai"
DAYS = [f"{d:%Y-%m-%d}" for d in pd.bdate_range("2024-03-04", "2024-03-15")]  # 10 days


def contract_frame(base: float, oi: list[float | None], volume: list[float] | None = None):
    """Two 15-minute bars a day (09:00, 09:15) on DAYS; no bars where ``oi`` is None. The
    open interest of the day's LAST bar is ``oi``; the first bar's runs the other way
    (1e6 - oi), so a rule reading anything but the last value picks other leaders."""
    rows = []
    for k, day in enumerate(DAYS):
        if oi[k] is None:
            continue
        v = 10.0 if volume is None else volume[k]
        start = pd.Timestamp(f"{day} 09:00", tz=TZ)
        p = base + k
        rows.append((start, p, p + 0.25, 1e6 - oi[k], v / 2))
        rows.append((start + pd.Timedelta(minutes=15), p + 0.25, p + 0.5, oi[k], v / 2))
    times, opens, closes, interest, volumes = (list(x) for x in zip(*rows, strict=True))
    frame = pd.DataFrame(
        {"open": opens, "close": closes, "open_interest": interest, "volume": volumes},
        index=pd.DatetimeIndex(times),
    )
    frame["high"] = frame[["open", "close"]].max(axis=1) + 1
    frame["low"] = frame[["open", "close"]].min(axis=1) - 1
    return bars_from_frame(frame, "DCE/i", bar_minutes=15).frame


def day(k: int) -> date:
    return date.fromisoformat(DAYS[k])


# x2409 leads on days 2, 3, then x2405 on day 4, then x2409 on days 5, 6, 7, then x2405
# again on days 8, 9 (after any roll to x2409, that must not bring x2405 back).
OI_A = [9, 9, 1, 1, 9, 1, 1, 1, 9, 9]
OI_B = [5] * 10


@pytest.mark.parametrize(
    ("confirm_days", "roll_day"), [(1, 3), (2, 4), (3, 8), (4, None), (5, None)]
)
def test_a_new_leader_takes_over_the_day_after_leading_confirm_days_running(confirm_days, roll_day):
    a, b = contract_frame(100, OI_A), contract_frame(200, OI_B)
    schedule, spliced = main_contract({"x2405": a, "x2409": b}, confirm_days=confirm_days)
    if roll_day is None:
        assert len(schedule) == 0
        assert set(spliced["contract"]) == {"x2405"}
        return
    # Priced at the new contract's first bar of the roll day, both contracts' opens there.
    assert schedule.rolls == (
        Roll(day(roll_day), "x2405", "x2409", 100 + roll_day, 200 + roll_day),
    )
    expected = np.where(np.arange(len(spliced)) < 2 * roll_day, "x2405", "x2409")
    assert spliced["contract"].tolist() == expected.tolist()
    np.testing.assert_array_equal(
        spliced["open"].to_numpy(), np.where(expected == "x2405", a["open"], b["open"])
    )
    # A contract column like this one gives back the same rolls, bar for bar.
    assert [r.trading_day for r in schedule_from_contracts(spliced)] == [day(roll_day)]


def test_the_input_order_does_not_matter_contracts_order_by_delivery_month():
    a, b = contract_frame(100, OI_A), contract_frame(200, OI_B)
    forward, _ = main_contract({"x2405": a, "x2409": b}, confirm_days=2)
    backward, _ = main_contract({"x2409": b, "x2405": a}, confirm_days=2)
    assert forward == backward


def test_an_older_contract_never_becomes_main_even_when_it_leads():
    # x2409 leads on the first day; x2405 (earlier delivery) leads every day after.
    older = contract_frame(100, [1] + [9] * 9)
    newer = contract_frame(200, [5] * 10)
    schedule, spliced = main_contract({"x2405": older, "x2409": newer}, confirm_days=1)
    assert len(schedule) == 0
    assert set(spliced["contract"]) == {"x2409"}


def test_a_chain_of_three_contracts_rolls_forward_twice():
    a = contract_frame(100, [9, 9, 1, 1, 1, 1, 1, 1, 1, 1])
    b = contract_frame(200, [5, 5, 5, 5, 5, 1, 1, 1, 1, 1])
    c = contract_frame(300, [1, 1, 1, 1, 9, 9, 9, 9, 9, 9])
    schedule, spliced = main_contract({"x2501": c, "x2405": a, "x2409": b}, confirm_days=1)
    assert [(r.trading_day, r.old_contract, r.new_contract) for r in schedule] == [
        (day(3), "x2405", "x2409"),
        (day(5), "x2409", "x2501"),
    ]
    assert spliced.index.is_monotonic_increasing and len(spliced) == 20


def test_daily_volume_can_pick_the_leader_instead():
    a = contract_frame(100, [9] * 10, volume=[10, 10, 10, 1, 1, 1, 1, 1, 1, 1])
    b = contract_frame(200, [1] * 10, volume=[5] * 10)
    by_volume, _ = main_contract({"x2405": a, "x2409": b}, by="volume", confirm_days=2)
    assert [r.trading_day for r in by_volume] == [day(5)]
    by_interest, _ = main_contract({"x2405": a, "x2409": b}, confirm_days=2)
    assert len(by_interest) == 0


def test_old_contract_without_a_bar_at_the_roll_is_priced_at_its_nearest_earlier_close():
    a = contract_frame(100, OI_A)
    a = a.drop(pd.Timestamp(f"{DAYS[4]} 09:00", tz=TZ))  # no opening bar on the roll day
    b = contract_frame(200, OI_B)
    schedule, _ = main_contract({"x2405": a, "x2409": b}, confirm_days=2)
    (roll,) = schedule.rolls
    assert roll.trading_day == day(4)
    assert roll.old_price == 100 + 3 + 0.5  # day 3's last close
    assert roll.new_price == 200 + 4


def test_a_main_contract_that_stops_trading_is_replaced_that_day():
    a = contract_frame(100, [9, 9, 1, 1, 9, 1, None, None, None, None])  # last bars: day 5
    b = contract_frame(200, OI_B)
    schedule, spliced = main_contract({"x2405": a, "x2409": b}, confirm_days=3)
    assert schedule.rolls == (Roll(day(6), "x2405", "x2409", 100 + 5 + 0.5, 200 + 6),)
    assert spliced["contract"].tolist() == ["x2405"] * 12 + ["x2409"] * 8


def test_a_main_contract_that_stops_trading_is_replaced_even_while_a_roll_waits():
    # x2409 leads on day 1 (confirm 1: a roll to it waits for its next bar). On day 2
    # neither x2405, the main, nor x2409 trades; x2501 does: it takes over that day. The
    # waiting roll used to keep the main contract, leaving day 2 without bars.
    a = contract_frame(100, [9, 1, None, None, None, None, None, None, None, None])
    b = contract_frame(200, [5, 5, None, 5, 5, 5, 5, 5, 5, 5])
    c = contract_frame(300, [1] * 10)
    schedule, spliced = main_contract({"x2405": a, "x2409": b, "x2501": c}, confirm_days=1)
    assert [(r.trading_day, r.old_contract, r.new_contract) for r in schedule.rolls] == [
        (day(2), "x2405", "x2501")
    ]
    assert spliced["trading_day"].nunique() == 10


def test_spliced_bars_keep_the_columns_every_contract_has_and_add_the_contract():
    a = contract_frame(100, OI_A)
    b = contract_frame(200, OI_B).drop(columns="open_interest")
    _, spliced = main_contract({"x2405": a, "x2409": b}, by="volume")
    assert spliced.columns.tolist() == [
        "open",
        "high",
        "low",
        "close",
        "volume",
        "trading_day",
        "contract",
    ]


@pytest.mark.parametrize(
    ("contracts", "options", "error", "message"),
    [
        ({"x2405": "a", "oops": "b"}, {}, DataError, "'oops' is not a contract code"),
        ({"x2405": "a", "x2409": "b"}, {"by": "turnover"}, ValueError, "by must be"),
        ({"x2405": "a", "x2409": "b"}, {"confirm_days": 0}, ValueError, "at least 1"),
        ({"x2405": "a", "y2405": "b"}, {}, DataError, "the same delivery month"),
        ({"x2405": "a", "x2409": "no_oi"}, {}, DataError, "x2409 has no 'open_interest'"),
        ({}, {}, ValueError, "no contracts given"),
    ],
)
def test_main_contract_refuses_inputs_it_cannot_rank(contracts, options, error, message):
    frames = {"a": contract_frame(100, OI_A), "b": contract_frame(200, OI_B)}
    frames["no_oi"] = frames["b"].drop(columns="open_interest")
    given = {code: frames[name] for code, name in contracts.items()}
    with pytest.raises(error, match=message):
        main_contract(given, **options)


# --- Contract codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("cu2202.csv", "cu2202"),
        ("SHFE.cu2202.m1.csv", "cu2202"),
        ("SHFE_cu2202_1min.csv.gz", "cu2202"),
        ("CU2203.parquet", "cu2203"),  # spelled as the product is: one contract, one name
        ("SHFE.cu.HOT.m1.csv.gz", None),
        ("DCE.i2009.m5.csv", None),  # another product
        ("cu.csv", None),
    ],
)
def test_contract_code_comes_from_the_file_name(name, code):
    assert contract_in_file_name(name, "cu") == code


def test_a_file_name_with_two_codes_is_ambiguous():
    with pytest.raises(ValueError, match="several contract codes: cu2202, cu2203"):
        contract_in_file_name("cu2202-cu2203.csv", "cu")


def test_contract_codes_order_by_delivery_month():
    codes = ["cu2301", "cu2203", "cu2202", "cu2212"]
    assert sorted(codes, key=parse_contract) == ["cu2202", "cu2203", "cu2212", "cu2301"]
    with pytest.raises(ValueError, match="not a contract code"):
        parse_contract("cu22")


# --- The real copper contract -------------------------------------------------------------


@pytest.fixture(scope="module")
def copper(real_bars):
    """The real cu2202 (1-minute, gap-filled, open interest from ``hold``) and a made-up
    cu2203: the same bars 300 higher, with a constant open interest of 114,000. cu2202's
    real end-of-day open interest is below that on 2022-01-10 and 01-11, above on 01-12
    and 01-13, and below from 01-14 on."""
    cu2202 = real_bars("SHFE.cu2202.m1.csv").frame
    cu2203 = cu2202.copy()
    for column in ("open", "high", "low", "close"):
        cu2203[column] = cu2202[column] + 300
    cu2203["open_interest"] = 114_000.0
    return cu2202, cu2203


@pytest.mark.parametrize(
    ("confirm_days", "roll_day"),
    [(1, "2022-01-11"), (2, "2022-01-12"), (3, "2022-01-19"), (4, "2022-01-20")],
)
def test_real_copper_rolls_when_the_new_contract_has_led_confirm_days(
    copper, confirm_days, roll_day
):
    cu2202, cu2203 = copper
    schedule, spliced = main_contract(
        {"cu2202": cu2202, "cu2203": cu2203}, "open_interest", confirm_days
    )
    (roll,) = schedule.rolls
    assert (roll.trading_day, roll.old_contract, roll.new_contract) == (
        date.fromisoformat(roll_day),
        "cu2202",
        "cu2203",
    )
    # The roll bar is the night open of the evening before, 21:00; both opens priced there.
    first = int(np.searchsorted(cu2202["trading_day"].to_numpy(), np.datetime64(roll_day)))
    assert cu2202.index[first].hour == 21
    assert roll.old_price == cu2202["open"].iloc[first]
    assert roll.new_price == roll.old_price + 300
    assert spliced.index.equals(cu2202.index)
    assert spliced["contract"].iloc[first - 1 : first + 1].tolist() == ["cu2202", "cu2203"]


def test_real_copper_by_volume_follows_where_the_volume_moves(copper):
    cu2202, cu2203 = copper
    cu2203 = cu2203.copy()
    later = cu2203["trading_day"] >= pd.Timestamp("2022-01-24")
    cu2203["volume"] = np.where(later, cu2202["volume"] * 2 + 1, cu2202["volume"] / 2)
    schedule, _ = main_contract({"cu2202": cu2202, "cu2203": cu2203}, "volume", 3)
    # Leads on 01-24, 01-25, 01-26: confirmed on the 26th, main from the 27th.
    assert [r.trading_day for r in schedule] == [date(2022, 1, 27)]
