"""Invariants of a finished run, recomputed from its outputs (trades, fills, equity,
decisions): soft limits at every entry, leverage within its caps, no entry while halted,
stops, targets and exit reasons that agree with the P&L, and the ledger
(``helpers.scenario.check_ledger``)."""

from __future__ import annotations

import pandas as pd

from helpers.scenario import check_ledger
from twotier.run.result import BacktestResult


def day_of(result: BacktestResult) -> dict:
    """Trading day of every step time."""
    e = result.equity
    return dict(zip(e["time"], e["trading_day"], strict=True))


def check_soft_limits_at_entries(result: BacktestResult) -> None:
    """At every step with an entry decision: committed <= 90% of PV, the reserve at or above
    its target, portfolio leverage <= 20x, as recorded after the step. The entries' checks
    saw PV before the step's fees, so the step's fees are the slack."""
    e = result.equity.set_index("time")
    fees = result.fills.groupby("time")["fee"].sum() if len(result.fills) else pd.Series()
    d = result.decisions
    limits = result.config.limits
    for t in sorted(set(d.loc[d["kind"] == "ENTRY", "time"])):
        row = e.loc[t]
        pv = row["pv"]
        slack_pv = pv + float(fees.get(t, 0.0)) + 1e-6
        committed = row["exposure"] * pv
        assert committed <= limits.max_exposure * slack_pv, (t, row["exposure"])
        assert committed <= (1 - row["reserve_target"]) * slack_pv, (t, row["reserve_held"])
        assert row["leverage"] * pv <= result.config.sizing.max_leverage * slack_pv, t


def halved_days(result: BacktestResult) -> set:
    """Trading days on which leverage caps are halved (the 5 trading days of the data after
    each drawdown breaker's day)."""
    days = sorted(set(result.equity["trading_day"]))
    index = {day: i for i, day in enumerate(days)}
    of = day_of(result)
    d = result.decisions
    out = set()
    for t in d.loc[d["reason"] == "drawdown_breaker", "time"].drop_duplicates():
        k = index[of[t]]
        out |= set(days[k + 1 : k + 6])
    return out


def check_leverage_caps(result: BacktestResult) -> None:
    cfg = result.config
    s = cfg.sizing
    opening = result.fills[result.fills["opens"].astype(bool)]
    keys = zip(opening["basket"], opening["time"], strict=True)
    decided = dict(zip(keys, opening["decided_at"], strict=True))
    halved = halved_days(result)
    of = day_of(result)
    tier_max = {
        "STRONG": s.strong.leverage_max,
        "MEDIUM": s.medium.leverage_max,
        "WEAK": s.weak.leverage_max,
    }
    trades = result.trades.drop_duplicates("trade_id")
    for _, t in trades.iterrows():
        assert t["effective_leverage"] <= t["leverage"] + 1e-9, t
        if s.leverage_mode == "fixed":
            assert t["leverage"] in (s.fixed_leverage, 1.1, 1.0), t
            continue
        factor = 0.5 if of[decided[(t["basket"], t["entry_time"])]] in halved else 1.0
        cap = min(tier_max[t["tier"]], s.max_basket_leverage, s.max_leverage) * factor
        assert t["leverage"] <= cap + 1e-9, (t["trade_id"], t["leverage"], cap)


def check_no_entry_while_halted(result: BacktestResult) -> None:
    """After a breaker on a trading day, no entry is decided on that day, and no entry
    decided before the breaker fills after it."""
    d = result.decisions
    of = day_of(result)
    breakers = d.loc[d["kind"] == "BREAKER", "time"]
    entries = d.loc[d["kind"] == "ENTRY", "time"]
    for b in breakers:
        late = [t for t in entries if t >= b and of[t] == of[b]]
        assert not late, (b, late)
    opening = result.fills[result.fills["opens"].astype(bool)]
    for b in breakers:
        crossed = opening[(opening["decided_at"] < b) & (opening["time"] > b)]
        assert crossed.empty, (b, crossed)


def check_invariants(result: BacktestResult) -> None:
    check_ledger(result)
    check_soft_limits_at_entries(result)
    check_leverage_caps(result)
    check_no_entry_while_halted(result)
    check_stops_and_targets(result)
    check_exit_reasons(result)


STOP_BANDS = ((2.0, 0.03), (4.0, 0.025), (6.0, 0.02), (10.0, 0.015))


def band_stop(effective: float) -> float:
    lev = round(effective, 10)
    return next((stop for band, stop in STOP_BANDS if lev <= band), 0.01)


def band_target(effective: float) -> float:
    lev = round(effective, 10)
    return 0.07 if lev >= 5 else 0.08 if lev >= 3 else 0.10


def check_stops_and_targets(result: BacktestResult) -> None:
    """Smart mode with default exits: every trade's stop is its effective leverage's band;
    its target the band's, or 8% for an entry made in chaos (RULES.md 4.6, 8.12)."""
    if result.config.sizing.leverage_mode != "smart":
        return
    for _, t in result.trades.drop_duplicates("trade_id").iterrows():
        assert t["stop"] == band_stop(t["effective_leverage"]), t
        assert t["target"] in (band_target(t["effective_leverage"]), 0.08), t


def check_exit_reasons(result: BacktestResult) -> None:
    """Each exit's reason agrees with the P&L at the close of the bar it was decided on
    (RULES.md 4.6, thresholds inclusive as in 8.24)."""
    closes = {k: dict(zip(p["time"], p["close"], strict=True)) for k, p in result.packages.items()}
    for _, t in result.trades.iterrows():
        reason = t["reason"]
        if reason in (
            "open",
            "end_of_data",
            "drawdown_breaker",
            "daily_loss_derisk",
            "forced_liquidation",
        ):
            continue
        close = closes[t["instrument"]][t["exit_decided_at"]]
        side = 1 if t["side"] == "LONG" else -1
        pnl = round(side * (close - t["entry_price"]) / t["entry_price"], 10)
        if reason.startswith("stop_loss_"):
            stop = float(reason.removeprefix("stop_loss_").removesuffix("pct")) / 100
            assert stop in (t["stop"], min(t["stop"], 0.02)), t
            assert pnl <= -stop, (reason, pnl)
        elif reason.startswith("profit_target_"):
            target = float(reason.removeprefix("profit_target_").removesuffix("pct")) / 100
            assert target == t["target"] and pnl >= target, (reason, pnl)
        elif reason == "profit_protect_5pct":
            assert pnl >= 0.05, (reason, pnl)
        elif reason in ("confidence_drop_with_loss", "chaos_regime_exit"):
            assert pnl < -0.01, (reason, pnl)
        elif reason == "trailing_stop":
            assert t["effective_leverage"] >= 5 - 1e-9, t
        else:
            assert reason in ("signal_reversal", "low_confidence"), reason
