"""TA-Lib indicators of RULES.md section 2, over a whole series or one bar at a time.

``compute(bars)`` is the whole-series form; ``IndicatorStream`` the one-bar-at-a-time
form for live use. They give the same numbers, bit for bit.
"""

from twotier.indicators.params import IndicatorParams
from twotier.indicators.series import COLUMNS, LOOKBACKS, compute
from twotier.indicators.stream import IndicatorStream

__all__ = ["COLUMNS", "LOOKBACKS", "IndicatorParams", "IndicatorStream", "compute"]
