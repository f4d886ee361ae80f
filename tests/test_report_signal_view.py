"""The signal view's payload: packed columns that decode to the packages' values, every
trigger with what Tier-2 did with it, every entry and exit, the stop and target levels
(split and carried at rolls), the rolls, and the links from the trades table."""

from __future__ import annotations

import base64
import zlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from test_report_run import shared_run
from twotier.analysis.benchmarks import in_run
from twotier.analysis.summary import bars_in_run, derived_tables, trigger_tables
from twotier.report.packing import (
    MISSING,
    _finite_bounds,
    _scaled_bounds,
    exact_decimals,
    pack_columns,
    resolved,
    unpack_columns,
)
from twotier.report.run_report import _bar_minutes, signal_views
from twotier.report.signal_view import (
    _first_and_last,
    _minutes,
    _ns,
    hours_held,
    instrument_view,
    trade_bars,
    view_payload,
)

TZ = "Asia/Shanghai"


# --- packing ---------------------------------------------------------------------------------


def test_prices_and_times_pack_exactly_and_missing_values_survive():
    prices = [765.5, 766.0, 770.25, 700.0]
    ema = [float("nan"), 765.123456, 766.987654, 768.5]
    packed = pack_columns(
        {"time": [0, 15, 30, 24_000_000], "close": prices, "ema_12": ema},
        {"signal": [0, 1, -1, 0]},
        exact=("time", "close"),
    )
    assert packed["numbers"] == [["time", 0], ["close", 2], ["ema_12", 2]]
    out = unpack_columns(packed, 4)
    assert out["close"].tolist() == prices
    assert out["time"].tolist() == [0, 15, 30, 24_000_000]
    assert np.isnan(out["ema_12"][0])
    assert out["ema_12"][1:] == pytest.approx(ema[1:], abs=0.005)
    assert out["signal"].tolist() == [0, 1, -1, 0]


def test_a_line_too_large_for_whole_numbers_packs_to_five_significant_digits():
    # A Bollinger band of bb_dev_up = 1e8 stopped the report ("too large to pack").
    values = [3.5e12, -1.234567e12, float("nan"), 7.0e11]
    packed = pack_columns({"bb_upper": values, "ema_12": [120_000.4, 1.0, 2.0, 3.0]}, {})
    assert packed["numbers"] == [["bb_upper", -8], ["ema_12", 0]]  # whole while they fit
    out = unpack_columns(packed, len(values))
    assert out["bb_upper"][[0, 1, 3]].tolist() == [3.5e12, -1.2346e12, 7.0e11]
    assert out["ema_12"].tolist() == [120_000.0, 1.0, 2.0, 3.0]


def test_a_missing_value_after_a_large_one_wraps_around_and_back():
    # the difference from a large value to the missing marker overflows int32 both ways
    values = [2_000_000.0, float("nan"), -2_000_000.0, float("nan"), 5.0]
    out = unpack_columns(pack_columns({"v": values}, {}, exact=("v",)), len(values))
    assert np.isnan(out["v"][[1, 3]]).all()
    assert out["v"][[0, 2, 4]].tolist() == [2_000_000.0, -2_000_000.0, 5.0]
    assert MISSING == -(2**31)


def test_infinities_pack_as_missing_values_and_a_value_past_int32_is_refused():
    values = [1.0, float("inf"), -float("inf"), 2.5]
    out = unpack_columns(pack_columns({"v": values}, {}, exact=("v",)), len(values))
    assert np.isnan(out["v"][[1, 2]]).all() and out["v"][[0, 3]].tolist() == [1.0, 2.5]
    nan = float("nan")
    shown = pack_columns({"v": values, "none": [nan] * 4, "w": [nan, 12.5, nan, -250.0]}, {})
    assert shown["numbers"] == [["v", 4], ["none", 0], ["w", 2]]  # of the finite values
    for too_large in (2.0**31 - 1, -(2.0**31 - 1)):
        with pytest.raises(ValueError, match="too large to pack"):
            pack_columns({"v": [0.0, too_large, float("nan")]}, {}, exact=("v",))


