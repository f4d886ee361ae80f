"""Trade statistics (docs/metrics.md, "Trades").

trades.csv holds one row per exit: a position cut by a daily-loss derisk has two rows (the
cut and the rest) under one ``trade_id``. Statistics of *trades* count a position once,
with its rows' net P&L added up (as the run summary's win rate does); the exit-reason
breakdown counts *exits*, each row under its own reason. Rows with reason ``open`` are
positions still open at the end of the run and are left out of both; a derisk cut of such
a position is an exit, but its position is not a closed trade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twotier.analysis.columns import money_total, nan_max, nan_mean

OPEN = "open"


def closed_rows(trades: pd.DataFrame) -> pd.DataFrame:
    """The exits: every row but those of positions still open."""
    return trades[trades["reason"] != OPEN]


def closed_whole(trade_id: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Which rows belong to positions closed whole (none of their rows still open): a
    derisk cut of a position still open is an exit, not a closed trade."""
    return ~np.isin(trade_id, trade_id[reason == OPEN])


def closed_positions(trades: pd.DataFrame) -> pd.DataFrame:
    """The rows of positions closed whole (``closed_whole``)."""
    return trades[closed_whole(trades["trade_id"].to_numpy(), trades["reason"].to_numpy())]


def positions(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per closed position (trade_id), in the order of its last exit: its first
    row's description, the last row's reason and exit, the rows' P&L and fees added up."""
    rows = closed_positions(trades).sort_values(["exit_time", "trade_id"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=[*trades.columns, "exits"])
    grouped = rows.groupby("trade_id", sort=False)
    first, last = grouped.first(), grouped.last()
    out = first.copy()
    for column in ("exit_time", "exit_price", "reason"):
        out[column] = last[column]
    for column in ("gross_pnl", "fees", "net_pnl"):
        out[column] = grouped[column].sum().round(2) + 0.0  # to the cent: see money_total
    out["contracts"] = grouped["contracts"].sum()
    out["exits"] = grouped.size()
    out = out.reset_index().sort_values(["exit_time", "trade_id"], kind="stable")
    return out.reset_index(drop=True)


def longest_streak(flags: np.ndarray) -> int:
    """Length of the longest run of True."""
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def position_totals(trades: pd.DataFrame) -> pd.DataFrame:
    """The money of each closed position (net and gross P&L, fees added over its rows),
    in the order of its last exit: what the statistics need of ``positions``, quickly."""
    money = ["gross_pnl", "fees", "net_pnl"]
    rows = closed_positions(trades[["trade_id", "reason", "exit_time", *money]])  # fewer to take
    rows = rows.sort_values(["exit_time", "trade_id"], kind="stable")
    grouped = rows.groupby("trade_id", sort=False)
    out = grouped[money].sum().round(2) + 0.0  # to the cent: see money_total
    out["last_exit"] = grouped["exit_time"].last()
    out = out.reset_index().sort_values(["last_exit", "trade_id"], kind="stable")
    return out.reset_index(drop=True)


def trade_stats(trades: pd.DataFrame) -> dict:
    """Counts, win rate, profit factor, average win and loss, expectancy and streaks of
    the closed positions; leverage of every position entered (open ones included)."""
    return book_stats(PositionBook.of(trades))


@dataclass(frozen=True)
class Scoped:
    """Values of one kind of row (closed positions, positions entered, trade rows) with
    the basket and side each belongs to."""

    basket: np.ndarray
    side: np.ndarray

    def mask(self, basket: int | None, side: str | None) -> np.ndarray:
        keep = np.ones(len(self.basket), dtype=bool)
        if basket is not None:
            keep &= self.basket == basket
        if side is not None:
            keep &= self.side == side
        return keep


@dataclass(frozen=True)
class PositionBook:
    """What the trade statistics read, grouped once for every scope (the portfolio, a
    basket, a side): the closed positions' money and last exit in the order of their last
    exit (``position_totals``), each position's leverage at entry (its first row, open ones
    included) and whether each row is still open. A position's rows share its basket
    and side, so a scope's positions are the whole book's restricted to it."""

    net: np.ndarray
    gross: np.ndarray
    fees: np.ndarray
    last_exit: pd.api.extensions.ExtensionArray  # each closed position's last exit time
    closed: Scoped
    leverage: np.ndarray
    entered: Scoped
    open_rows: Scoped

    @classmethod
    def of(cls, trades: pd.DataFrame) -> PositionBook:
        done = position_totals(trades)
        # each position's first row (drop_duplicates' rows), read off the columns
        first = ~trades["trade_id"].duplicated().to_numpy()
        rows_of = pd.Index(trades["trade_id"].to_numpy()[first]).get_indexer(done["trade_id"])
        basket, side = _scoped_columns(trades)
        entered = Scoped(basket[first], side[first])
        still = (trades["reason"] == OPEN).to_numpy(dtype=bool)
        return cls(
            net=done["net_pnl"].to_numpy(dtype=float),
            gross=done["gross_pnl"].to_numpy(dtype=float),
            fees=done["fees"].to_numpy(dtype=float),
            last_exit=done["last_exit"].array,  # pandas' own: zone-aware times kept as they are
            closed=Scoped(entered.basket[rows_of], entered.side[rows_of]),
            leverage=trades["effective_leverage"].to_numpy(dtype=float)[first],
            entered=entered,
            open_rows=Scoped(basket[still], side[still]),
        )

    def where(self, basket: int | None = None, side: str | None = None) -> PositionBook:
        """The book of one basket and/or one side."""
        closed = self.closed.mask(basket, side)
        entered = self.entered.mask(basket, side)
        still = self.open_rows.mask(basket, side)
        return PositionBook(
            net=self.net[closed],
            gross=self.gross[closed],
            fees=self.fees[closed],
            last_exit=self.last_exit[closed],
            closed=Scoped(self.closed.basket[closed], self.closed.side[closed]),
            leverage=self.leverage[entered],
            entered=Scoped(self.entered.basket[entered], self.entered.side[entered]),
            open_rows=Scoped(self.open_rows.basket[still], self.open_rows.side[still]),
        )


def _scoped_columns(trades: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The basket and side of each row (None where the table has no such column)."""
    return tuple(
        trades[column].to_numpy(dtype=object)
        if column in trades
        else np.full(len(trades), None, dtype=object)
        for column in ("basket", "side")
    )


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def book_stats(book: PositionBook) -> dict:
    """``trade_stats`` of a book. Its money has no NaN (pandas added each position's
    rows up), so plain numpy sums and means give pandas' figures bit for bit."""
    net = book.net
    wins, losses = net[net > 0], net[net < 0]
    return {
        "trades": len(net),
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": float(np.mean(net > 0)) if len(net) else None,
        # No losing trade: the factor is unbounded and reported as null.
        "profit_factor": float(wins.sum() / -losses.sum()) if len(losses) else None,
        "average_win": _mean(wins),
        "average_loss": _mean(losses),
        "largest_win": float(wins.max()) if len(wins) else None,
        "largest_loss": float(losses.min()) if len(losses) else None,
        "expectancy": _mean(net),
        "longest_winning_streak": longest_streak(net > 0),
        "longest_losing_streak": longest_streak(net < 0),
        "gross_pnl": money_total(book.gross),
        "net_pnl": money_total(net),
        "trade_fees": money_total(book.fees),
        "open_positions": len(book.open_rows.basket),
        "average_effective_leverage": nan_mean(book.leverage),
        "max_effective_leverage": nan_max(book.leverage),
    }


def exit_reasons(trades: pd.DataFrame) -> list[dict]:
    """Per exit reason: exits (rows), the share of them with positive net P&L, their net
    P&L in total and on average. Most frequent first."""
    rows = closed_rows(trades)
    reasons = rows["reason"].to_numpy(dtype=object)
    known = ~pd.isna(reasons)  # as a groupby, rows without a reason are left out
    net_of_all = rows["net_pnl"].to_numpy(dtype=float)
    out = []
    for reason in sorted(set(reasons[known].tolist())):
        net = net_of_all[reasons == reason]  # the group's rows in table order
        out.append(
            {
                "reason": str(reason),
                "count": len(net),
                "win_rate": float(np.mean(net > 0)),
                "net_pnl": money_total(net),
                "average_pnl": nan_mean(net),
            }
        )
    return sorted(out, key=lambda r: (-r["count"], r["reason"]))


SIDES = ("LONG", "SHORT")
SIDE_FIGURES = (
    "trades",
    "wins",
    "losses",
    "win_rate",
    "profit_factor",
    "average_win",
    "average_loss",
    "expectancy",
    "net_pnl",
    "trade_fees",
)


def side_stats(trades: pd.DataFrame) -> list[dict]:
    """The trade statistics of long and of short positions apart."""
    return book_side_stats(PositionBook.of(trades))


def book_side_stats(book: PositionBook) -> list[dict]:
    """``side_stats`` of a book."""
    out = []
    for side in SIDES:
        stats = book_stats(book.where(side=side))
        out.append({"side": side.lower(), **{k: stats[k] for k in SIDE_FIGURES}})
    return out
