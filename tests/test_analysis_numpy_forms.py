"""The metrics' numpy forms give the straightforward pandas forms' figures bit for bit, on
random inputs with the cases where they could part: empty groups, one row, positions of
several rows, missing times and values, days out of order, ties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from twotier.analysis import (
    activity,
    drawdowns,
    excursions,
    metrics,
    periods,
    sessions,
    triggers,
)
from twotier.analysis.benchmarks import held_closes, rows_of
from twotier.analysis.rolled import rolled_closes
from twotier.analysis.trades import OPEN, exit_reasons, position_totals, trade_stats
from twotier.tier1.state import episodes

TZ = "Asia/Shanghai"
T0 = pd.Timestamp("2024-03-04 09:00", tz=TZ)
money = st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2))
leverage = st.one_of(st.floats(0, 20, allow_nan=False), st.just(float("nan")))


def cents(total) -> float:
    """A money total as the metrics give it: to the cent (docs/metrics.md)."""
    return round(float(total), 2) + 0.0


def same(a, b) -> bool:
    """Equal to the bit, NaN equal to NaN, through dicts and lists."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@st.composite
def trade_tables(draw) -> pd.DataFrame:
    """trades.csv-like rows: positions of one to three rows (a derisk cut), each with one
    basket and side, some still open, exits at few distinct hours (ties), missing ones."""
    rows = []
    for trade_id in draw(st.lists(st.integers(1, 40), max_size=12, unique=True)):
        basket, side = draw(st.integers(0, 2)), draw(st.sampled_from(["LONG", "SHORT"]))
        lev = draw(leverage)
        for _ in range(draw(st.integers(1, 3))):
            hour = draw(st.one_of(st.integers(0, 6), st.none()))
            net = draw(money)
            rows.append(
                {
                    "trade_id": trade_id,
                    "basket": basket,
                    "instrument": ["DCE/i", "SHFE/cu", "DCE/m"][basket],
                    "side": side,
                    "entry_time": T0 + pd.Timedelta(minutes=draw(st.integers(0, 5)) * 15),
                    "entry_price": draw(st.floats(100, 200, allow_nan=False)),
                    "entry_price_kind": draw(st.sampled_from(["open", "close"])),
                    "entry_contract": draw(st.sampled_from([None, "i2405", "i2409"])),
                    "contract": draw(st.sampled_from([None, "i2405", "i2409"])),
                    "exit_time": pd.NaT if hour is None else T0 + pd.Timedelta(hours=hour),
                    "exit_decided_at": pd.NaT if hour is None else T0 + pd.Timedelta(hours=hour),
                    "exit_price": draw(st.one_of(st.just(float("nan")), st.floats(90, 210))),
                    "reason": draw(st.sampled_from([OPEN, "stop_loss_2pct", "low_confidence"])),
                    "gross_pnl": net + 10.0,
                    "fees": 10.0,
                    "net_pnl": net,
                    "effective_leverage": lev,
                }
            )
    columns = ["trade_id", "basket", "side", "exit_time", "reason", "gross_pnl", "fees"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=[*columns, "net_pnl"])
    frame = frame if rows else frame.assign(effective_leverage=pd.Series(dtype=float))
    return frame.sample(frac=1.0, random_state=draw(st.integers(0, 99)))  # any row order


def pandas_trade_stats(trades: pd.DataFrame, whole: pd.DataFrame | None = None) -> dict:
    """trade_stats as it was written on pandas (one scope, its own groupby), but with each
    position's money added up once over the ``whole`` table the scope is part of, as the
    book adds it: pandas' groupby adds a lone group's rows without the compensated sum it
    gives several groups, so the same position could total a last digit apart in a scope
    of its own (19765.00 + 45759.95 + 11.38: 65536.33 beside 65536.32999999999)."""
    done = position_totals(trades if whole is None else whole)
    done = done[done["trade_id"].isin(trades["trade_id"])]
    net = done["net_pnl"].astype(float)
    wins, losses = net[net > 0], net[net < 0]
    entered = trades.drop_duplicates("trade_id")["effective_leverage"].astype(float)

    def mean(values):
        return float(values.mean()) if len(values) else None

    def streak(flags):
        best = run = 0
        for flag in flags:
            run = run + 1 if flag else 0
            best = max(best, run)
        return best

    return {
        "trades": len(done),
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": float(np.mean(net > 0)) if len(net) else None,
        "profit_factor": float(wins.sum() / -losses.sum()) if len(losses) else None,
        "average_win": mean(wins),
        "average_loss": mean(losses),
        "largest_win": float(wins.max()) if len(wins) else None,
        "largest_loss": float(losses.min()) if len(losses) else None,
        "expectancy": mean(net),
        "longest_winning_streak": streak((net > 0).to_numpy()),
        "longest_losing_streak": streak((net < 0).to_numpy()),
        "gross_pnl": cents(done["gross_pnl"].sum()),
        "net_pnl": cents(net.sum()),
        "trade_fees": cents(done["fees"].sum()),
        "open_positions": int((trades["reason"] == OPEN).sum()),
        "average_effective_leverage": mean(entered),
        "max_effective_leverage": float(entered.max()) if len(entered) else None,
    }


