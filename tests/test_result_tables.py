"""The result tables of the demo's run keep their dtypes and values (pinned at 66b95d6):
making the tables faster must not change a column's dtype (pandas' inference picks them)
nor a bit of a value."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample

ZONED = "datetime64[ns, Asia/Shanghai]"
DTYPES = {
    "trades": {
        "trade_id": "int64", "basket": "int64", "instrument": "str", "entry_contract": "object",
        "contract": "object", "side": "str", "contracts": "int64", "entry_time": ZONED,
        "entry_price": "float64", "entry_price_kind": "str", "exit_time": ZONED,
        "exit_price": "float64", "exit_price_kind": "str", "exit_decided_at": ZONED,
        "tier": "str", "conviction": "float64", "size_fraction": "float64",
        "leverage": "float64", "effective_leverage": "float64", "committed": "float64",
        "stop": "float64", "target": "float64", "reason": "str", "return_pct": "float64",
        "gross_pnl": "float64", "fees": "float64", "net_pnl": "float64",
    },
    "fills": {
        "time": ZONED, "trading_day": "object", "basket": "int64", "instrument": "str",
        "contract": "object", "side": "str", "contracts": "int64", "price": "float64",
        "price_kind": "str", "slippage": "float64", "fee": "float64", "close_today": "bool",
        "opens": "bool", "reason": "str", "decided_at": ZONED, "bars_waited": "int64",
    },
    "equity": {
        "time": ZONED, "trading_day": "datetime64[s]", "pv": "float64", "peak": "float64",
        "day_start": "float64", "drawdown": "float64", "exposure": "float64",
        "leverage": "float64", "reserve_held": "float64", "reserve_target": "float64",
        "active_positions": "int64", "margin": "float64", "risk_degree": "float64",
        "equity_0": "float64", "position_0": "int64", "equity_1": "float64",
        "position_1": "int64", "equity_2": "float64", "position_2": "int64",
    },
    "decisions": {
        "time": ZONED, "kind": "str", "basket": "float64", "reason": "str", "text": "str",
    },
}  # fmt: skip
# sha256 of pandas' hash of each row (index and values), and the tables' shapes
DIGESTS = {
    "trades": ((533, 27), "096828cd6aaabb0faeb9d6f22313ccc437d2abe33cd52dd5cf127ff7c97ddcf9"),
    "fills": ((1064, 16), "f54e1f8df4ca4dcc8385d7875dae3a46a9917f8220f039fc2fd7ac08b1597f3f"),
    "equity": ((22233, 19), "ba9120872168d2ef43d043005b46fe4dffbd099c2e0d49428c3af38811322b6a"),
    "decisions": ((2216, 5), "0cd21588737b9d898e63069fb7887bb3cedfb21085eeb453c893f92d3ef3639c"),
}


@pytest.fixture(scope="module")
def result():
    bars = {key: load_sample(key) for key in SAMPLE_INSTRUMENTS}
    return run_backtest(bars, load_config(overrides=["rolls.warn_suspected=false"]))


@pytest.mark.parametrize("name", list(DTYPES))
def test_a_result_table_keeps_its_dtypes_and_values(result, name):
    table = getattr(result, name)
    assert dict(table.dtypes.astype(str)) == DTYPES[name]
    rows = pd.util.hash_pandas_object(table).to_numpy().tobytes()
    assert (table.shape, hashlib.sha256(rows).hexdigest()) == DIGESTS[name]


def test_the_summary_keeps_its_figures(result):
    summary = result.summary
    assert (summary["final_pv"], summary["trades"], summary["steps"]) == (1483649.49, 531, 22233)
    assert summary["win_rate"] == 0.4124293785310734
    assert summary["max_drawdown"] == 0.0994462295
    assert [b["fees"] for b in summary["baskets"]] == [24673.17, 13516.34, 10941.0]
    assert summary["market"] == {
        "entries_cancelled": 0, "entries_cut": 0, "exits_delayed": 0, "bars_waited": 0,
        "forced_liquidations": 0, "max_risk_degree": 0.2701172011821041,
    }  # fmt: skip
