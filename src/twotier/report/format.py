"""How a metric is written for people, in the HTML report and in the terminal alike, and
which metrics the summary tables show, in order."""

from __future__ import annotations

from collections.abc import Callable

MISSING = "–"


def pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return MISSING
    return f"{value:+.2%}" if signed else f"{value:.2%}"


def signed_pct(value: float | None) -> str:
    return pct(value, signed=True)


def money(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.2f}"


def ratio(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def times(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}x"


def count(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def text(value) -> str:
    return MISSING if value is None else str(value)


def drawdown_part(part: str) -> Callable[[dict | None], str]:
    """A formatter of one part of the max drawdown details (peak, trough, recovery day,
    trading days)."""

    def show(details: dict | None) -> str:
        if not details or details.get("start") is None:
            return MISSING
        if part == "days":
            return count(details["days"])
        return details[part] or "not recovered"

    return show


def drawdown_period(details: dict | None) -> str:
    """``2023-08-14 to 2024-08-30 (255 d)``: from the peak to the recovery."""
    if not details or details.get("start") is None:
        return MISSING
    if details["recovery"] is None:
        return f"from {details['start']}, not recovered ({details['days']} d)"
    return f"{details['start']} to {details['recovery']} ({details['days']} d)"


Row = tuple[str, str, Callable]

# (label, key in the portfolio / basket metrics, formatter)
RETURN_ROWS: list[Row] = [
    ("final value", "final", money),
    ("total return", "total_return", signed_pct),
    ("annual return", "annual_return", signed_pct),
    ("volatility", "volatility", pct),
    ("Sharpe", "sharpe", ratio),
    ("Sortino", "sortino", ratio),
    ("Calmar", "calmar", ratio),
    ("max drawdown", "max_drawdown", pct),
    ("max drawdown peak", "max_drawdown_details", drawdown_part("start")),
    ("max drawdown trough", "max_drawdown_details", drawdown_part("trough")),
    ("max drawdown recovery", "max_drawdown_details", drawdown_part("recovery")),
    ("max drawdown length (days)", "max_drawdown_details", drawdown_part("days")),
    ("longest drawdown (days)", "longest_drawdown_days", count),
    ("best day", "best_day", signed_pct),
    ("worst day", "worst_day", signed_pct),
]
TRADE_ROWS: list[Row] = [
    ("trades", "trades", count),
    ("win rate", "win_rate", pct),
    ("profit factor", "profit_factor", ratio),
    ("average win", "average_win", money),
    ("average loss", "average_loss", money),
    ("expectancy per trade", "expectancy", money),
    ("longest winning streak", "longest_winning_streak", count),
    ("longest losing streak", "longest_losing_streak", count),
    ("open positions at end", "open_positions", count),
]
ACTIVITY_ROWS: list[Row] = [
    ("time in market", "time_in_market", pct),
    ("average effective leverage", "average_effective_leverage", times),
    ("max effective leverage", "max_effective_leverage", times),
    ("turnover per year", "turnover", times),
    ("fees", "fees", money),
    ("slippage", "slippage", money),
]
PORTFOLIO_ONLY_ROWS: list[Row] = [
    ("average exposure", "average_exposure", pct),
    ("max exposure", "max_exposure", pct),
    ("average portfolio leverage in market", "average_leverage", times),
    ("max portfolio leverage", "max_leverage", times),
]
METRIC_ROWS: list[Row] = [*RETURN_ROWS, *TRADE_ROWS, *ACTIVITY_ROWS, *PORTFOLIO_ONLY_ROWS]
BENCHMARK_ROWS: list[Row] = [
    ("total return", "total_return", signed_pct),
    ("annual return", "annual_return", signed_pct),
    ("volatility", "volatility", pct),
    ("Sharpe", "sharpe", ratio),
    ("Sortino", "sortino", ratio),
    ("Calmar", "calmar", ratio),
    ("max drawdown", "max_drawdown", pct),
]
# The lines of the terminal summary and of `twotier compare`.
KEY_ROWS: list[Row] = [
    *RETURN_ROWS[0:8],
    ("max drawdown period", "max_drawdown_details", drawdown_period),
    TRADE_ROWS[0],
    TRADE_ROWS[1],
    TRADE_ROWS[2],
    TRADE_ROWS[5],
    ACTIVITY_ROWS[0],
    ACTIVITY_ROWS[1],
    ACTIVITY_ROWS[4],
    ACTIVITY_ROWS[5],
]


def cell(metrics: dict, key: str, formatter: Callable) -> str:
    return formatter(metrics.get(key)) if key in metrics else MISSING


def basket_name(basket: dict) -> str:
    return f"{basket['basket']} {basket['instrument']}"


# What the market rules did (RULES.md 10.5): label, key of metrics["market"], format.
MARKET_ROWS = (
    ("entries cancelled (not filled)", "entries_cancelled", count),
    ("entries cut (filled in part)", "entries_cut", count),
    ("exits and rolls that waited", "exits_delayed", count),
    ("bars waited, in all", "bars_waited", count),
    ("forced liquidations", "forced_liquidations", count),
    ("largest risk degree (margin / PV)", "max_risk_degree", pct),
)
