"""The backtest engine: bars -> Tier-1 -> Tier-2 -> broker -> results."""
