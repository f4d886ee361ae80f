"""Property-based tests over random package streams (2-3 baskets, a few trading days,
night sessions, gaps): the event engine equals stepping every bar, the ledger holds to the
cent at every step, one position per basket, soft limits at every entry, leverage within
its caps, no entry while halted, and the same input gives byte-identical run folders."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.invariants import (
    check_invariants,
    check_leverage_caps,
    check_no_entry_while_halted,
    check_soft_limits_at_entries,
)
from helpers.scenario import COPPER, INSTRUMENTS, IRON, MEAL, check_ledger, config, run
from helpers.streams import DAYS, StreamSpec, baskets_override, stream
from twotier.engine.backtest import run_tier2, split_packages
from twotier.run.writer import write_run

BASKET_SETS = [INSTRUMENTS, (IRON, COPPER), (COPPER, MEAL), (IRON, MEAL)]

specs = st.builds(
    StreamSpec,
    seed=st.integers(0, 2**32 - 1),
    instruments=st.sampled_from(BASKET_SETS),
    days=st.integers(2, 3),
    first_day=st.integers(0, 3),
    nights=st.booleans(),
    volatility=st.sampled_from([0.001, 0.004, 0.01, 0.02]),
    persistence=st.sampled_from([0.8, 0.95, 0.99]),
    chaos=st.sampled_from([0.0, 0.05, 0.2]),
    thin=st.sampled_from([0.0, 0.0, 0.2]),
)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def overrides(spec: StreamSpec, fill: str, mode: str, fees: bool = True) -> list[str]:
    return [
        baskets_override(spec.instruments),
        f"execution.fill={fill}",
        f"sizing.leverage_mode={mode}",
        f"execution.fees={str(fees).lower()}",
    ]


# -- the properties -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["smart", "fixed"])
@pytest.mark.parametrize("fill", ["close", "next_open"])
@settings(max_examples=30, **SETTINGS)
@given(spec=specs, fees=st.booleans(), at_end=st.booleans(), ticks=st.integers(0, 2))
def test_event_engine_equals_every_step_on_random_streams(fill, mode, spec, fees, at_end, ticks):
    """Trades, fills, equity, decisions and summary identical; every invariant holds."""
    extra = [f"execution.close_at_end={str(at_end).lower()}", f"execution.slippage_ticks={ticks}"]
    result = run(stream(spec), *overrides(spec, fill, mode, fees), *extra)  # both engines
    check_invariants(result)


@settings(max_examples=20, **SETTINGS)
@given(spec=specs, fill=st.sampled_from(["close", "next_open"]))
def test_event_engine_equals_every_step_with_tight_breakers(spec, fill):
    """Breakers at 1% daily loss and 3% drawdown fire often: halts, derisk cuts, closes
    of baskets without a bar, cancelled entries, halved caps."""
    tight = ["breakers.max_daily_loss=0.01", "breakers.max_drawdown=0.03"]
    result = run(stream(spec), *overrides(spec, fill, "smart"), *tight)
    check_invariants(result)


@settings(max_examples=30, **SETTINGS)
@given(
    spec=specs.map(lambda s: replace(s, market=True)),
    fill=st.sampled_from(["close", "next_open"]),
    cap=st.sampled_from([0.0, 0.0, 0.05, 0.2]),
    level=st.sampled_from([1.0, 0.5, 0.25]),
)
def test_event_engine_equals_every_step_with_the_market_rules_on(spec, fill, cap, level):
    """Locked bars, bars without volume, the participation cap and forced liquidation at
    a low level (it fires often): both engines agree, the ledger holds at every step."""
    rules = [f"market.max_participation={cap}", f"market.force_close_level={level}"]
    result = run(stream(spec), *overrides(spec, fill, "smart"), *rules)  # both engines
    check_invariants(result)


@settings(max_examples=20, **SETTINGS)
@given(spec=specs, fill=st.sampled_from(["close", "next_open"]))
def test_accounting_identity_at_every_step(spec, fill):
    result = run(stream(spec), *overrides(spec, fill, "smart"), compare=False, check=False)
    check_ledger(result)


@settings(max_examples=20, **SETTINGS)
@given(spec=specs, fill=st.sampled_from(["close", "next_open"]))
def test_committed_exposure_at_most_90_pct_at_every_entry(spec, fill):
    result = run(stream(spec), *overrides(spec, fill, "smart"), compare=False, check=False)
    check_soft_limits_at_entries(result)


@settings(max_examples=20, **SETTINGS)
@given(spec=specs, mode=st.sampled_from(["smart", "fixed"]))
def test_leverage_within_caps(spec, mode):
    tight = ["breakers.max_drawdown=0.03"]
    result = run(stream(spec), *overrides(spec, "close", mode), *tight, compare=False, check=False)
    check_leverage_caps(result)


@settings(max_examples=20, **SETTINGS)
@given(spec=specs, fill=st.sampled_from(["close", "next_open"]))
def test_no_entry_while_halted_after_a_breaker(spec, fill):
    tight = ["breakers.max_daily_loss=0.01", "breakers.max_drawdown=0.03"]
    result = run(stream(spec), *overrides(spec, fill, "smart"), *tight, compare=False, check=False)
    check_no_entry_while_halted(result)


@settings(max_examples=15, **SETTINGS)
@given(spec=specs.filter(lambda s: s.days == 3), fill=st.sampled_from(["close", "next_open"]))
def test_event_engine_equals_every_step_from_a_start_day(spec, fill):
    """RULES.md 8.32 runs: start on the stream's second trading day."""
    start = DAYS[spec.first_day + 1]
    result = run(stream(spec), *overrides(spec, fill, "smart"), start=start)
    check_invariants(result)
    assert str(result.equity["trading_day"].iloc[0].date()) == start


# -- determinism --------------------------------------------------------------------------


def folder_contents(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "summary.json":
                summary = json.loads(data)
                summary.pop("created_at")
                data = json.dumps(summary, sort_keys=True).encode()
            out[str(path.relative_to(folder))] = data
    return out


@settings(max_examples=8, **SETTINGS)
@given(spec=specs, fill=st.sampled_from(["close", "next_open"]))
def test_same_input_gives_byte_identical_run_folders(spec, fill, tmp_path_factory):
    table = stream(spec)
    cfg = config(*overrides(spec, fill, "smart"))
    folders = []
    for _ in range(2):
        result = run_tier2(split_packages(table.copy(), cfg, "<stream>"), cfg)
        folders.append(write_run(result, tmp_path_factory.mktemp("run") / "out"))
    first, second = (folder_contents(f) for f in folders)
    assert sorted(first) == sorted(second)
    assert {"trades.csv", "fills.csv", "equity.csv", "decisions.log", "summary.json"} <= set(first)
    for name in first:
        assert first[name] == second[name], name


def test_every_step_and_event_engine_write_identical_run_folders(tmp_path):
    spec = StreamSpec(
        seed=20241021,
        instruments=INSTRUMENTS,
        days=3,
        volatility=0.01,
        persistence=0.95,
        chaos=0.05,
    )
    table = stream(spec)
    cfg = config(*overrides(spec, "next_open", "smart"))
    split = split_packages(table, cfg, "<stream>")
    a = write_run(run_tier2(split, cfg), tmp_path / "events")
    b = write_run(run_tier2(split, cfg, every_step=True), tmp_path / "steps")
    assert folder_contents(a) == folder_contents(b)
    assert np.any(pd.read_csv(a / "trades.csv")["contracts"] > 0)
