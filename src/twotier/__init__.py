"""twotier: a two-tier trading system for Chinese commodity futures.

Tier-1 turns each instrument's bars into signal packages; Tier-2 sizes, risk-checks and
exits positions across per-instrument baskets.

    import twotier
    result = twotier.backtest(bars={"DCE/i": "i.csv", "SHFE/cu": "cu.csv", "DCE/m": "m.csv"},
                              label="end")
    result.trades, result.equity, result.decisions, result.summary
"""

__version__ = "0.1.0"

_API = {"backtest", "signals", "load_config", "load_run", "Config", "BacktestResult"}


def __getattr__(name: str):
    # The API pulls in pandas and TA-Lib; load it on first use, not on `import twotier`.
    if name in _API:
        from twotier import api

        return getattr(api, name)
    raise AttributeError(f"module 'twotier' has no attribute {name!r}")


__all__ = sorted(_API)
