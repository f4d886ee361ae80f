"""Trade statistics (docs/metrics.md, "Trades").

trades.csv holds one row per exit: a position cut by a daily-loss derisk has two rows (the
cut and the rest) under one ``trade_id``. Statistics of *trades* count a position once,
with its rows' net P&L added up (as the run summary's win rate does); the exit-reason
breakdown counts *exits*, each row under its own reason. Rows with reason ``open`` are
positions still open at the end of the run and are left out of both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OPEN = "open"


def closed_rows(trades: pd.DataFrame) -> pd.DataFrame:
    return trades[trades["reason"] != OPEN]


def positions(trades: pd.DataFrame) -> pd.DataFrame:
    """One row per closed position (trade_id), in the order of its last exit: its first
    row's description, the last row's reason and exit, the rows' P&L and fees added up."""
    rows = closed_rows(trades).sort_values(["exit_time", "trade_id"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=[*trades.columns, "exits"])
    grouped = rows.groupby("trade_id", sort=False)
    first, last = grouped.first(), grouped.last()
    out = first.copy()
    for column in ("exit_time", "exit_price", "reason"):
        out[column] = last[column]
    for column in ("gross_pnl", "fees", "net_pnl", "contracts"):
        out[column] = grouped[column].sum()
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


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) else None


def position_totals(trades: pd.DataFrame) -> pd.DataFrame:
    """The money of each closed position (net and gross P&L, fees added over its rows),
    in the order of its last exit: what the statistics need of ``positions``, quickly."""
    money = ["gross_pnl", "fees", "net_pnl"]
    rows = closed_rows(trades)[["trade_id", "exit_time", *money]]
    rows = rows.sort_values(["exit_time", "trade_id"], kind="stable")
    grouped = rows.groupby("trade_id", sort=False)
    out = grouped[money].sum()
    out["last_exit"] = grouped["exit_time"].last()
    out = out.reset_index().sort_values(["last_exit", "trade_id"], kind="stable")
    return out.reset_index(drop=True)


def trade_stats(trades: pd.DataFrame) -> dict:
    """Counts, win rate, profit factor, average win and loss, expectancy and streaks of
    the closed positions; leverage of every position entered (open ones included)."""
    done = position_totals(trades)
    net = done["net_pnl"].astype(float)
    wins, losses = net[net > 0], net[net < 0]
    entered = trades.drop_duplicates("trade_id")["effective_leverage"].astype(float)
    return {
        "trades": len(done),
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
        "longest_winning_streak": longest_streak((net > 0).to_numpy()),
        "longest_losing_streak": longest_streak((net < 0).to_numpy()),
        "gross_pnl": float(done["gross_pnl"].sum()),
        "net_pnl": float(net.sum()),
        "trade_fees": float(done["fees"].sum()),
        "open_positions": int((trades["reason"] == OPEN).sum()),
        "average_effective_leverage": _mean(entered),
        "max_effective_leverage": float(entered.max()) if len(entered) else None,
    }


def exit_reasons(trades: pd.DataFrame) -> list[dict]:
    """Per exit reason: exits (rows), the share of them with positive net P&L, their net
    P&L in total and on average. Most frequent first."""
    rows = closed_rows(trades)
    out = []
    for reason, group in rows.groupby("reason", sort=True):
        net = group["net_pnl"].astype(float)
        out.append(
            {
                "reason": str(reason),
                "count": len(group),
                "win_rate": float(np.mean(net > 0)),
                "net_pnl": float(net.sum()),
                "average_pnl": float(net.mean()),
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
    out = []
    for side in SIDES:
        stats = trade_stats(trades[trades["side"] == side])
        out.append({"side": side.lower(), **{k: stats[k] for k in SIDE_FIGURES}})
    return out
