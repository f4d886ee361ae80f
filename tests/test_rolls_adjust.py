"""Using a roll schedule on bars: the contract of each bar, the bar of each roll, and the
back-adjusted series Tier-1 sees (no roll jump, no fake P&L)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from twotier.market.bars import bars_from_frame
from twotier.market.rolls import (
    Roll,
    RollSchedule,
    back_adjust,
    contracts_for_bars,
    located_rolls,
    roll_bars,
    schedule_from_contracts,
)

TZ = "Asia/Shanghai"


def day_bars(days: dict[str, list[tuple[float, float]]], contracts: dict[str, str]) -> pd.DataFrame:
    """DCE iron ore 15-minute day-session bars from 09:00: {day: [(open, close), ...]},
    with each day's contract, validated by the loader."""
    rows = []
    for day, bars in days.items():
        for k, (open_, close) in enumerate(bars):
            start = pd.Timestamp(f"{day} 09:00", tz=TZ) + pd.Timedelta(minutes=15 * k)
            rows.append((start, open_, close, contracts[day]))
    times, opens, closes, names = zip(*rows, strict=True)
    o, c = np.array(opens), np.array(closes)
    frame = pd.DataFrame(
        {
            "open": o,
            "high": np.maximum(o, c) + 1,
            "low": np.minimum(o, c) - 1,
            "close": c,
            "volume": 10.0,
            "contract": names,
        },
        index=pd.DatetimeIndex(times),
    )
    return bars_from_frame(frame, "DCE/i", bar_minutes=15, contract_column="contract").frame


# Two contracts, two bars a day, Monday 2024-03-04 to Thursday 03-07; the roll is on
# Wednesday 03-06. Rising: i2405 climbs to 800, i2409 opens at 760 (ratio 0.95, difference
# -40) and climbs on. Falling: i2405 falls to 780, i2409 opens at 819 (ratio 1.05,
# difference +39) and falls on.
CONTRACTS = {"2024-03-04": "i2405", "2024-03-05": "i2405", "2024-03-06": "i2409"}
CONTRACTS["2024-03-07"] = "i2409"
RISING = {
    "2024-03-04": [(780, 785), (785, 790)],
    "2024-03-05": [(790, 795), (795, 800)],
    "2024-03-06": [(760, 770), (770, 780)],
    "2024-03-07": [(780, 790), (790, 800)],
}
FALLING = {
    "2024-03-04": [(800, 795), (795, 790)],
    "2024-03-05": [(790, 785), (785, 780)],
    "2024-03-06": [(819, 810), (810, 800)],
    "2024-03-07": [(800, 790), (790, 780)],
}
# Expected adjusted closes: old-contract bars x ratio, or + difference; new ones raw.
EXPECTED = {
    ("rising", "ratio"): [745.75, 750.5, 755.25, 760.0, 770, 780, 790, 800],
    ("rising", "difference"): [745, 750, 755, 760, 770, 780, 790, 800],
    ("falling", "ratio"): [834.75, 829.5, 824.25, 819.0, 810, 800, 790, 780],
    ("falling", "difference"): [834, 829, 824, 819, 810, 800, 790, 780],
}
PATHS = {"rising": RISING, "falling": FALLING}


@pytest.mark.parametrize(("path", "method"), list(EXPECTED))
def test_back_adjust_gives_the_known_prices_of_the_two_contract_example(path, method):
    frame = day_bars(PATHS[path], CONTRACTS)
    schedule = schedule_from_contracts(frame)
    adjusted = back_adjust(frame, schedule, method)
    np.testing.assert_allclose(adjusted["close"].to_numpy(), EXPECTED[(path, method)])
    roll = schedule.rolls[0]
    shift = (lambda p: p * roll.ratio) if method == "ratio" else (lambda p: p + roll.difference)
    old = slice(0, 4)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(adjusted[column].iloc[old], shift(frame[column].iloc[old]))
        pd.testing.assert_series_equal(adjusted[column].iloc[4:], frame[column].iloc[4:])


@pytest.mark.parametrize(("path", "method"), list(EXPECTED))
def test_adjusted_series_has_no_roll_jump_so_long_and_short_see_only_real_moves(path, method):
    frame = day_bars(PATHS[path], CONTRACTS)
    schedule = schedule_from_contracts(frame)
    roll = schedule.rolls[0]
    adjusted = back_adjust(frame, schedule, method)
    # The old contract's last close, adjusted, is the new contract's raw price at the roll.
    assert adjusted["close"].iloc[3] == pytest.approx(roll.new_price)
    assert adjusted["open"].iloc[4] == roll.new_price == frame["open"].iloc[4]
    # Across the roll the adjusted series moves by what each contract moved, nothing more.
    raw_close, adj_close = frame["close"].to_numpy(), adjusted["close"].to_numpy()
    if method == "difference":
        real = (raw_close[3] - raw_close[0]) + (raw_close[7] - frame["open"].iloc[4])
        assert adj_close[7] - adj_close[0] == pytest.approx(real)
    else:
        real = (raw_close[3] / raw_close[0]) * (raw_close[7] / frame["open"].iloc[4])
        assert adj_close[7] / adj_close[0] == pytest.approx(real)