@settings(max_examples=30, deadline=None)
@given(trades=trade_tables())
def test_the_book_of_every_scope_gives_the_statistics_of_its_own_rows(trades):
    from twotier.analysis.trades import PositionBook, book_stats

    book = PositionBook.of(trades)
    assert same(book_stats(book), pandas_trade_stats(trades))
    for basket in (0, 1, 2):
        mine = trades[trades["basket"] == basket]
        assert same(book_stats(book.where(basket=basket)), pandas_trade_stats(mine, trades))
        for side in ("LONG", "SHORT"):
            theirs = mine[mine["side"] == side]
            got = book_stats(book.where(basket=basket, side=side))
            assert same(got, pandas_trade_stats(theirs, trades))
    assert same(trade_stats(trades), pandas_trade_stats(trades))


def pandas_position_rows(trades: pd.DataFrame) -> pd.DataFrame:
    """excursions' position rows as they were written on pandas."""
    ordered = trades.sort_values(["trade_id", "exit_time"], kind="stable", na_position="last")
    grouped = ordered.groupby("trade_id", sort=True)
    first, last = grouped.first(), grouped.last()
    out = first[["basket", "instrument", "side", "entry_time", "entry_price"]].copy()
    for column, source in (("entry_contract", first), ("contract", last)):
        out[column] = source[column].astype("string").fillna("") if column in source else ""
    for column in ("exit_time", "exit_price", "exit_decided_at"):
        out[column] = last.get(column, pd.NaT)
    out["open"] = (ordered["reason"] == OPEN).groupby(ordered["trade_id"], sort=True).any()
    out["net_pnl"] = grouped["net_pnl"].sum().round(2)
    return out.reset_index()


@settings(max_examples=40, deadline=None)
@given(trades=trade_tables())
def test_position_rows_match_the_groupby_form(trades):
    if trades.empty:
        return
    got = excursions._position_rows(trades)
    want = pandas_position_rows(trades)
    assert list(got.columns) == list(want.columns)
    for column in want.columns:
        a, b = got[column].to_numpy(dtype=object), want[column].to_numpy(dtype=object)
        assert all(same(x, y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True))


def moves_one_by_one(closes, entry, decided, exit_price, basis, side):
    """MAE, MFE and return position by position, as excursions computed them first."""
    mae, mfe, ret = (np.empty(len(entry)) for _ in range(3))
    for k in range(len(entry)):
        path = np.append(closes[entry[k] : decided[k] + 1], exit_price[k])
        moves = side[k] * (path / basis[k] - 1.0)
        mae[k], mfe[k], ret[k] = min(0.0, moves.min()), max(0.0, moves.max()), moves[-1]
    return mae, mfe, ret


prices = st.one_of(st.floats(50, 150, allow_nan=False), st.just(float("nan")))


@settings(max_examples=80, deadline=None)
@given(
    closes=st.lists(prices, min_size=1, max_size=30),
    spans=st.lists(
        st.tuples(
            st.integers(-3, 32),
            st.integers(-3, 32),
            prices,
            st.sampled_from([100.0, 1e-3, -80.0]),
            st.sampled_from([1.0, -1.0]),
        ),
        max_size=8,
    ),
)
def test_moves_in_one_pass_match_the_position_by_position_loop(closes, spans):
    closes = np.asarray(closes)
    entry, decided, exit_price, basis, side = (np.asarray(v) for v in zip(*spans, strict=True)) \
        if spans else (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 3  # fmt: skip
    got = excursions._moves(closes, entry, decided, exit_price, basis, side)
    want = moves_one_by_one(closes, entry, decided, exit_price, basis, side)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b, equal_nan=True)