def test_packed_integers_are_the_values_scaled_and_rounded_then_differenced():
    """Exact columns reuse the rounding their decimals were found by, and a column is
    looked through for missing values only when its sum says it has any: the integers
    are still those of scaling, rounding and differencing every value."""
    rng = np.random.default_rng(3)
    prices = np.round(rng.uniform(500, 900, 3000) * 2) / 2
    holes = prices.copy()
    holes[[0, 7, 2999]] = np.nan
    lines = rng.normal(0, 50, 3000)
    lines[:30] = np.nan
    columns = {"price": prices, "holes": holes, "line": lines, "flat": np.zeros(3000)}
    packed = pack_columns(columns, {}, exact=("price", "holes"))
    raw = zlib.decompress(base64.b64decode(packed["data"]))
    for k, (name, decimals) in enumerate(packed["numbers"]):
        scaled = np.round(columns[name] * 10.0**decimals)
        scaled[~np.isfinite(scaled)] = MISSING
        ints = scaled.astype(np.int32)
        want = np.concatenate([ints[:1], np.diff(ints)]).astype("<i4")
        assert raw[k * 4 * 3000 : (k + 1) * 4 * 3000] == want.tobytes()


def test_indicators_keep_five_significant_digits():
    packed = pack_columns({"rsi": [12.3456789, 99.9]}, {})
    assert packed["numbers"] == [["rsi", 3]]
    assert unpack_columns(packed, 2)["rsi"].tolist() == [12.346, 99.9]


def test_columns_compressed_on_a_thread_are_the_same_text_once_resolved():
    columns = {"time": list(range(0, 15 * 5000, 15)), "close": [700.0 + i % 7 for i in range(5000)]}
    now = pack_columns(columns, {"signal": [i % 3 - 1 for i in range(5000)]}, exact=("time",))
    later = pack_columns(
        columns, {"signal": [i % 3 - 1 for i in range(5000)]}, exact=("time",), later=True
    )
    assert not isinstance(later["data"], str)
    assert resolved(later) == now and resolved(now) == now


def test_the_int32_check_reads_the_bounds_of_the_values_as_those_of_the_scaled_ones():
    rng = np.random.default_rng(7)
    for _ in range(300):
        values = rng.normal(size=50) * 10.0 ** rng.integers(-6, 300)
        values[rng.random(50) < 0.1] = np.nan
        values[rng.random(50) < 0.05] = rng.choice([np.inf, -np.inf])
        for decimals in (-8, 0, 2, 4, 8):
            scale = 10.0**decimals
            with np.errstate(over="ignore", invalid="ignore"):
                scaled = np.round(values * scale)
            got = _scaled_bounds(_finite_bounds(values), scale, scaled)
            assert got == _finite_bounds(scaled)


def test_exact_decimals_are_those_of_every_value_past_the_first_ones():
    values = np.array([700.0] * 300 + [700.25])
    assert exact_decimals(values) == 2
    assert exact_decimals(np.array([0.5, 1.0])) == 1


# --- the payload of a run --------------------------------------------------------------------


@pytest.fixture(scope="module")
def payloads():
    run = shared_run().result
    triggers, in_run = trigger_tables(run), bars_in_run(run)
    out = {}
    for instrument in run.config.instruments:
        bars = in_run[instrument]
        out[instrument] = (bars, view_payload(run, instrument, bars, triggers[instrument]))
    return out


def test_columns_decode_to_the_packages_of_the_run(payloads):
    for bars, payload in payloads.values():
        columns = unpack_columns({**payload}, payload["bars"])
        assert payload["bars"] == len(bars)
        assert columns["close"].tolist() == bars["close"].tolist()
        assert columns["open"].tolist() == bars["open"].tolist()
        for name, decimals in payload["numbers"]:
            expected = bars[name].to_numpy(dtype=float) if name != "time" else None
            if expected is not None:
                np.testing.assert_allclose(columns[name], expected, atol=0.51 * 10.0**-decimals)
        minutes = pd.DatetimeIndex(bars["time"]).tz_localize(None).as_unit("s").asi8 // 60
        assert columns["time"].astype(np.int64).tolist() == minutes.tolist()
        assert columns["regime"].tolist() == bars["regime"].tolist()


