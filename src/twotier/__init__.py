"""twotier: a two-tier trading system for Chinese commodity futures.

Tier-1 turns each instrument's bars into signal packages; Tier-2 sizes, risk-checks and
exits positions across per-instrument baskets.
"""

__version__ = "0.1.0"