@st.composite
def steps(draw):
    """A value column over steps of trading days: in order (a run) or not, NaN or not."""
    days = sorted(draw(st.lists(st.integers(0, 500), min_size=1, max_size=60)))
    if draw(st.booleans()):
        days = draw(st.permutations(days))
    values = draw(st.lists(st.floats(1e5, 2e5), min_size=len(days), max_size=len(days)))
    if draw(st.booleans()):
        values[draw(st.integers(0, len(values) - 1))] = float("nan")
    day = pd.Timestamp("2016-01-04") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({"trading_day": day.as_unit("s"), "pv": values})


@settings(max_examples=80, deadline=None)
@given(equity=steps())
def test_daily_values_match_the_groupby_form(equity):
    got = metrics.daily_values(equity)
    pd.testing.assert_series_equal(got, equity.groupby("trading_day", sort=True)["pv"].last())
    assert metrics.trading_day_count(equity) == equity["trading_day"].nunique()
    ends = metrics.DayEnds.of(equity)  # found once, for many series
    pd.testing.assert_series_equal(metrics.daily_values(equity, "pv", ends), got)
    assert metrics.trading_day_count(equity, ends) == equity["trading_day"].nunique()


@settings(max_examples=80, deadline=None)
@given(
    days_at=st.lists(st.one_of(st.integers(0, 20), st.none()), max_size=30),
    ordered=st.booleans(),
)
def test_the_last_step_of_each_day_is_found_only_where_the_days_are_in_order_and_whole(
    days_at, ordered
):
    if ordered:  # a missing day sorts first: the one place an order check cannot see it
        days_at = sorted(days_at, key=lambda d: -1 if d is None else d)
    base = pd.Timestamp("2016-01-04")
    days = pd.Series(
        pd.DatetimeIndex([pd.NaT if d is None else base + pd.Timedelta(days=d) for d in days_at])
    ).astype("datetime64[s]")
    got = metrics.last_step_of_each_day(days)
    if days.isna().any() or not days.is_monotonic_increasing:
        assert got is None and metrics.ordered_days(days) is None
    else:
        assert np.array_equal(got, np.flatnonzero(~days.duplicated(keep="last").to_numpy()))


@settings(max_examples=80, deadline=None)
@given(equity=steps())
def test_the_benchmarks_daily_closes_match_the_groupby_form(equity):
    bars = equity.rename(columns={"pv": "close"})
    closes = rolled_closes(bars)
    want = closes.groupby(bars["trading_day"].to_numpy(), sort=True).last().astype(float)
    pd.testing.assert_series_equal(held_closes(bars)[1], want)


def compound(returns: pd.Series) -> float:
    return float((1.0 + returns).prod() - 1.0)


@settings(max_examples=80, deadline=None)
@given(equity=steps())
def test_monthly_and_annual_returns_match_the_groupby_form(equity):
    daily = metrics.daily_returns(equity.dropna(), 1e5) if equity["pv"].notna().any() else None
    if daily is None or daily.empty:
        return
    daily.iloc[0] = float("nan") if len(daily) > 2 else daily.iloc[0]  # a missing return
    days = pd.DatetimeIndex(daily.index)
    by_month = daily.groupby([days.year, days.month]).apply(compound)
    want = [{"month": f"{y:04d}-{m:02d}", "return": float(r)} for (y, m), r in by_month.items()]
    assert same(periods.monthly_rows(daily), want)
    pd.testing.assert_series_equal(
        periods.annual_returns(daily), daily.groupby(days.year).apply(compound)
    )


@settings(max_examples=80, deadline=None)
@given(equity=steps())
def test_drawdown_days_are_numbered_as_a_factorisation_numbers_them(equity):
    days, number_of = drawdowns._numbered_days(equity["trading_day"])
    index = pd.DatetimeIndex(equity["trading_day"])
    assert np.array_equal(number_of(np.arange(len(index))), pd.factorize(index, sort=True)[0])
    assert all(days[i] == index[i] for i in range(len(index)))


