"""What Tier-2 did with each trigger: traded, blocked with the log's reason (unknown
codes of later engines included), or skipped with the reason the tables show."""

from __future__ import annotations

import pandas as pd

from test_report_run import shared_run
from twotier.analysis.benchmarks import in_run
from twotier.analysis.triggers import outcome_counts, trigger_outcomes
from twotier.config import load_config

TZ = "Asia/Shanghai"
#          0   1  2  3  4  5  6  7   8   9  10 11 12 13 14  15  16  17
SIGNAL = [-1, -1, 1, 1, 1, 1, 1, 0, -1, -1, -1, 0, 1, 1, 0, -1, -1, -1]
TRIGGER = [0, -1, 1, 0, 1, 0, 1, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0]
BARS = pd.DataFrame(
    {
        "time": pd.date_range("2024-03-04 09:00", periods=len(SIGNAL), freq="15min", tz=TZ),
        "signal": SIGNAL,
        "trigger": TRIGGER,
        "confidence": [0.1 if k == 12 else 0.5 for k in range(len(SIGNAL))],
        "signal_strength": 0.4,
        "close": 100.0,
    }
)
T = BARS["time"]
# Episode at bar 2: entry decided on bar 2, filled at bar 3's open, exit decided on bar 5.
TRADES = pd.DataFrame(
    [
        {"trade_id": 1, "basket": 0, "entry_time": T[3], "entry_price_kind": "open",
         "exit_time": T[6], "exit_decided_at": T[5], "reason": "low_confidence"}
    ]
)  # fmt: skip


def log(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(T[bar], kind, 0.0, reason, f"{kind} [{reason}]") for bar, kind, reason in rows],
        columns=["time", "kind", "basket", "reason", "text"],
    )


DECISIONS = log(
    [
        (2, "ENTRY", "STRONG"),
        (3, "FILL", "entry"),
        (5, "CLOSE", "low_confidence"),
        (8, "BLOCK", "chaos_block"),
        (9, "BLOCK", "chaos_block"),
        (15, "ENTRY", "WEAK"),
        (16, "CANCEL", "entry_unfilled_limit"),  # a code this report does not know
        (16, "WAIT", "exit_delayed_limit"),  # ... and one that is no refusal of an entry
    ]
)


def outcomes() -> dict[int, tuple[str, str]]:
    table = trigger_outcomes(BARS, TRADES, DECISIONS, load_config(), [0])
    return {int(r.bar): (r.status, r.reason) for r in table.itertuples()}


def test_each_trigger_is_traded_blocked_or_skipped_with_its_reason():
    assert outcomes() == {
        1: ("skipped", "episode running at the start"),
        2: ("traded", ""),
        4: ("skipped", "in a position"),
        6: ("skipped", "episode already traded"),
        8: ("blocked", "chaos_block"),
        12: ("skipped", "below the entry minimums"),
        15: ("blocked", "entry_unfilled_limit"),
    }


def test_outcome_counts_by_status_and_reason():
    counts = outcome_counts(trigger_outcomes(BARS, TRADES, DECISIONS, load_config(), [0]))
    assert (counts["triggers"], counts["traded"], counts["blocked"], counts["skipped"]) == (
        7,
        1,
        2,
        4,
    )
    assert counts["blocked_by_reason"] == {"chaos_block": 1, "entry_unfilled_limit": 1}


def test_on_a_real_run_every_trade_comes_from_a_traded_trigger():
    run = shared_run().result
    for i, instrument in enumerate(run.config.instruments):
        bars = in_run(run.packages[instrument], run.equity)
        table = trigger_outcomes(bars, run.trades, run.decisions, run.config, [i])
        traded = int((table["status"] == "traded").sum())
        assert traded == run.trades.loc[run.trades["basket"] == i, "trade_id"].nunique()
        blocked = table[table["status"] == "blocked"]
        logged = set(run.decisions.loc[run.decisions["basket"] == i, "reason"])
        assert set(blocked["reason"]) <= logged
