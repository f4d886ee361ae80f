"""RULES.md 6: the worked example, corrected, through the Python API and the CLI; and the
fixed-mode example."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from golden.worked_example import COPPER_CLOSES, IRON_CLOSES, TIMES
from golden.worked_example import packages as worked_packages
from helpers.scenario import (
    CLOSE_NO_FEES,
    COPPER,
    IRON,
    basket,
    config,
    lines,
    only_trade,
    packages,
    run,
)
from twotier.tier1.package import validate_packages
from twotier.tier2.sizing import EntryRules, LeverageCaps, plan_entry

ENTRY_IRON = (
    "[2024-10-25 09:00] LONG basket 0 [STRONG]: DCE/i, contracts=33, size=86%, lev=9.95x "
    "(eff 9.74x), stop=1.5%, target=7%, price=765.00, conv=0.70 (conf=0.68, str=0.72)"
)
ENTRY_COPPER = (
    "[2024-10-25 09:30] SHORT basket 1 [MEDIUM]: SHFE/cu, contracts=2, size=58%, lev=6.00x "
    "(eff 4.43x), stop=2%, target=8%, price=76770.00, conv=0.53 (conf=0.58, str=0.45)"
)
# RULES.md 7 writes the money as "(+178,200)"; the code writes cents, as its other lines do.
CLOSE_IRON = (
    "[2024-10-25 14:45] CLOSE basket 0 [profit_target_7pct]: DCE/i, LONG, entry=765.00, "
    "exit=819.00, P&L=+7.06% (+178,200.00)"
)
CLOSE_COPPER = (
    "[2024-10-25 14:45] CLOSE basket 1 [stop_loss_2pct]: SHFE/cu, SHORT, entry=76770.00, "
    "exit=78310.00, P&L=-2.01% (-15,400.00)"
)


@pytest.fixture(scope="module")
def worked():
    return run(validate_packages(worked_packages(), "worked example"), *CLOSE_NO_FEES)


def test_worked_example_iron_ore_conviction_0_696_is_strong(worked):
    t = only_trade(worked, 0)
    assert t["conviction"] == pytest.approx(0.696, abs=1e-12)
    assert t["tier"] == "STRONG"


def test_worked_example_copper_conviction_0_528_is_medium(worked):
    t = only_trade(worked, 1)
    assert t["conviction"] == pytest.approx(0.528, abs=1e-12)
    assert t["tier"] == "MEDIUM"


def test_worked_example_size_fractions_0_86424_and_0_578(worked):
    assert only_trade(worked, 0)["size_fraction"] == pytest.approx(0.86424, abs=1e-12)
    assert only_trade(worked, 1)["size_fraction"] == pytest.approx(0.578, abs=1e-12)


def test_worked_example_leverage_9_9506_and_copper_6_28_capped_to_6(worked):
    assert only_trade(worked, 0)["leverage"] == pytest.approx(9.95056, abs=1e-9)
    assert round(only_trade(worked, 0)["leverage"], 4) == 9.9506
    assert only_trade(worked, 1)["leverage"] == 6.0


def test_worked_example_committed_259272_and_173400(worked):
    assert only_trade(worked, 0)["committed"] == pytest.approx(259_272, abs=1e-6)
    assert only_trade(worked, 1)["committed"] == pytest.approx(173_400, abs=1e-6)


def test_worked_example_target_notional_2579902_gives_33_contracts(worked):
    t = only_trade(worked, 0)
    assert round(t["committed"] * t["leverage"]) == 2_579_902
    assert t["contracts"] == 33
    assert t["contracts"] * 765.0 * 100 == 2_524_500


def test_worked_example_copper_target_1040400_gives_2_contracts(worked):
    t = only_trade(worked, 1)
    assert t["committed"] * t["leverage"] == pytest.approx(1_040_400)
    assert t["contracts"] == 2
    assert t["contracts"] * 76_770 * 5 == 767_700


def test_worked_example_effective_leverage_9_737_and_4_427(worked):
    assert round(only_trade(worked, 0)["effective_leverage"], 3) == 9.737
    assert round(only_trade(worked, 1)["effective_leverage"], 3) == 4.427


def test_worked_example_stops_1_5_and_2_pct_targets_7_and_8_pct(worked):
    iron, copper = only_trade(worked, 0), only_trade(worked, 1)
    assert (iron["stop"], iron["target"]) == (0.015, 0.07)
    assert (copper["stop"], copper["target"]) == (0.02, 0.08)


def test_worked_example_trailing_stop_armed_for_iron_ore_not_copper():
    cfg = config()
    rules = EntryRules(cfg.basket_sizing(0), cfg.basket_exits(0), LeverageCaps(), False, 0.08)
    iron = plan_entry(1, 0.696, 300_000.0, 765.0, 100, rules)
    copper = plan_entry(-1, 0.528, 300_000.0, 76_770.0, 5, rules)
    assert iron.trailing is True
    assert copper.trailing is False


def test_worked_example_exit_reasons_and_pnl(worked):
    iron, copper = only_trade(worked, 0), only_trade(worked, 1)
    assert iron["reason"] == "profit_target_7pct"
    assert iron["gross_pnl"] == 178_200
    assert copper["reason"] == "stop_loss_2pct"
    assert copper["gross_pnl"] == -15_400
    assert iron["exit_time"] == copper["exit_time"] == TIMES[-1]


def test_worked_example_final_equities_reserve_and_pv(worked):
    last = worked.equity.iloc[-1]
    assert (last["equity_0"], last["equity_1"], last["equity_2"]) == (478_200, 284_600, 300_000)
    assert last["pv"] - last["equity_0"] - last["equity_1"] - last["equity_2"] == 100_000
    assert last["pv"] == 1_162_800
    assert worked.summary["final_pv"] == 1_162_800
    assert worked.summary["total_return"] == pytest.approx(0.1628)


def test_worked_example_decision_log_lines(worked):
    assert lines(worked) == [ENTRY_IRON, ENTRY_COPPER, CLOSE_IRON, CLOSE_COPPER]


def test_worked_example_no_exit_before_the_14_45_bar(worked):
    """Iron ore never pulls back 2% from its best close and stays below +7%; copper stays
    below 78,305.4 (its 2% stop) until 14:45."""
    assert max(IRON_CLOSES[:-1]) / 765 - 1 < 0.07
    assert max(COPPER_CLOSES[:-1]) < 78_305.4
    assert (worked.equity["active_positions"].iloc[2:-1] == 2).all()


def test_worked_example_iron_ore_pullback_of_2_pct_exits_by_trailing_stop():
    """Variant: iron ore arms its trailing stop at +5% and exits on a 2% pull-back; copper
    (effective 4.43x) rises 5% in its favour and pulls back without a trailing exit."""
    t = list(TIMES[:6])
    iron = basket(
        IRON,
        t,
        [765.0, 790.0, 805.0, 810.0, 793.5, 793.5],
        signal=1,
        confidence=0.68,
        strength=0.72,
    )
    cu = basket(
        COPPER,
        t,
        [76770, 74000, 72900, 72500, 74000, 74000],
        signal=-1,
        confidence=0.58,
        strength=0.45,
        regime=2,
    )
    r = run(packages(iron, cu), *CLOSE_NO_FEES)
    assert only_trade(r, 0)["reason"] == "trailing_stop"  # 810 * 0.98 = 793.8 >= 793.5
    assert only_trade(r, 1)["reason"] == "open"  # copper +3.6% after a 2% pull-back: held


# -- the CLI ------------------------------------------------------------------------------


def twotier_command() -> list[str]:
    script = Path(sys.executable).with_name("twotier")
    return [str(script)] if script.exists() else [sys.executable, "-m", "twotier"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("worked_cli")
    signals = folder / "signals.csv"
    worked_packages().to_csv(signals, index=False)
    out = folder / "run"
    done = subprocess.run(
        [
            *twotier_command(),
            "backtest",
            "--signals",
            str(signals),
            "--fill",
            "close",
            "--set",
            "execution.fees=false",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return out


def test_cli_worked_example_trades_csv(cli_run):
    trades = pd.read_csv(cli_run / "trades.csv")
    assert list(trades["instrument"]) == [IRON, COPPER]
    assert list(trades["reason"]) == ["profit_target_7pct", "stop_loss_2pct"]
    assert list(trades["contracts"]) == [33, 2]
    assert list(trades["tier"]) == ["STRONG", "MEDIUM"]
    assert list(trades["gross_pnl"]) == [178_200, -15_400]
    assert list(trades["committed"]) == [259_272, 173_400]
    assert list(trades["stop"]) == [0.015, 0.02]
    assert list(trades["target"]) == [0.07, 0.08]
    assert list(trades["size_fraction"]) == [0.86424, 0.578]
    assert list(trades["conviction"]) == [0.696, 0.528]
    assert list(trades["entry_time"]) == ["2024-10-25 09:00:00", "2024-10-25 09:30:00"]
    assert list(trades["exit_time"]) == ["2024-10-25 14:45:00", "2024-10-25 14:45:00"]
    text = (cli_run / "trades.csv").read_text()
    assert ",178200.00," in text and ",-15400.00," in text


def test_cli_worked_example_equity_csv(cli_run):
    equity = pd.read_csv(cli_run / "equity.csv")
    assert len(equity) == 15
    last = equity.iloc[-1]
    assert last["time"] == "2024-10-25 14:45:00"
    assert (last["pv"], last["equity_0"], last["equity_1"], last["equity_2"]) == (
        1_162_800,
        478_200,
        284_600,
        300_000,
    )


def test_cli_worked_example_decision_log(cli_run):
    text = (cli_run / "decisions.log").read_text(encoding="utf-8")
    assert text.splitlines() == [ENTRY_IRON, ENTRY_COPPER, CLOSE_IRON, CLOSE_COPPER]


def test_cli_worked_example_summary_json(cli_run):
    summary = json.loads((cli_run / "summary.json").read_text())
    assert summary["final_pv"] == 1_162_800
    assert summary["trades"] == 2
    assert summary["win_rate"] == 0.5
    assert summary["fees"] == 0
    assert [b["final_equity"] for b in summary["baskets"]] == [478_200, 284_600, 300_000]


# -- the fixed-mode example ---------------------------------------------------------------


def test_fixed_mode_example_iron_ore_780_strong_5_contracts():
    t = [TIMES[0], TIMES[1]]
    iron = basket(IRON, t, 780.0, signal=1, confidence=0.68, strength=0.72)
    r = run(packages(iron), *CLOSE_NO_FEES, "sizing.leverage_mode=fixed")
    trade = only_trade(r, 0)
    assert trade["tier"] == "STRONG"
    assert trade["committed"] * trade["leverage"] == 450_000  # buying power 300,000 * 1.5
    assert trade["contracts"] == 5
    assert trade["contracts"] * trade["entry_price"] * 100 == 390_000
    assert trade["effective_leverage"] == pytest.approx(1.3, abs=1e-12)
    assert (trade["stop"], trade["target"]) == (0.02, 0.08)
    assert (trade["size_fraction"], trade["leverage"]) == (1.0, 1.5)
    assert lines(r, "ENTRY") == [
        "[2024-10-25 09:00] LONG basket 0 [STRONG]: DCE/i, contracts=5, size=100%, lev=1.50x "
        "(eff 1.30x), stop=2%, target=8%, price=780.00, conv=0.70 (conf=0.68, str=0.72)"
    ]