@settings(max_examples=80, deadline=None)
@given(
    steps_at=st.lists(st.integers(0, 100), min_size=0, max_size=30, unique=True),
    times_at=st.lists(st.one_of(st.integers(-5, 105), st.none()), max_size=30),
    shuffled=st.booleans(),
)
def test_rows_of_the_steps_match_get_indexer(steps_at, times_at, shuffled):
    steps_at = steps_at if shuffled else sorted(steps_at)
    minutes = pd.to_timedelta([15 * m for m in steps_at], unit="min")
    steps_index = pd.DatetimeIndex(T0 + minutes).as_unit("ns")
    times = pd.DatetimeIndex(
        [pd.NaT if m is None else T0 + pd.Timedelta(minutes=15 * m) for m in times_at]
    ).as_unit("ns")
    times = times.tz_localize(TZ) if times.tz is None else times
    assert np.array_equal(rows_of(steps_index, times), steps_index.get_indexer(times))


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([triggers.TRADED, triggers.BLOCKED, triggers.SKIPPED]),
            st.sampled_from(["", "in a position", "entry_limit", "not taken"]),
        ),
        max_size=20,
    )
)
def test_outcome_counts_match_value_counts(rows):
    table = pd.DataFrame(rows, columns=["status", "reason"]).astype("str")
    want = {"triggers": len(table)}
    for status in (triggers.TRADED, triggers.BLOCKED, triggers.SKIPPED):
        mine = table[table["status"] == status]
        want[status] = len(mine)
        if status != triggers.TRADED:
            counts = mine["reason"].value_counts()
            want[f"{status}_by_reason"] = {
                str(r): int(counts[r]) for r in sorted(counts.index, key=lambda r: (-counts[r], r))
            }
    assert triggers.outcome_counts(table) == want


@settings(max_examples=40, deadline=None)
@given(trades=trade_tables(), missing=st.booleans())
def test_exit_reasons_match_the_groupby_form(trades, missing):
    if missing and len(trades):  # a row without a reason, one without a P&L
        trades = trades.astype({"reason": "str"})
        trades.iloc[0, trades.columns.get_loc("reason")] = None
        trades.iloc[-1, trades.columns.get_loc("net_pnl")] = float("nan")
    want = []
    for reason, group in trades[trades["reason"] != OPEN].groupby("reason", sort=True):
        net = group["net_pnl"].astype(float)
        want.append(
            {
                "reason": str(reason),
                "count": len(group),
                "win_rate": float(np.mean(net > 0)),
                "net_pnl": cents(net.sum()),
                "average_pnl": float(net.mean()),
            }
        )
    want = sorted(want, key=lambda r: (-r["count"], r["reason"]))
    assert same(exit_reasons(trades), want)


@settings(max_examples=60, deadline=None)
@given(
    fills=st.lists(
        st.tuples(
            st.sampled_from(["DCE/i", "SHFE/cu", "CZCE/xx"]),
            st.integers(1, 50),
            st.floats(100, 80000, allow_nan=False),
            st.one_of(st.floats(0, 5, allow_nan=False), st.just(float("nan"))),
        ),
        max_size=40,
    )
)
def test_costs_match_the_column_forms(fills):
    table = pd.DataFrame(fills, columns=["instrument", "contracts", "price", "slippage"])
    table = table.astype({"instrument": "str"})
    multipliers = {"DCE/i": 100.0, "SHFE/cu": 5.0}  # CZCE/xx has none
    if table.empty:
        return
    multiplier = table["instrument"].map(multipliers).astype(float)
    cost = table["slippage"].astype(float) * table["contracts"].astype(float) * multiplier
    assert same(activity.slippage_paid(table, multipliers), cents(cost.sum()))
    traded = float(activity.fill_notional(table, multipliers).sum())
    want = traded / 1e6 * metrics.TRADING_DAYS_PER_YEAR / 243
    assert same(activity.annual_turnover(table, multipliers, 1e6, 243), want)


@settings(max_examples=80, deadline=None)
@given(signal=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=60))
def test_episode_bounds_match_unique_over_every_bar(signal):
    episode = episodes(np.asarray(signal))
    numbers, first = np.unique(episode, return_index=True)
    _, from_end = np.unique(episode[::-1], return_index=True)
    starts = dict(zip(numbers.tolist(), first.tolist(), strict=True))
    ends = dict(zip(numbers.tolist(), (len(episode) - from_end).tolist(), strict=True))
    assert triggers._episode_bounds(episode) == (starts, ends)


