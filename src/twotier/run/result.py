"""A finished run as tables and a summary."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from twotier.analysis.columns import money_total
from twotier.analysis.trades import closed_positions, closed_whole
from twotier.config.model import Config
from twotier.market.calendar import TIMEZONE

TRADE_COLUMNS = (
    "trade_id",
    "basket",
    "instrument",
    "entry_contract",
    "contract",
    "side",
    "contracts",
    "entry_time",
    "entry_price",
    "entry_price_kind",
    "exit_time",
    "exit_price",
    "exit_price_kind",
    "exit_decided_at",
    "tier",
    "conviction",
    "size_fraction",
    "leverage",
    "effective_leverage",
    "committed",
    "stop",
    "target",
    "reason",
    "return_pct",
    "gross_pnl",
    "fees",
    "net_pnl",
)
FILL_COLUMNS = (
    "time",
    "trading_day",
    "basket",
    "instrument",
    "contract",
    "side",
    "contracts",
    "price",
    "price_kind",
    "slippage",
    "fee",
    "close_today",
    "opens",
    "reason",
    "decided_at",
)


@dataclass
class BacktestResult:
    """Everything a run produced. Tables are pandas DataFrames; ``summary`` is a dict."""

    config: Config
    packages: dict[str, pd.DataFrame]
    trades: pd.DataFrame
    fills: pd.DataFrame
    equity: pd.DataFrame
    decisions: pd.DataFrame
    summary: dict
    warnings: list[str] = field(default_factory=list)
    # packages given to Tier-2 alone: the generator and parameters that made them
    # (``tier1.package.package_origins``); empty where the run's own Tier-1 made them
    package_origins: dict[str, tuple[str, dict]] = field(default_factory=dict)

    @property
    def closed_trades(self) -> pd.DataFrame:
        """The rows of positions closed whole (docs/metrics.md)."""
        return closed_positions(self.trades)

    @property
    def metrics(self) -> dict:
        """Every metric of docs/metrics.md at a risk-free rate of 0 (``compute_metrics``
        for another rate)."""
        return self.compute_metrics()

    def compute_metrics(self, risk_free: float = 0.0) -> dict:
        """The metrics at a yearly risk-free rate (0.02 = 2%); computed once per rate (on
        the tables as they were then: a result is a record, not a worksheet), and given
        out as a copy, so that changing one changes neither the result nor its report."""
        from twotier.analysis.metrics import yearly_rate

        risk_free = yearly_rate(risk_free)
        cache = self.__dict__.setdefault("_metrics_by_rate", {})
        if risk_free not in cache:
            from twotier.analysis.summary import compute_metrics

            cache[risk_free] = compute_metrics(self, risk_free)
        return _copied(cache[risk_free])

    def report(self, path: str | Path, risk_free: float = 0.0) -> Path:
        """Write the HTML report (docs/report.md) to ``path``."""
        from twotier.report.run_report import write_report

        return write_report(self, path, self.compute_metrics(risk_free))

    def _repr_html_(self) -> str:
        """A compact summary for notebooks."""
        from twotier.report.notebook import summary_html

        return summary_html(self, self.metrics)


TIME_COLUMNS = frozenset({"time", "entry_time", "exit_time", "exit_decided_at", "decided_at"})


def frame(
    rows: list[dict], columns: tuple[str, ...], made: dict[str, list] | None = None
) -> pd.DataFrame:
    """Rows as a table (``table``); ``made``: columns made already, taken instead of the
    rows' values."""
    made = made or {}
    return table({c: made[c] if c in made else list(map(itemgetter(c), rows)) for c in columns})


def table(data: dict[str, list]) -> pd.DataFrame:
    """Columns of values as a table; time columns, nanoseconds since the epoch, become
    Timestamps in exchange time in one conversion per column."""
    converted = {
        column: timestamps(values) if column in TIME_COLUMNS and values else values
        for column, values in data.items()
    }
    return pd.DataFrame(converted, columns=list(data))


