"""Rolling Sharpe ratio and volatility of daily returns (docs/metrics.md, "Tear sheet"):
how the figures of the whole run moved through it.

A window of 126 trading days (half a year), as quantstats and pyfolio draw theirs; each
window is computed on its own days exactly (two passes, no running sums), so a flat
stretch gives a deviation of exactly 0 (and a Sharpe ratio of 0, as for the whole run).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twotier.analysis.metrics import TRADING_DAYS_PER_YEAR

ROLLING_DAYS = 126


def _windows(returns: pd.Series, window: int) -> np.ndarray:
    values = returns.to_numpy(dtype=float)
    if len(values) < window:
        return np.empty((0, window))
    return np.lib.stride_tricks.sliding_window_view(values, window)


def _series(values: np.ndarray, returns: pd.Series, window: int) -> pd.Series:
    """Values of the windows, indexed by each window's last day."""
    return pd.Series(values, index=returns.index[window - 1 :], dtype=float)


def rolling_volatility(returns: pd.Series, window: int = ROLLING_DAYS) -> pd.Series:
    """Sample standard deviation (ddof 1) of each window's daily returns × √243."""
    windows = _windows(returns, window)
    sd = windows.std(axis=1, ddof=1) if len(windows) else np.empty(0)
    return _series(sd * math.sqrt(TRADING_DAYS_PER_YEAR), returns, window)


def rolling_sharpe(
    returns: pd.Series, risk_free: float = 0.0, window: int = ROLLING_DAYS
) -> pd.Series:
    """Mean over standard deviation of each window's daily excess returns × √243 (0 for
    a window whose deviation is 0)."""
    excess = _windows(returns, window) - risk_free / TRADING_DAYS_PER_YEAR
    if not len(excess):
        return _series(np.empty(0), returns, window)
    mean, sd = excess.mean(axis=1), excess.std(axis=1, ddof=1)
    ratio = np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 0)
    return _series(ratio * math.sqrt(TRADING_DAYS_PER_YEAR), returns, window)
