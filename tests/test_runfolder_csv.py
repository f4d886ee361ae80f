"""How the run folder writes its CSV files: exchange time without the zone, money to the
cent, other floats to 10 significant digits, every kind of missing value as an empty
field, and text quoted only where CSV needs it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twotier.run.writer import _csv_text


def test_csv_formats_times_money_floats_and_leaves_missing_values_empty():
    frame = pd.DataFrame(
        {
            "time": pd.DatetimeIndex(
                ["2024-01-02 01:00:00", None], dtype="datetime64[ns]"
            ).tz_localize("Asia/Shanghai"),
            "trading_day": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "pv": [1_000_000.004, 999_999.994],
            "equity_0": [300_000.5, np.nan],
            "leverage": [1 / 3, np.nan],
            "contracts": [3, -2],
            "basket": pd.array([1, None], dtype="Int64"),
            "open": [True, False],
            "reason": ["stop_loss_2pct", None],
            "text": ["a, b", ""],
        }
    )
    assert _csv_text(frame).splitlines() == [
        "time,trading_day,pv,equity_0,leverage,contracts,basket,open,reason,text",
        "2024-01-02 01:00:00,2024-01-02,1000000.00,300000.50,0.3333333333,3,1,True,"
        'stop_loss_2pct,"a, b"',
        ",2024-01-03,999999.99,,,-2,,False,,",
    ]


def test_csv_of_an_empty_table_is_its_header():
    frame = pd.DataFrame({"time": pd.DatetimeIndex([], tz="Asia/Shanghai"), "pv": []})
    assert _csv_text(frame) == "time,pv\n"
