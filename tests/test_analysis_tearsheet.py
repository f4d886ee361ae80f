"""The tear-sheet figures (docs/metrics.md, "Tear sheet"), each against a series worked
out by hand and against an independent computation: rolling Sharpe and volatility, P&L by
session, long against short, excursions and holding times, the daily-returns export."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.analysis.excursions import excursions, holding_summary
from twotier.analysis.metrics import daily_returns, daily_returns_table
from twotier.analysis.rolling import rolling_sharpe, rolling_volatility
from twotier.analysis.sessions import night_steps, session_pnl
from twotier.analysis.trades import side_stats

TZ = "Asia/Shanghai"
N = 243


def days(values) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2024-01-02", periods=len(values), freq="B"))


# --- rolling ------------------------------------------------------------------------------


def reference_rolling(values: list[float], window: int, rf: float = 0.0):
    """Each window's volatility and Sharpe with the statistics module, one by one."""
    vol, sharpe = [], []
    for end in range(window, len(values) + 1):
        part = [v - rf / N for v in values[end - window : end]]
        sd = statistics.stdev(part)
        vol.append(statistics.stdev(values[end - window : end]) * math.sqrt(N))
        sharpe.append(statistics.fmean(part) / sd * math.sqrt(N) if sd > 0 else 0.0)
    return vol, sharpe


def test_rolling_figures_match_a_window_by_window_reference():
    rng = np.random.default_rng(7)
    values = list(rng.normal(0.0005, 0.01, 300))
    r = days(values)
    vol, sharpe = reference_rolling(values, 126, rf=0.02)
    assert rolling_volatility(r).tolist() == pytest.approx(vol, rel=1e-9)
    assert rolling_sharpe(r, risk_free=0.02).tolist() == pytest.approx(sharpe, rel=1e-9)
    # ... and pandas' running-sum form of the same
    by_pandas = r.rolling(126).std(ddof=1).dropna() * math.sqrt(N)
    assert rolling_volatility(r).to_numpy() == pytest.approx(by_pandas.to_numpy(), rel=1e-7)


def test_rolling_figures_are_indexed_by_each_windows_last_day():
    r = days([0.01, -0.01, 0.02, 0.0, 0.01])
    vol = rolling_volatility(r, window=3)
    assert list(vol.index) == list(r.index[2:])
    assert vol.iloc[0] == pytest.approx(statistics.stdev([0.01, -0.01, 0.02]) * math.sqrt(N))


def test_a_flat_window_has_no_volatility_and_a_sharpe_of_zero():
    r = days([0.0] * 5 + [0.01, -0.02])
    assert rolling_volatility(r, window=5).iloc[0] == 0.0
    assert rolling_sharpe(r, window=5).iloc[0] == 0.0


def test_a_run_shorter_than_the_window_has_no_rolling_figures():
    assert rolling_sharpe(days([0.01] * 10)).empty
    assert rolling_volatility(days([0.01] * 10)).empty


# --- sessions -----------------------------------------------------------------------------


def steps(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """(bar start, trading day, PV) -> equity rows."""
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex([r[0] for r in rows]).tz_localize(TZ),
            "trading_day": pd.to_datetime([r[1] for r in rows]),
            "pv": [r[2] for r in rows],
        }
    )


NIGHT_AND_DAY = steps(
    [
        ("2024-03-04 21:00", "2024-03-05", 1010.0),  # night: +10 (the gap into it too)
        ("2024-03-05 00:45", "2024-03-05", 1004.0),  # night: -6
        ("2024-03-05 09:00", "2024-03-05", 1020.0),  # day: +16
        ("2024-03-05 14:45", "2024-03-05", 1015.0),  # day: -5
    ]
)


def test_bars_from_18_00_to_06_00_are_night_bars():
    assert night_steps(NIGHT_AND_DAY["time"]).tolist() == [True, True, False, False]


def test_session_pnl_splits_the_steps_changes_and_adds_up_to_the_total():
    split = session_pnl(NIGHT_AND_DAY, "pv", initial=1000.0)
    assert split == {"day_pnl": 11.0, "night_pnl": 4.0, "day_steps": 2, "night_steps": 2}
    assert split["day_pnl"] + split["night_pnl"] == 1015.0 - 1000.0


# --- long against short ---------------------------------------------------------------------


def test_long_and_short_positions_are_counted_apart():
    t0 = pd.Timestamp("2024-03-04 09:00", tz=TZ)
    rows = [  # (trade, side, reason, net P&L): trade 3 is one position in two rows
        (1, "LONG", "stop_loss_2pct", -100.0),
        (2, "SHORT", "profit_target_7pct", 300.0),
        (3, "LONG", "daily_loss_derisk", 50.0),
        (3, "LONG", "low_confidence", 150.0),
        (4, "SHORT", "open", -999.0),
    ]
    trades = pd.DataFrame(
        [
            {"trade_id": i, "side": side, "reason": reason, "net_pnl": pnl, "gross_pnl": pnl,
             "fees": 0.0, "exit_time": t0 + pd.Timedelta(hours=k), "effective_leverage": 2.0}
            for k, (i, side, reason, pnl) in enumerate(rows)
        ]
    )  # fmt: skip
    long, short = side_stats(trades)
    assert (long["side"], long["trades"], long["wins"], long["net_pnl"]) == ("long", 2, 1, 100.0)
    assert long["profit_factor"] == pytest.approx(2.0)
    assert (short["trades"], short["win_rate"], short["profit_factor"]) == (1, 1.0, None)


# --- excursions -------------------------------------------------------------------------------