def test_every_entry_and_exit_of_the_instrument_is_in_its_view(payloads):
    trades = shared_run().result.trades
    for instrument, (_, payload) in payloads.items():
        mine = trades[trades["instrument"] == instrument]
        assert sorted(payload["entries"]["trade"]) == sorted(mine["trade_id"].unique())
        closed = mine[mine["reason"] != "open"]
        assert len(payload["exits"]["trade"]) == len(closed)
        assert sorted(payload["exits"]["reason"]) == sorted(closed["reason"])
        assert min(payload["entries"]["bar"]) >= 0 and min(payload["exits"]["bar"]) >= 0


def test_every_trigger_is_marked_traded_blocked_or_skipped(payloads):
    run = shared_run().result
    for instrument, (bars, payload) in payloads.items():
        triggers = payload["triggers"]
        assert len(triggers["bar"]) == int((bars["trigger"] != 0).sum())
        assert set(triggers["status"]) <= {0, 1, 2}
        traded = sum(1 for s in triggers["status"] if s == 0)
        assert (
            traded == run.trades.loc[run.trades["instrument"] == instrument, "trade_id"].nunique()
        )
        blocked = [
            payload["reasons"][r]
            for r, s in zip(triggers["reason"], triggers["status"], strict=True)
            if s == 1
        ]
        assert set(blocked) <= set(run.decisions["reason"])


def test_stop_and_target_levels_are_the_entry_price_moved_by_the_trades_stop_and_target(payloads):
    trades = shared_run().result.trades.drop_duplicates("trade_id").set_index("trade_id")
    _, payload = payloads["DCE/i"]
    levels = payload["levels"]
    assert len(set(levels["trade"])) == len(payload["entries"]["trade"])  # no roll: one each
    for k, trade in enumerate(levels["trade"]):
        row = trades.loc[trade]
        side = 1 if row["side"] == "LONG" else -1
        assert levels["stop"][k] == pytest.approx(row["entry_price"] * (1 - side * row["stop"]))
        assert levels["target"][k] == pytest.approx(row["entry_price"] * (1 + side * row["target"]))
        assert levels["from"][k] <= levels["to"][k]


def test_a_click_in_the_trades_table_finds_each_trades_bars():
    run = shared_run().result
    in_run = bars_in_run(run)
    for instrument in run.config.instruments:
        bars = in_run[instrument]
        mine = run.trades[run.trades["instrument"] == instrument]
        links = trade_bars(mine, bars)
        assert set(links) == set(mine["trade_id"])
        times = bars["time"].reset_index(drop=True)
        for trade, (first, last) in links.items():
            rows = mine[mine["trade_id"] == trade]
            assert times[first] == rows["entry_time"].iloc[0]
            assert first <= last < len(bars)
        held = hours_held(mine, bars)
        assert (held >= 0).all() and held.index.equals(mine.index)


def test_one_instruments_view_links_and_hours_are_those_made_one_by_one():
    run = shared_run().result
    triggers, in_run = trigger_tables(run), bars_in_run(run)
    for instrument in run.config.instruments:
        bars = in_run[instrument]
        mine = run.trades[run.trades["instrument"] == instrument]
        payload, links, held = instrument_view(instrument, mine, bars, triggers[instrument])
        assert payload == view_payload(run, instrument, bars, triggers[instrument])
        assert links == trade_bars(mine, bars)
        assert np.array_equal(held, hours_held(mine, bars).to_numpy())


def test_the_views_bar_minutes_read_off_the_steps_are_the_bars_own():
    """The report reads each instrument's wall-clock minutes off the steps' (converted
    once): the same minutes, and so the same view, as its bars' own times give."""
    run = replace(shared_run().result)  # nothing kept yet
    derived = derived_tables(run)
    for instrument, bars in derived.bars.items():
        minutes = _bar_minutes(run, bars, derived.steps[instrument])
        assert np.array_equal(minutes, _minutes(bars["time"]))
        assert np.array_equal(
            run.equity["time"].to_numpy()[derived.steps[instrument]], bars["time"].to_numpy()
        )
    views = signal_views(run, run.metrics, derived.bars, derived.triggers, derived.steps)
    alone = signal_views(run, run.metrics, derived.bars, derived.triggers)
    assert {k: resolved(v) for k, v in views.payloads.items()} == {
        k: resolved(v) for k, v in alone.payloads.items()
    }


