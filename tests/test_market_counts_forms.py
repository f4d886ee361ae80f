"""The market counts (RULES.md 10.5) read from the decision table and from the journal's
lists (``DecisionColumns``, as ``collect`` gives them) agree, each count non-zero."""

import pandas as pd

from twotier.run.result import DecisionColumns, market_counts, table

T = 1_700_000_000_000_000_000
MINUTES = 60 * 10**9
LINES = [  # (time, kind, reason)
    (T, "ENTRY", "entry_unfilled_limit_up"),
    (T, "ENTRY", "entry_rejected"),
    (T + 15 * MINUTES, "ENTRY", "entry_cut_volume"),
    (T + 15 * MINUTES, "WAIT", "low_confidence"),
    (T + 30 * MINUTES, "WAIT", "low_confidence"),
    (T + 30 * MINUTES, "CLOSE", "forced_liquidation"),
    (T + 30 * MINUTES, "CLOSE", "forced_liquidation"),  # one liquidation, two closes
    (T + 45 * MINUTES, "CLOSE", "forced_liquidation"),
    (T + 45 * MINUTES, "CLOSE", "stop_loss"),
    (T + 60 * MINUTES, "BLOCK", "forced_liquidation"),  # not a close
]
WANT = {
    "entries_cancelled": 2,
    "entries_cut": 1,
    "exits_delayed": 1,
    "bars_waited": 2,
    "forced_liquidations": 2,
    "max_risk_degree": 0.5,
}


def test_the_counts_from_the_table_and_from_the_lists_agree():
    times, kinds, reasons = (list(c) for c in zip(*LINES, strict=True))
    decisions = table({"time": times, "kind": kinds, "reason": reasons})
    fills = table(  # a close that waited, filled in two parts: one delayed exit
        {
            "basket": [0, 1, 1],
            "opens": [True, False, False],
            "reason": ["entry", "stop_loss", "stop_loss"],
            "decided_at": [T, T + 15 * MINUTES, T + 15 * MINUTES],
            "bars_waited": [0, 2, 3],
        }
    )
    equity = pd.DataFrame({"risk_degree": [0.25, 0.5]})
    from_table = market_counts(fills, equity, decisions)
    from_lists = market_counts(fills, equity, DecisionColumns(times, kinds, reasons))
    assert from_table == from_lists == WANT
    assert all(type(from_lists[k]) is int for k in WANT if k != "max_risk_degree")
