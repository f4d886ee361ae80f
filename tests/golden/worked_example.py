"""The worked example of RULES.md 6, as package tables fed to Tier-2 by hand."""

from __future__ import annotations

import pandas as pd

DAY = "2024-10-25"
TIMES = pd.DatetimeIndex(
    [f"{DAY} {t}" for t in (
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:30", "10:45", "11:00", "11:15",
        "13:30", "13:45", "14:00", "14:15", "14:30", "14:45",
    )],
    tz="Asia/Shanghai",
)  # fmt: skip

# Iron ore: rising without a 2% pull-back from its best close, below +7% until 14:45.
IRON_CLOSES = [765.0, 770.0, 775.0, 780.0, 785.0, 790.0, 795.0, 800.0, 805.0,
               808.0, 810.0, 812.0, 814.0, 816.0, 819.0]  # fmt: skip
# Copper: rising, below 78,305.4 (the short's 2% stop) until the 14:45 close of 78,310.
COPPER_CLOSES = [76500.0, 76600.0, 76770.0, 76900.0, 77000.0, 77100.0, 77250.0, 77400.0,
                 77550.0, 77700.0, 77850.0, 78000.0, 78150.0, 78300.0, 78310.0]  # fmt: skip


def _basket(instrument, closes, entry_bar, signal, confidence, strength, regime):
    rows = []
    for i, (time, close) in enumerate(zip(TIMES, closes, strict=True)):
        active = entry_bar is not None and i >= entry_bar
        rows.append({
            "time": time, "instrument": instrument,
            "signal": signal if active else 0,
            "confidence": confidence if active else 0.0,
            "signal_strength": strength if active else 0.0,
            "regime": regime if active else 3,
            "open": close, "close": close,
        })  # fmt: skip
    return pd.DataFrame(rows)


def packages() -> pd.DataFrame:
    """All three baskets' packages in one table, as a user would write it by hand."""
    return pd.concat(
        [
            _basket("DCE/i", IRON_CLOSES, 0, 1, 0.68, 0.72, 1),
            _basket("SHFE/cu", COPPER_CLOSES, 2, -1, 0.58, 0.45, 2),
            _basket("DCE/m", [2950.0] * 15, None, 0, 0.0, 0.0, 3),
        ],
        ignore_index=True,
    )
