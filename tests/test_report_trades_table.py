"""The report's trades table: one row per trades.csv row, cells as people read them."""

from __future__ import annotations

import pandas as pd
import pytest

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


CELLS = [  # (row, column, the cell after "<td", what it shows)
    (0, 5, ">2024-03-04 21:15</td>", "entry in local minutes"),
    (0, 7, ">2024-03-05 14:45</td>", "exit in local minutes"),
    (1, 7, ">–</td>", "an open trade has no exit"),
    (1, 8, ' class="n">–</td>', "nor exit price"),
    (0, 12, ' class="reason">stop &lt;2% &amp; more&gt;</td>', "text escaped"),
    (0, 14, ' class="n neg">-3,450.50</td>', "a loss marked negative"),
    (1, 14, ' class="n">0.00</td>', "zero unmarked"),
    (1, 4, ' class="n">1,200</td>', "counts grouped"),
    (1, 3, ">–</td>", "no tier"),
]


@pytest.fixture(scope="module")
def html() -> str:
    return trades_table(trades())


@pytest.mark.parametrize(("row", "column", "cell", "shows"), CELLS, ids=[c[3] for c in CELLS])
def test_each_cell_reads_as_people_read_it(html, row, column, cell, shows):
    assert cells(html, row)[column] == cell


def test_row_attributes_are_escaped_for_the_filters(html):
    assert 'data-reason="stop &lt;2% &amp; more&gt;"' in html
