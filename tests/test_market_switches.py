"""RULES.md 10: with market.price_limits, market.volume_fills and market.forced_liquidation
all off, every data output is what sections 1-9 give, byte for byte: the demo's files are
held to the digests of the run made before the market rules existed (twotier at commit
5bf4194), and no new column or count appears."""

from __future__ import annotations

import hashlib
import json

from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.run.writer import write_run

OFF = ("market.price_limits=false", "market.volume_fills=false",
       "market.forced_liquidation=false", "rolls.warn_suspected=false")  # fmt: skip
# sha256 of the demo's data files before the market rules (bench/compare_outputs.py run
# on commit 5bf4194, the demo scenario).
BEFORE = {
    "trades.csv": "aad99c0085f32e3c1765e2897de6a8963e46d61c5d21afafff492f45d14544b4",
    "fills.csv": "86a09eccb9308fa59d3fa669aa86d3b3337a07555f645fe1ec7064f80c193bc5",
    "equity.csv": "e948c1ba116ae56d0f3e3a1c35a9794834c32b32f6a839cff33a2e21f1ac6881",
    "decisions.log": "9d6c608ee7cf08b42933c59007c4946add8c6e5ef55334c51771f2a162d002c9",
    "signals/DCE_i.parquet": "eee1804a192c7b4763e3807617b4812c1bbd78b5a6e04b31782276561f2986a2",
    "signals/DCE_m.parquet": "39be71e47a66ea181a24c13a970cc0e41ba3b3b14f07623829921e04a89e90d3",
    "signals/SHFE_cu.parquet": "f859b97b294384967c0ba1235a6a1e28984e28f27fb25ef0634c0ea5791f692a",
}
SUMMARY_KEYS_BEFORE = {
    "initial_capital", "final_pv", "total_return", "max_drawdown", "trades", "win_rate",
    "gross_pnl", "fees", "open_positions", "start", "end", "steps", "baskets",
}  # fmt: skip


def test_with_the_three_market_switches_off_the_demos_outputs_are_those_of_before(tmp_path):
    bars = {key: load_sample(key) for key in SAMPLE_INSTRUMENTS}
    result = run_backtest(bars, load_config(overrides=list(OFF)))
    folder = write_run(result, tmp_path / "run")
    digests = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in BEFORE}
    assert digests == BEFORE
    summary = json.loads((folder / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS_BEFORE
    assert not {k for k in summary if "risk" in k or "cancel" in k or "delay" in k}


def test_with_the_market_rules_on_the_outputs_gain_their_columns_and_counts(tmp_path):
    bars = {key: load_sample(key) for key in SAMPLE_INSTRUMENTS}
    result = run_backtest(bars, load_config(overrides=["rolls.warn_suspected=false"]))
    assert {"margin", "risk_degree"} <= set(result.equity.columns)
    assert "bars_waited" in result.fills.columns
    assert {"high", "low"} <= set(result.packages["DCE/i"].columns)
    market = result.summary["market"]
    assert set(market) == {
        "entries_cancelled", "entries_cut", "exits_delayed", "bars_waited",
        "forced_liquidations", "max_risk_degree",
    }  # fmt: skip
    assert market["max_risk_degree"] == max(result.equity["risk_degree"])
