"""The report's trades table: one row per trades.csv row, cells as people read them."""

from __future__ import annotations

import pandas as pd

from twotier.report.tables import trades_table

TZ = "Asia/Shanghai"


def trades() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trade_id": [1, 2],
            "basket": [0, 1],
            "instrument": ["DCE/i", "SHFE/cu"],
            "side": ["LONG", "SHORT"],
            "tier": ["STRONG", None],
            "contracts": [3, 1200],
            "entry_time": pd.to_datetime(["2024-03-04 21:15", "2024-03-05 09:00"]).tz_localize(TZ),
            "entry_price": [801.5, 70000.0],
            "exit_time": pd.to_datetime(["2024-03-05 14:45", None]).tz_localize(TZ),
            "exit_price": [790.0, float("nan")],
            "leverage": [2.0, 1.5],
            "effective_leverage": [1.8, float("nan")],
            "reason": ["stop <2% & more>", "open"],
            "return_pct": [-0.0143, 0.0],
            "net_pnl": [-3450.5, 0.0],
        }
    )


def cells(html: str, row: int) -> list[str]:
    body = html.split("<tbody>")[1]
    return body.split("<tr")[row + 1].split("<td")[1:]


def test_times_are_local_minutes_and_an_open_trade_has_no_exit():
    html = trades_table(trades())
    first, second = cells(html, 0), cells(html, 1)
    assert first[5] == ">2024-03-04 21:15</td>"
    assert first[7] == ">2024-03-05 14:45</td>"
    assert second[7] == ">–</td>"
    assert second[8] == ' class="n">–</td>'


def test_text_is_escaped_and_money_signed():
    html = trades_table(trades())
    first, second = cells(html, 0), cells(html, 1)
    assert first[12] == ' class="reason">stop &lt;2% &amp; more&gt;</td>'
    assert first[14] == ' class="n neg">-3,450.50</td>'
    assert second[14] == ' class="n">0.00</td>'
    assert second[4] == ' class="n">1,200</td>'
    assert second[3] == ">–</td>"  # no tier
    assert 'data-reason="stop &lt;2% &amp; more&gt;"' in html