def pandas_summary_counts(trades: pd.DataFrame, fills: pd.DataFrame) -> dict:
    """The run summary's trade and fee figures as they were written on pandas: each scope
    filtered from the whole tables, a trade's rows added up by groupby; trades are the
    positions closed whole (docs/metrics.md)."""

    def win_rate(rows):
        if rows.empty:
            return None
        return float(np.mean(rows.groupby("trade_id")["net_pnl"].sum().round(2) > 0))

    still_open = trades[trades["reason"] == OPEN]
    closed = trades[~trades["trade_id"].isin(still_open["trade_id"])]  # positions closed whole
    out = {
        "trades": int(closed["trade_id"].nunique()),
        "win_rate": win_rate(closed),
        "gross_pnl": round(float(trades["gross_pnl"].sum()), 2),
        "fees": round(float(fills["fee"].sum()) if len(fills) else 0.0, 2),
        "open_positions": len(still_open),
        "open_pnl": round(float(still_open["gross_pnl"].sum()), 2),
    }
    for i in range(3):
        mine, rows = closed[closed["basket"] == i], trades[trades["basket"] == i]
        out[i] = {
            "trades": int(mine["trade_id"].nunique()),
            "win_rate": win_rate(mine),
            "gross_pnl": round(float(rows["gross_pnl"].sum()), 2),
            "fees": round(float(fills.loc[fills["basket"] == i, "fee"].sum()), 2),
        }
    return out


@settings(max_examples=40, deadline=None)
@given(
    trades=trade_tables(),
    fees=st.lists(st.tuples(st.integers(0, 2), money.map(abs)), max_size=12),
    nearly_even=st.booleans(),
)
def test_the_run_summary_counts_trades_and_money_as_the_pandas_form(trades, fees, nearly_even):
    from twotier.config import load_config
    from twotier.run.result import summarize

    if nearly_even and len(trades):  # a trade of several rows whose net is about 0
        first = trades["trade_id"].iloc[0]
        rows = trades["trade_id"] == first
        trades.loc[rows, "net_pnl"] = [0.1, 0.2, -0.3][: int(rows.sum())]
    fills = pd.DataFrame(fees or None, columns=["basket", "fee"])
    equity = pd.DataFrame(
        {"time": [T0], "pv": [1e6], "drawdown": [0.0], "equity_0": [1.0], "equity_1": [1.0]}
    ).assign(equity_2=1.0)
    config = load_config()
    got = summarize(config, config.instruments, trades, fills, equity)
    want = pandas_summary_counts(trades, fills)
    assert same(
        {k: got[k] for k in want if not isinstance(k, int)},
        {k: v for k, v in want.items() if not isinstance(k, int)},
    )
    for i in range(3):
        basket = got["baskets"][i]
        assert same({k: basket[k] for k in want[i]}, want[i])


@settings(max_examples=80, deadline=None)
@given(equity=steps(), how=st.sampled_from(["last", "max", "min"]))
def test_the_reports_daily_points_match_the_groupby_form(equity, how):
    from twotier.report import series

    want = equity.groupby("trading_day", sort=True)["pv"].agg(how)
    pd.testing.assert_series_equal(series.by_day(equity, "pv", how), want)
    ends = metrics.DayEnds.of(equity)
    pd.testing.assert_series_equal(series.by_day(equity, "pv", how, ends), want)
    dd = 1.0 - equity["pv"] / equity["pv"].cummax()
    frame = pd.DataFrame({"trading_day": equity["trading_day"], "dd": dd})
    want_dd = frame.groupby("trading_day", sort=True)["dd"].max()
    pd.testing.assert_series_equal(series.daily_drawdown(equity), want_dd)
    assert series.day_text(want.index) == list(want.index.strftime("%Y-%m-%d"))


@settings(max_examples=80, deadline=None)
@given(
    minutes=st.lists(st.one_of(st.integers(-3 * 1440, 3 * 1440), st.none()), max_size=30),
    zone=st.sampled_from([None, TZ, "UTC"]),
    unit=st.sampled_from(["s", "us", "ns"]),
)
def test_night_steps_match_the_hour_and_minute_form(minutes, zone, unit):
    base = pd.Timestamp("1970-01-01 03:00")  # steps before 1970 too
    times = pd.DatetimeIndex(
        [pd.NaT if m is None else base + pd.Timedelta(minutes=m) for m in minutes]
    ).as_unit(unit)
    times = times.tz_localize(zone) if zone else times
    minute = times.hour * 60 + times.minute
    want = np.asarray((minute >= 18 * 60) | (minute < 6 * 60))
    assert np.array_equal(sessions.night_steps(pd.Series(times)), want)


def test_steps_of_no_day_have_no_daily_values_as_groupby_has_none():
    from twotier.report import series

    equity = pd.DataFrame(
        {"trading_day": pd.Series([], dtype="datetime64[s]"), "pv": pd.Series([], dtype=float)}
    )
    assert metrics.trading_day_count(equity) == equity["trading_day"].nunique() == 0
    assert metrics.daily_values(equity).empty and series.by_day(equity, "pv").empty
