"""Measuring a run: return and risk metrics on trading days, trade statistics."""
