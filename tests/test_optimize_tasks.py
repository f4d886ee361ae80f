"""What a sweep keeps of each backtest (``optimize.tasks.summarize_run``): the daily PV
and every step's time, day and PV as plain values, as each value reads one by one."""

from __future__ import annotations

import pandas as pd

from twotier.config import load_config
from twotier.engine.backtest import generate_signals, run_tier2
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.optimize.tasks import summarize_run


def test_the_kept_days_steps_and_values_read_as_each_value_does():
    last = pd.Timestamp("2023-04-30").date()
    bars = {k: v[v["trading_day"].dt.date <= last] for k, v in
            ((k, load_sample(k)) for k in SAMPLE_INSTRUMENTS)}  # fmt: skip
    config = load_config()
    result = run_tier2(generate_signals(bars, config), config, decision_log=False)
    equity = result.equity
    payload = summarize_run(equity, result.summary, keep_steps=True)
    days = equity.groupby("trading_day", sort=True)["pv"].last()
    assert payload["daily"] == {
        "day": [f"{d:%Y-%m-%d}" for d in days.index],
        "pv": [float(v) for v in days.to_numpy()],
    }
    assert payload["steps"] == {
        "time_ns": [int(t.value) for t in equity["time"]],
        "trading_day": [f"{d:%Y-%m-%d}" for d in equity["trading_day"]],
        "pv": [float(v) for v in equity["pv"]],
    }
    assert all(type(v) is int for v in payload["steps"]["time_ns"][:3])
    assert payload["metrics"]["final_pv"] == result.summary["final_pv"]