def timestamps(values: list[int]) -> pd.DatetimeIndex:
    """Nanoseconds since the epoch as a DatetimeIndex in exchange time."""
    ns = np.fromiter(values, dtype=np.int64, count=len(values))
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)


class DecisionColumns(NamedTuple):
    """The decision table's times (nanoseconds since the epoch), kinds and reasons as
    lists: a run's are the journal's own, which the market counts read at a fraction of
    the cost of the table's Arrow-backed strings."""

    time: list[int]
    kind: list[str]
    reason: list[str]

    @classmethod
    def of(cls, decisions: pd.DataFrame) -> DecisionColumns:
        times = pd.DatetimeIndex(decisions["time"]).as_unit("ns").asi8.tolist()
        return cls(times, decisions["kind"].tolist(), decisions["reason"].astype(str).tolist())


def summarize(
    config: Config,
    instruments: list[str],
    trades: pd.DataFrame,
    fills: pd.DataFrame,
    equity: pd.DataFrame,
    decisions: pd.DataFrame | DecisionColumns | None = None,
    waiting: Sequence[tuple] = (),
) -> dict:
    """The headline figures (docs/run-folder.md). ``gross_pnl`` and ``fees`` count the
    same trades, those still open at the end included (marked at the last close, with the
    fees paid so far), so that final_pv = initial_capital + gross_pnl - fees.
    ``waiting``: the closes (and rolls) that had waited and still waited at the data's
    end, as (basket, decided, reason): a close's decision as nanoseconds since the epoch
    (``composite.waiting``). ``decisions``: the decision table, or its columns as the
    journal's lists (``DecisionColumns``), for the market counts.

    Computed on the columns' arrays: filtering the whole tables by basket took a few
    percent of a sweep's Tier-2. The sums are pandas' (NaN skipped, numpy's pairwise
    order)."""
    initial = float(config.portfolio.initial_capital)
    t = _TradeColumns(trades)
    fee, fill_basket = fills["fee"].to_numpy(), fills["basket"].to_numpy()
    final_pv = float(equity["pv"].iloc[-1]) if len(equity) else initial
    summary = {
        "initial_capital": initial,
        "final_pv": final_pv,
        "total_return": final_pv / initial - 1,
        "max_drawdown": float(equity["drawdown"].max()) if len(equity) else 0.0,
        "trades": t.count(t.done),
        "win_rate": t.win_rate(t.done),
        "gross_pnl": money_total(t.gross),
        "fees": money_total(fee),
        "open_positions": int(np.count_nonzero(~t.closed)),
        "open_pnl": money_total(t.gross[~t.closed]),
        "start": str(equity["time"].iloc[0]) if len(equity) else None,
        "end": str(equity["time"].iloc[-1]) if len(equity) else None,
        "steps": len(equity),
        "baskets": [],
    }
    if config.market.any and decisions is not None:  # RULES.md 10.5: with the rules on only
        summary["market"] = market_counts(fills, equity, decisions, waiting)
    for i, instrument in enumerate(instruments):
        rows = t.basket == i
        mine = rows & t.done
        column = f"equity_{i}"
        start = float(config.portfolio.basket_capital(i))
        end = float(equity[column].iloc[-1]) if len(equity) else start
        summary["baskets"].append(
            {
                "basket": i,
                "instrument": instrument,
                "initial_equity": start,  # whole cents (basket_capital)
                "final_equity": end,
                "return": end / start - 1 if start else 0.0,
                "trades": t.count(mine),
                "win_rate": t.win_rate(mine),
                "gross_pnl": money_total(t.gross[rows]),
                "fees": money_total(fee[fill_basket == i]),
            }
        )
    return summary


