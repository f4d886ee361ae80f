"""Every metric of a run in one JSON-ready dict (written as metrics.json, shown in the
report and the terminal). The formulas are in docs/metrics.md.

    {"risk_free", "period", "portfolio", "baskets": [...], "exit_reasons": [...],
     "monthly_returns": [...], "annual_returns": {...}, "drawdowns": [...],
     "benchmarks": [...], "signals": [...], "sides": [...], "sessions": [...],
     "holding": {...}, "triggers": [...]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd

from twotier.analysis import (
    activity,
    benchmarks,
    drawdowns,
    excursions,
    metrics,
    periods,
    sessions,
    signals,
    trades,
    triggers,
)
from twotier.config.model import Config
from twotier.json_text import plain

Made = TypeVar("Made")

TOP_DRAWDOWNS = 5


class RunTables(Protocol):
    """What the metrics read: a BacktestResult or a run folder loaded back."""

    config: Config
    packages: dict[str, pd.DataFrame]
    trades: pd.DataFrame
    fills: pd.DataFrame
    equity: pd.DataFrame
    decisions: pd.DataFrame


def instrument_multipliers(config: Config) -> dict[str, float]:
    """Contract multipliers of the basket instruments (shipped or configured specs)."""
    from twotier.engine.inputs import Environment

    registry = Environment.from_config(config).instruments
    return {key: float(registry[key].multiplier) for key in config.instruments}


def value_metrics(
    equity: pd.DataFrame,
    column: str,
    initial: float,
    risk_free: float = 0.0,
    ends: metrics.DayEnds | None = None,
) -> dict:
    """Return and risk of one value column (``pv`` or ``equity_i``) on trading days
    (``ends``: the steps' ``DayEnds``, where already found)."""
    returns = metrics.daily_returns(equity, initial, column, ends)
    found = drawdowns.episodes(equity[column], equity["trading_day"], ends)
    return _value_figures(equity[column], initial, returns, found, risk_free)


def _value_figures(
    values: pd.Series,
    initial: float,
    returns: pd.Series,
    found: drawdowns.Episodes,
    risk_free: float,
) -> dict:
    """``value_metrics`` of the values' daily returns and drawdown episodes."""
    final = float(values.iloc[-1])
    return {
        "initial": initial,
        "final": final,
        **metrics.return_and_risk(returns, final, initial, found.max_drawdown, risk_free),
        "max_drawdown_details": found.deepest_details(),
        "longest_drawdown_days": found.longest_days(),
        "best_day": float(returns.max()),
        "worst_day": float(returns.min()),
        "positive_days": float(np.mean(returns > 0)),
    }


def _costs(fills: activity.FillCosts, average: float, days: int):
    return {
        "fees": fills.fees(),
        "slippage": fills.slippage_paid(),
        "turnover": fills.annual_turnover(average, days),
    }


def fill_costs(run: RunTables, multipliers: Mapping[str, float]) -> activity.FillCosts:
    """The run's ``FillCosts``, made once per run object (and multipliers) and kept on
    it, as ``day_ends`` is: the portfolio and each basket read their costs off them."""
    kept = getattr(run, "__dict__", {})
    key = tuple(sorted(multipliers.items()))
    found = kept.get("_fill_costs")
    if found is None or found[0] != key:
        found = kept["_fill_costs"] = (key, activity.FillCosts.of(run.fills, multipliers))
    return found[1]


def position_book(run: RunTables) -> trades.PositionBook:
    """The run's ``trades.PositionBook``, made once per run object and kept on it, as
    ``day_ends`` is: the metrics' figures and the report's tear sheet read it."""
    return kept_on(run, "_position_book", lambda: trades.PositionBook.of(run.trades))


def portfolio_metrics(
    run: RunTables, book: trades.PositionBook, multipliers, risk_free: float
) -> dict:
    initial = float(run.config.portfolio.initial_capital)
    equity, ends = run.equity, day_ends(run)
    days = metrics.trading_day_count(equity, ends)
    returns, found = pv_series(run)
    return {
        **_value_figures(equity["pv"], initial, returns, found, risk_free),
        "time_in_market": activity.time_in_market(equity["active_positions"]),
        **activity.exposure_stats(equity),
        **_costs(fill_costs(run, multipliers), float(equity["pv"].mean()), days),
        **trades.book_stats(book),
    }


def basket_metrics(
    run: RunTables, book: trades.PositionBook, i: int, multipliers, risk_free: float
) -> dict:
    config, equity = run.config, run.equity
    basket = config.portfolio.baskets[i]
    initial = float(config.portfolio.basket_capital(i))
    column = f"equity_{i}"
    fills = fill_costs(run, multipliers).where(run.fills["basket"].to_numpy() == i)
    ends = day_ends(run)
    days = metrics.trading_day_count(equity, ends)
    return {
        "basket": i,
        "instrument": basket.instrument,
        **value_metrics(equity, column, initial, risk_free, ends),
        "time_in_market": activity.time_in_market(equity[f"position_{i}"]),
        **_costs(fills, float(equity[column].mean()), days),
        **trades.book_stats(book.where(basket=i)),
    }


def compute_metrics(run: RunTables, risk_free: float = 0.0) -> dict:
    """All metrics of a run; ``risk_free`` is a yearly rate (0.02 = 2%)."""
    equity = run.equity
    if equity.empty:
        raise ValueError("a run without steps has no metrics")
    try:
        multipliers = instrument_multipliers(run.config)
    except Exception:  # an instruments file that is gone: no multipliers, no notional
        multipliers = {}
    daily, deepest = pv_series(run)
    annual = periods.annual_returns(daily)
    book = position_book(run)  # the trades grouped once for every scope
    derived = derived_tables(run)
    bars = derived.bars
    result = {
        "risk_free": risk_free,
        "trading_days_per_year": metrics.TRADING_DAYS_PER_YEAR,
        "period": _period(equity, day_ends(run)),
        "portfolio": portfolio_metrics(run, book, multipliers, risk_free),
        "baskets": [
            basket_metrics(run, book, i, multipliers, risk_free)
            for i in range(len(run.config.portfolio.baskets))
        ],
        "exit_reasons": trades.exit_reasons(run.trades),
        "monthly_returns": periods.monthly_rows(daily),
        "annual_returns": {str(year): float(r) for year, r in annual.items()},
        "drawdowns": [d.as_dict() for d in deepest.first(TOP_DRAWDOWNS)],
        "benchmarks": _benchmarks(run, derived, risk_free),
        "signals": _signal_quality(run, bars),
        "sides": _sides(run, book),
        "sessions": _sessions(run),
        "holding": excursions.holding_summary(derived.moves),
        "triggers": [
            {"instrument": instrument, **triggers.outcome_counts(table)}
            for instrument, table in derived.triggers.items()
        ],
    }
    market = getattr(run, "summary", {}).get("market")
    if market is not None:  # what the market rules did (RULES.md 10.5)
        result["market"] = market
    return plain(result)


def _period(equity: pd.DataFrame, ends: metrics.DayEnds) -> dict:
    days = pd.DatetimeIndex(equity["trading_day"])
    return {
        "start": days[0].strftime("%Y-%m-%d"),
        "end": days[-1].strftime("%Y-%m-%d"),
        "trading_days": metrics.trading_day_count(equity, ends),
        "steps": len(equity),
    }


@dataclass(frozen=True)
class DerivedTables:
    """What both the metrics and the report derive from a run's tables: each
    instrument's packages of the run's steps (``bars_in_run``), its triggers with what
    Tier-2 did with them (``trigger_tables``) and the positions' excursions
    (``excursions.excursions``); ``steps``: the row of each of an instrument's bars
    among the steps; ``closes``: the first close and the daily closes of holding each
    instrument (``benchmarks.held_closes``: its buy and hold, in the metrics and in the
    equity chart)."""

    bars: dict[str, pd.DataFrame]
    triggers: dict[str, pd.DataFrame]
    moves: pd.DataFrame
    steps: dict[str, np.ndarray]
    closes: dict[str, tuple[float, pd.Series]]


def derived_tables(run: RunTables) -> DerivedTables:
    """The run's derived tables, made once per run object and kept on it (as
    ``BacktestResult.compute_metrics`` keeps the metrics): a run's tables are not changed
    once made, and making these twice cost the ten-year run folder about 45 ms."""
    return kept_on(run, "_derived_tables", lambda: _derived(run))


def _derived(run: RunTables) -> DerivedTables:
    steps: dict[str, np.ndarray] = {}
    bars = bars_in_run(run, steps)
    return DerivedTables(
        bars,
        trigger_tables(run, bars),
        excursions.excursions(run.trades, run.packages, run.equity, bars),
        steps,
        {k: benchmarks.held_closes(mine) for k, mine in bars.items() if not mine.empty},
    )


def day_ends(run: RunTables) -> metrics.DayEnds:
    """Where each trading day of the run's steps ends (``metrics.DayEnds``), found once per
    run object and kept on it, as ``derived_tables`` are: its metrics and report read
    twenty daily series off the same steps."""
    return kept_on(run, "_day_ends", lambda: metrics.DayEnds.of(run.equity))


def kept_on(run: RunTables, name: str, make: Callable[[], Made]) -> Made:
    """``make()``, made once per run object and kept on it as ``name``: a run's tables
    are not changed once made (a run object without attributes of its own keeps nothing:
    it is made each time)."""
    kept = getattr(run, "__dict__", {})
    made = kept.get(name)
    if made is None:
        made = kept[name] = make()
    return made


def pv_series(run: RunTables) -> tuple[pd.Series, drawdowns.Episodes]:
    """The PV's daily returns and drawdown episodes, made once per run object and kept
    on it, as ``day_ends`` is: the portfolio's figures, the monthly and annual returns
    and the top drawdowns read them."""
    return kept_on(run, "_pv_series", lambda: _pv_series(run))


def _pv_series(run: RunTables) -> tuple[pd.Series, drawdowns.Episodes]:
    initial = float(run.config.portfolio.initial_capital)
    equity, ends = run.equity, day_ends(run)
    return (
        metrics.daily_returns(equity, initial, ends=ends),
        drawdowns.episodes(equity["pv"], equity["trading_day"], ends),
    )


def bars_in_run(
    run: RunTables, rows: dict[str, np.ndarray] | None = None
) -> dict[str, pd.DataFrame]:
    """Each instrument's packages of the run's steps (``benchmarks.in_run``), for the
    instruments with packages; ``rows``, where given, receives the row of each of an
    instrument's bars among the steps."""
    out, steps = {}, benchmarks.step_times(run.equity)
    rows = {} if rows is None else rows
    for instrument in dict.fromkeys(run.config.instruments):
        packages = run.packages.get(instrument)
        if packages is not None and not packages.empty:
            out[instrument], rows[instrument] = benchmarks.placed(packages, run.equity, steps)
    return out


def step_minutes(run: RunTables) -> np.ndarray:
    """The wall-clock minute of each step (``sessions.wall_minutes``), found once per
    run object and kept on it, as ``day_ends`` is: the sessions' P&L and the signal
    views' bars (a subset of the steps) read it."""
    return kept_on(run, "_step_minutes", lambda: sessions.wall_minutes(run.equity["time"]))


def _benchmarks(run: RunTables, derived: DerivedTables, risk_free: float) -> list[dict]:
    out = []
    for instrument in run.config.instruments:
        mine, closes = derived.bars.get(instrument), derived.closes.get(instrument)
        held = None if mine is None else benchmarks.buy_and_hold_of(mine, risk_free, closes)
        if held is not None:
            out.append({"instrument": instrument, **held})
    return out


def _signal_quality(run: RunTables, bars: dict[str, pd.DataFrame]) -> list[dict]:
    return [
        {"instrument": instrument, **signals.signal_quality(bars[instrument])}
        for instrument in run.config.instruments
        if instrument in bars
    ]


def _sides(run: RunTables, book: trades.PositionBook) -> list[dict]:
    """Long against short, for the portfolio (basket null) and each basket."""
    scopes = [(None, "portfolio", book)] + [
        (i, b.instrument, book.where(basket=i)) for i, b in enumerate(run.config.portfolio.baskets)
    ]
    return [
        {"basket": i, "instrument": name, **row}
        for i, name, mine in scopes
        for row in trades.book_side_stats(mine)
    ]


def _sessions(run: RunTables) -> list[dict]:
    """Day against night session P&L, for the portfolio (basket null) and each basket."""
    initial = float(run.config.portfolio.initial_capital)
    night = sessions.night_at(step_minutes(run))
    rows = [
        {
            "basket": None,
            "instrument": "portfolio",
            **sessions.session_pnl(run.equity, "pv", initial, night),
        }
    ]
    for i, basket in enumerate(run.config.portfolio.baskets):
        start = float(run.config.portfolio.basket_capital(i))
        split = sessions.session_pnl(run.equity, f"equity_{i}", start, night)
        rows.append({"basket": i, "instrument": basket.instrument, **split})
    return rows


def trigger_tables(
    run: RunTables, bars: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    """Each instrument's triggers with what Tier-2 did with them (``analysis.triggers``);
    ``bars``: ``bars_in_run(run)`` where already made."""
    bars = bars_in_run(run) if bars is None else bars
    log = triggers.RunLog(run.trades, run.decisions)  # read once for every instrument
    out = {}
    for instrument, mine in bars.items():
        baskets = [i for i, k in enumerate(run.config.instruments) if k == instrument]
        out[instrument] = triggers.outcomes(mine, log, run.config, baskets)
    return out