def test_each_positions_first_and_last_row_are_those_of_a_sort_by_exit_time():
    exits = pd.to_datetime(
        ["2024-01-03", None, "2024-01-02", "2024-01-05", None, "2024-01-01", "2024-01-05"]
    ).tz_localize(TZ)
    trades = pd.DataFrame({"trade_id": [7, 3, 7, 3, 9, 3, 9], "exit_time": exits})
    trades.index = [10, 11, 12, 13, 14, 15, 16]
    ordered = trades.sort_values(["trade_id", "exit_time"], kind="stable", na_position="last")
    first, last = _first_and_last(trades["trade_id"].to_numpy(), _ns(trades["exit_time"]))
    first, last = trades.iloc[first], trades.iloc[last]
    pd.testing.assert_frame_equal(first, ordered.drop_duplicates("trade_id", keep="first"))
    pd.testing.assert_frame_equal(last, ordered.drop_duplicates("trade_id", keep="last"))
    none = _first_and_last(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert len(none[0]) == 0 and len(none[1]) == 0


# --- rolls ---------------------------------------------------------------------------------------


def rolled_run():
    """A made-up run of one instrument with a roll from i2405 (last close 100) to i2409
    (first open 80) and a long position held across it (stop 2%, target 8%)."""
    times = pd.date_range("2024-03-04 09:00", periods=6, freq="15min", tz=TZ)
    days = pd.to_datetime(["2024-03-04"] * 3 + ["2024-03-05"] * 3)
    packages = pd.DataFrame(
        {
            "time": times,
            "instrument": "DCE/i",
            "signal": [0, 1, 1, 1, 1, 0],
            "trigger": [0, 1, 0, 0, 0, 0],
            "confidence": 0.5,
            "signal_strength": 0.4,
            "regime": [3, 1, 1, 1, 1, 3],
            "open": [100.0, 100, 100, 80, 82, 84],
            "close": [100.0, 100, 100, 82, 84, 84],
            "contract": ["i2405"] * 3 + ["i2409"] * 3,
        }
    )
    equity = pd.DataFrame({"time": times, "trading_day": days})
    trades = pd.DataFrame(
        [
            {"trade_id": 1, "basket": 0, "instrument": "DCE/i", "side": "LONG", "tier": "WEAK",
             "contracts": 2, "entry_time": times[2], "entry_price": 100.0, "exit_time": times[5],
             "exit_price": 84.0, "reason": "low_confidence", "net_pnl": 5.0, "return_pct": 0.05,
             "leverage": 2.0, "effective_leverage": 1.9, "stop": 0.02, "target": 0.08,
             "entry_contract": "i2405", "contract": "i2409"}
        ]
    )  # fmt: skip

    class Run:
        pass

    run = Run()
    run.packages, run.equity, run.trades = {"DCE/i": packages}, equity, trades
    return run


def test_rolls_are_marked_and_split_the_levels_carried_by_the_ratio():
    run = rolled_run()
    bars = in_run(run.packages["DCE/i"], run.equity)
    triggers = pd.DataFrame({"bar": [1], "direction": [1], "status": ["traded"], "reason": [""]})
    payload = view_payload(run, "DCE/i", bars, triggers)
    assert payload["rolls"] == {"bar": [3], "old": ["i2405"], "new": ["i2409"]}
    levels = payload["levels"]
    assert (levels["from"], levels["to"]) == ([2, 3], [3, 5])
    # 100 on i2405 is 80 on i2409 (ratio 0.8): the levels move with it
    assert levels["stop"] == pytest.approx([98.0, 78.4])
    assert levels["target"] == pytest.approx([108.0, 86.4])