class _TradeColumns:
    """The trade table's columns that the summary reads, as arrays."""

    def __init__(self, trades: pd.DataFrame):
        self.closed = trades["reason"].to_numpy() != "open"
        self.basket = trades["basket"].to_numpy()
        self.gross = trades["gross_pnl"].to_numpy()
        self.trade_id = trades["trade_id"].to_numpy()
        self.done = closed_whole(self.trade_id, trades["reason"].to_numpy())
        self.net = trades["net_pnl"].to_numpy()

    def count(self, rows: np.ndarray) -> int:
        """Distinct trades among the rows (a derisk cut splits a trade into rows)."""
        return len(np.unique(self.trade_id[rows]))

    def win_rate(self, rows: np.ndarray) -> float | None:
        """The share of the rows' trades whose net P&L, summed over a trade's rows to the
        cent, is positive; None without trades."""
        ids, net = self.trade_id[rows], self.net[rows]
        if len(ids) == 0:
            return None
        _, first, count = np.unique(ids, return_index=True, return_counts=True)
        won = net[first] > 0
        if (count > 1).any():  # a trade of several rows: +0.10 +0.20 -0.30 is not a win
            won = pd.Series(net).groupby(ids).sum().round(2).to_numpy() > 0
        return float(np.mean(won))


def market_counts(
    fills: pd.DataFrame,
    equity: pd.DataFrame,
    decisions: pd.DataFrame | DecisionColumns,
    waiting=(),
) -> dict:
    """What the market rules did (RULES.md 10.5): entries cancelled (not filled at all)
    and cut (filled in part), exits (and rolls) that waited and the bars they waited in
    all, forced liquidations, the largest risk degree reached."""
    if isinstance(decisions, pd.DataFrame):
        decisions = DecisionColumns.of(decisions)
    reasons = Counter(decisions.reason)  # a few dozen distinct reasons
    none = pd.Series([], dtype=float)
    risk = equity["risk_degree"] if "risk_degree" in equity.columns else none
    return {
        "entries_cancelled": sum(n for reason, n in reasons.items()
                                 if reason.startswith("entry_unfilled_")
                                 or reason == "entry_rejected"),
        "entries_cut": sum(n for reason, n in reasons.items()
                           if reason.startswith("entry_cut_")),
        "exits_delayed": _exits_delayed(fills, waiting),
        "bars_waited": decisions.kind.count("WAIT"),
        # the decisions scanned only where a liquidation was decided
        "forced_liquidations": _liquidations(decisions) if reasons["forced_liquidation"] else 0,
        # JSON has no infinity: null where PV fell to 0 or below (RULES.md 10.6 item 12).
        "max_risk_degree": _finite(float(risk.max())) if len(risk) else None,
    }  # fmt: skip


def _liquidations(decisions: DecisionColumns) -> int:
    """Forced liquidations that closed something: one time of the closes each decided (a
    ruined book with nothing left to close still fires, and halts entries)."""
    return len(
        {
            time
            for time, kind, reason in zip(*decisions, strict=True)
            if kind == "CLOSE" and reason == "forced_liquidation"
        }
    )


def _exits_delayed(fills: pd.DataFrame, waiting=()) -> int:
    """Closes (and rolls) that waited at least one bar, each counted once: a close the
    participation cap split fills in parts, all of one decision (basket, decided_at,
    reason); one still waiting at the data's end counts too (``waiting``: decisions as
    nanoseconds). The closing rows are taken from each column (filtering the table costs
    more)."""
    delayed = set(waiting)
    if "bars_waited" in fills.columns and len(fills):
        waited = fills["bars_waited"].to_numpy() > 0
        rows = np.flatnonzero(~fills["opens"].to_numpy(dtype=bool) & waited)
        if not len(rows):
            return len(delayed)
        decided = pd.DatetimeIndex(fills["decided_at"].take(rows)).as_unit("ns").asi8.tolist()
        baskets, reasons = fills["basket"].take(rows).tolist(), fills["reason"].take(rows).tolist()
        delayed.update(zip(baskets, decided, reasons, strict=True))
    return len(delayed)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _copied(value):
    """A copy of plain JSON-like metrics (``json_text.plain``: dicts, lists and values
    that do not change), as ``copy.deepcopy`` makes it at a third of its cost: nothing in
    them is shared to be kept shared, and their values are immutable."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value