def test_back_adjust_leaves_volume_and_other_columns_and_the_input_untouched():
    frame = day_bars(RISING, CONTRACTS)
    before = frame.copy()
    adjusted = back_adjust(frame, schedule_from_contracts(frame))
    pd.testing.assert_frame_equal(frame, before)
    for column in ("volume", "trading_day", "contract"):
        pd.testing.assert_series_equal(adjusted[column], frame[column])


def three_contract_frame() -> tuple[pd.DataFrame, RollSchedule]:
    days = {f"2024-03-{d:02d}": [(100.0 + d, 100.0 + d)] for d in (4, 5, 6, 7, 8)}
    names = dict(zip(days, ["i2405", "i2405", "i2409", "i2409", "i2501"], strict=True))
    frame = day_bars(days, names)
    schedule = RollSchedule(
        (
            Roll(date(2024, 3, 6), "i2405", "i2409", 100.0, 110.0),
            Roll(date(2024, 3, 8), "i2409", "i2501", 120.0, 60.0),
        )
    )
    return frame, schedule


def test_ratio_scales_each_bar_by_the_product_of_the_later_rolls_ratios():
    frame, schedule = three_contract_frame()
    adjusted = back_adjust(frame, schedule, "ratio")
    factors = [1.1 * 0.5, 1.1 * 0.5, 0.5, 0.5, 1.0]
    np.testing.assert_allclose(adjusted["close"], frame["close"].to_numpy() * factors)


def test_difference_shifts_each_bar_by_the_sum_of_the_later_rolls_differences():
    frame, schedule = three_contract_frame()
    adjusted = back_adjust(frame, schedule, "difference")
    shifts = [10 - 60, 10 - 60, -60, -60, 0]
    np.testing.assert_allclose(adjusted["close"], frame["close"].to_numpy() + shifts)


def test_back_adjust_refuses_an_unknown_method():
    frame, schedule = three_contract_frame()
    with pytest.raises(ValueError, match="'ratio' or 'difference'"):
        back_adjust(frame, schedule, "log")


def test_contract_of_each_bar_switches_at_the_first_bar_of_the_roll_day():
    frame, schedule = three_contract_frame()
    contracts = contracts_for_bars(frame, schedule)
    assert contracts.tolist() == ["i2405", "i2405", "i2409", "i2409", "i2501"]
    assert contracts.tolist() == frame["contract"].tolist()
    assert roll_bars(frame, schedule).tolist() == [2, 4]
    assert [(bar, roll.new_contract) for bar, roll in located_rolls(frame, schedule)] == [
        (2, "i2409"),
        (4, "i2501"),
    ]


def test_a_roll_on_a_day_without_bars_takes_effect_at_the_first_bar_after_it():
    frame, _ = three_contract_frame()
    gap = frame.drop(frame.index[2])  # no bar on 2024-03-06
    schedule = RollSchedule((Roll(date(2024, 3, 6), "i2405", "i2409", 100.0, 110.0),))
    assert roll_bars(gap, schedule).tolist() == [2]  # 2024-03-07's bar
    assert contracts_for_bars(gap, schedule).tolist() == ["i2405", "i2405", "i2409", "i2409"]


def test_rolls_outside_the_data_are_ignored_and_leave_prices_raw():
    frame, _ = three_contract_frame()
    schedule = RollSchedule(
        (
            Roll(date(2024, 2, 1), "i2401", "i2405", 50.0, 100.0),  # before the data
            Roll(date(2024, 3, 4), "i2405", "i2409", 100.0, 110.0),  # on its first day
            Roll(date(2024, 4, 1), "i2409", "i2501", 120.0, 60.0),  # after it
        )
    )
    assert roll_bars(frame, schedule).tolist() == []
    pd.testing.assert_frame_equal(back_adjust(frame, schedule), frame)
    # The contract still follows the schedule: a2409 from the first day, as rolled then.
    assert set(contracts_for_bars(frame, schedule)) == {"i2409"}


def test_an_empty_schedule_adjusts_nothing_and_names_no_contract():
    frame, _ = three_contract_frame()
    pd.testing.assert_frame_equal(back_adjust(frame, RollSchedule()), frame)
    assert contracts_for_bars(frame, RollSchedule()).tolist() == [""] * len(frame)
    assert roll_bars(frame, RollSchedule()).tolist() == []