def bars_of(closes, contracts=None) -> pd.DataFrame:
    n = len(closes)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-03-04 09:00", periods=n, freq="15min", tz=TZ),
            "open": [float(c) for c in closes],
            "close": [float(c) for c in closes],
            "trading_day": pd.Timestamp("2024-03-04"),
        }
    )
    if contracts is not None:
        frame["contract"] = contracts
        frame["trading_day"] = pd.to_datetime(
            ["2024-03-04" if c == contracts[0] else "2024-03-05" for c in contracts]
        )
    return frame


def trade_row(bars, trade_id, side, entry, exit_, entry_price, exit_price, reason="x", **more):
    times = bars["time"]
    row = {
        "trade_id": trade_id, "basket": 0, "instrument": "DCE/i", "side": side,
        "entry_contract": "", "contract": "", "entry_time": times[entry],
        "entry_price": float(entry_price), "entry_price_kind": "open",
        "exit_time": times[exit_] if exit_ is not None else pd.NaT,
        "exit_price": float(exit_price) if exit_price is not None else np.nan,
        "exit_decided_at": times[exit_ - 1] if exit_ is not None else pd.NaT,
        "reason": reason, "net_pnl": 1.0, "return_pct": 0.0,
    }  # fmt: skip
    return {**row, **more}


def test_excursions_of_a_long_position_by_hand():
    bars = bars_of([100, 100, 97, 104, 101, 99])
    # filled at 100 on bar 1, exit decided on bar 4's close, filled at 99.5 on bar 5
    trades = pd.DataFrame([trade_row(bars, 1, "LONG", 1, 5, 100, 99.5)])
    row = excursions(trades, {"DCE/i": bars}, bars).iloc[0]
    assert row["mae"] == pytest.approx(-0.03)  # bar 2 closed at 97
    assert row["mfe"] == pytest.approx(0.04)  # bar 3 closed at 104
    assert row["return"] == pytest.approx(-0.005)
    assert (row["bars_held"], row["hours_held"]) == (4, 1.0)


def test_a_short_positions_excursions_are_signed_by_its_side():
    bars = bars_of([100, 100, 97, 104, 101, 99])
    trades = pd.DataFrame([trade_row(bars, 1, "SHORT", 1, 3, 100, 98)])
    row = excursions(trades, {"DCE/i": bars}, bars).iloc[0]
    assert (row["mae"], row["mfe"], row["return"]) == pytest.approx((0.0, 0.03, 0.02))


def test_a_rolls_jump_is_no_excursion():
    # i2405 to 100 (bar 2); i2409 opens at 80, so its prices are on the new scale: 84 is +5%
    bars = bars_of([100, 100, 100, 80, 84], ["i2405"] * 3 + ["i2409"] * 2)
    trades = pd.DataFrame(
        [trade_row(bars, 1, "LONG", 1, 4, 100, 84, entry_contract="i2405", contract="i2409")]
    )
    row = excursions(trades, {"DCE/i": bars}, bars).iloc[0]
    assert (row["mae"], row["mfe"], row["return"]) == pytest.approx((0.0, 0.05, 0.05))


def test_an_open_position_is_measured_to_the_last_bar_and_marked_open():
    bars = bars_of([100, 100, 95, 103])
    trades = pd.DataFrame([trade_row(bars, 1, "LONG", 1, None, 100, None, reason="open")])
    row = excursions(trades, {"DCE/i": bars}, bars).iloc[0]
    assert bool(row["open"]) and row["exit_bar"] == 3
    assert (row["mae"], row["mfe"]) == pytest.approx((-0.05, 0.03))
    assert holding_summary(excursions(trades, {"DCE/i": bars}, bars))["positions"] == 0


def reference_excursions(closes, side, entry, decided, entry_price, exit_price):
    worst = best = 0.0
    for price in [*closes[entry : decided + 1], exit_price]:
        move = side * (price / entry_price - 1)
        worst, best = min(worst, move), max(best, move)
    return worst, best


@settings(max_examples=60, deadline=None)
@given(
    closes=st.lists(st.integers(80, 120), min_size=4, max_size=30),
    data=st.data(),
)
def test_excursions_match_a_bar_by_bar_reference_and_bracket_the_return(closes, data):
    bars = bars_of(closes)
    entry = data.draw(st.integers(0, len(closes) - 3))
    exit_ = data.draw(st.integers(entry + 1, len(closes) - 1))
    side = data.draw(st.sampled_from(["LONG", "SHORT"]))
    entry_price, exit_price = closes[entry] + 0.5, closes[exit_] - 0.5
    trades = pd.DataFrame([trade_row(bars, 1, side, entry, exit_, entry_price, exit_price)])
    row = excursions(trades, {"DCE/i": bars}, bars).iloc[0]
    sign = 1 if side == "LONG" else -1
    mae, mfe = reference_excursions(closes, sign, entry, exit_ - 1, entry_price, exit_price)
    assert (row["mae"], row["mfe"]) == pytest.approx((mae, mfe))
    assert row["mae"] <= row["return"] <= row["mfe"]


# --- the daily-returns export ---------------------------------------------------------------


def test_daily_returns_table_has_a_date_index_and_a_returns_column():
    equity = steps(
        [
            ("2024-03-04 09:00", "2024-03-04", 1010.0),
            ("2024-03-04 21:00", "2024-03-05", 1000.0),
            ("2024-03-05 14:45", "2024-03-05", 1030.0),
        ]
    )
    table = daily_returns_table(equity, 1000.0)
    assert list(table.columns) == ["returns"] and table.index.name == "date"
    assert table.index.tz is None
    assert [d.strftime("%Y-%m-%d") for d in table.index] == ["2024-03-04", "2024-03-05"]
    assert table["returns"].tolist() == pytest.approx([0.01, 1030 / 1010 - 1])
    assert table["returns"].tolist() == daily_returns(equity, 1000.0).tolist()
