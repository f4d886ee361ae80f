"""End to end on the real files of ../shared/data/real (skipped where absent): iron ore
and soybean meal 5-minute bars, copper's 1-minute main contract (its one malformed bar
dropped), resampled to 15 minutes, through Tier-1 and Tier-2."""

from __future__ import annotations

import pytest

from helpers.invariants import check_invariants
from helpers.scenario import assert_same_run, config
from twotier.engine.backtest import run_backtest
from twotier.market.resample import resample

FILES = {
    "DCE/i": "DCE.i.HOT.m5.csv",
    "SHFE/cu": "SHFE.cu.HOT.m1.csv.gz",
    "DCE/m": "DCE.m.HOT.m5.csv",
}


@pytest.fixture(scope="module")
def real_15m(real_bars) -> dict:
    """Each instrument's real bars, resampled to 15 minutes (labelled by start)."""
    out = {}
    for instrument, name in FILES.items():
        loaded = real_bars(name)
        out[instrument] = resample(loaded.frame, loaded.instrument, loaded.bar_minutes, 15, name)
    return out


@pytest.fixture(scope="module")
def real_result(real_15m):
    return run_backtest(real_15m, config())


def test_real_copper_file_has_its_malformed_bar_dropped(real_bars):
    loaded = real_bars(FILES["SHFE/cu"])
    assert len(loaded.dropped) == 1
    assert loaded.bar_minutes == 1


def test_real_data_backtest_runs_and_trades_every_basket(real_result):
    s = real_result.summary
    assert s["trades"] > 0
    assert s["steps"] == len(real_result.equity) > 10_000
    traded = set(real_result.trades["instrument"])
    assert traded == set(FILES)
    assert s["fees"] > 0


def test_real_data_ledger_and_invariants_hold(real_result):
    check_invariants(real_result)


def test_real_data_every_entry_and_close_is_logged(real_result):
    """One ENTRY line per opening fill and one CLOSE line per closing fill (give or take
    orders still waiting at data end, or cancelled by a breaker)."""
    d = real_result.decisions
    fills = real_result.fills
    opens = int(fills["opens"].astype(bool).sum())
    entries, closes = int((d["kind"] == "ENTRY").sum()), int((d["kind"] == "CLOSE").sum())
    assert opens <= entries <= opens + 3
    assert len(fills) - opens <= closes <= len(fills) - opens + 3
    assert int((d["kind"] == "FILL").sum()) == len(fills)  # next_open: every fill logged


@pytest.mark.slow
def test_real_data_event_engine_equals_every_step(real_15m, real_result):
    """The default configuration (next_open fills, smart mode): every step takes a few
    seconds here."""
    steps = run_backtest(real_15m, config(), every_step=True)
    assert_same_run(real_result, steps)


def test_real_data_close_fills_fixed_mode_ledger_holds(real_15m):
    result = run_backtest(real_15m, config("execution.fill=close", "sizing.leverage_mode=fixed"))
    assert result.summary["trades"] > 0
    check_invariants(result)
