"""The broker can say no (twotier.broker.base.Outcome): Tier-2 books what filled and keeps
or drops the rest by rule. An entry's rest is cancelled, its episode used; a close's rest
waits and is tried again at the basket's next bar, keeping its exit reason. Every
scenario also runs every step (the event engine must agree) and recomputes the ledger."""

from __future__ import annotations

import pytest

from helpers.brokers import Answer, ScriptedBroker
from helpers.scenario import (
    IRON,
    MON,
    NO_BREAKERS,
    basket,
    day_bars,
    lines,
    packages,
    run,
    trades_of,
)
from twotier.broker import NO_VOLUME, PRICE_LIMIT

T = day_bars(MON)
NEXT_OPEN = ("execution.fill=next_open", "execution.fees=false", *NO_BREAKERS)
AT_CLOSE = ("execution.fill=close", "execution.fees=false", *NO_BREAKERS)


def iron(closes, confidence=1.0, signal=1):
    """Iron ore with a strong long signal from the first bar (33 contracts at 800: see
    the worked example's sizing), then the given closes."""
    n = len(closes)
    frame = basket(IRON, T[:n], closes, signal=signal, confidence=confidence, strength=1.0)
    return packages(frame)


def test_an_entry_that_does_not_fill_is_cancelled_and_its_episode_is_used():
    broker = ScriptedBroker({(T[1], "entry"): Answer("unfilled", PRICE_LIMIT)}, *NEXT_OPEN)
    r = run(iron([800.0] * 6), *NEXT_OPEN, broker=broker)
    assert r.trades.empty and r.fills.empty
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:15] CANCEL basket 0 [entry_unfilled_limit]: DCE/i, LONG 37 of 37 "
        "cancelled (not filled: locked at its price limit)"
    ]
    # The signal lingers for four more bars: no second try in the same episode.
    assert len(lines(r, "ENTRY")) == 1


def test_an_entry_filled_in_part_opens_what_filled_with_committed_capital_scaled():
    answer = Answer("partial", NO_VOLUME, contracts=10)
    broker = ScriptedBroker({(T[1], "entry"): answer}, *NEXT_OPEN)
    r = run(iron([800.0] * 6), *NEXT_OPEN, broker=broker)
    trade = trades_of(r, 0).iloc[0]
    entry = lines(r, "ENTRY")[0]
    assert "contracts=37" in entry  # the decision keeps its contracts
    assert trade["contracts"] == 10
    assert trade["committed"] == pytest.approx(299_400.0 * 10 / 37)
    assert trade["effective_leverage"] == pytest.approx(37 * 800 * 100 / 299_400.0)
    assert list(r.fills["contracts"]) == [10]
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:15] CANCEL basket 0 [entry_cut_volume]: DCE/i, LONG 27 of 37 "
        "cancelled (filled 10 of 37: not enough volume)"
    ]


def test_an_entry_the_broker_rejects_is_cancelled_with_the_brokers_words():
    broker = ScriptedBroker({(T[0], "entry"): Answer("rejected", "insufficient funds")}, *AT_CLOSE)
    r = run(iron([800.0] * 6), *AT_CLOSE, broker=broker)
    assert r.trades.empty
    assert lines(r, "CANCEL") == [
        "[2024-10-21 09:00] CANCEL basket 0 [entry_rejected]: DCE/i, LONG 37 of 37 "
        "cancelled (not filled: insufficient funds)"
    ]


@pytest.mark.parametrize("status", ["unfilled", "rejected"])
def test_a_close_that_does_not_fill_waits_and_fills_at_the_next_bar(status):
    # The confidence falls at bar 3 (low_confidence); the close fills at bar 4's open
    # under next_open, but the broker refuses it there: it fills at bar 5.
    confidence = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1]
    broker = ScriptedBroker({(T[4], "close"): Answer(status, PRICE_LIMIT)}, *NEXT_OPEN)
    r = run(iron([800.0] * 7, confidence=confidence), *NEXT_OPEN, broker=broker)
    trade = trades_of(r, 0).iloc[0]
    assert (trade["reason"], trade["exit_time"]) == ("low_confidence", T[5])
    code = "exit_delayed_limit" if status == "unfilled" else "exit_rejected"
    assert [line.split("]")[1] for line in lines(r, "WAIT")] == [f" WAIT basket 0 [{code}"]
    assert lines(r, "WAIT")[0].startswith("[2024-10-21 10:00]")
    # Asked at bars 4 and 5, by the event engine and again by the every-step run.
    asked = [(t, kind) for t, kind, _ in broker.asked if kind == "close"]
    assert asked == [(T[4], "close"), (T[5], "close")] * 2


def test_while_a_close_waits_the_basket_neither_runs_its_exit_tree_nor_enters():
    confidence = [1.0, 1.0, 0.1, 0.1, 1.0, 1.0, 1.0]
    script = {(T[k], "close"): Answer("unfilled", PRICE_LIMIT) for k in (3, 4, 5)}
    broker = ScriptedBroker(script, *NEXT_OPEN)
    r = run(iron([800.0] * 7, confidence=confidence), *NEXT_OPEN, broker=broker)
    assert len(lines(r, "CLOSE")) == 1  # decided once, tried at bars 3, 4, 5 and 6
    assert len(lines(r, "WAIT")) == 3
    assert trades_of(r, 0).iloc[0]["exit_time"] == T[6]
    assert len(lines(r, "ENTRY")) == 1


def test_a_close_filled_in_part_books_that_part_and_the_rest_waits():
    confidence = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1]
    answer = Answer("partial", NO_VOLUME, contracts=20)
    broker = ScriptedBroker({(T[4], "close"): answer}, "execution.fill=next_open")
    overrides = ("execution.fill=next_open", *NO_BREAKERS)  # with fees: shares of the entry fee
    r = run(iron([800.0] * 7, confidence=confidence), *overrides, broker=broker)
    trades = trades_of(r, 0)
    assert list(trades["contracts"]) == [20, 17]
    assert list(trades["reason"]) == ["low_confidence", "low_confidence"]
    assert list(trades["exit_time"]) == [T[4], T[5]]
    entry_fee = r.fills.loc[r.fills["opens"], "fee"].sum()
    exit_fees = r.fills.loc[~r.fills["opens"], "fee"].sum()
    assert trades["fees"].sum() == pytest.approx(entry_fee + exit_fees, abs=1e-9)
    assert lines(r, "WAIT")[0].endswith(
        "WAIT basket 0 [exit_delayed_volume]: DCE/i, SELL 17 (low_confidence) not filled: "
        "not enough volume; tried again at the next bar"
    )


def test_under_close_fills_a_refused_close_waits_for_a_later_bars_close():
    confidence = [1.0, 1.0, 0.1, 0.1, 0.1]
    broker = ScriptedBroker({(T[2], "close"): Answer("unfilled", PRICE_LIMIT)}, *AT_CLOSE)
    r = run(
        iron([800.0, 801.0, 802.0, 803.0, 804.0], confidence=confidence), *AT_CLOSE, broker=broker
    )
    trade = trades_of(r, 0).iloc[0]
    assert (trade["exit_time"], trade["exit_price"], trade["exit_price_kind"]) == (
        T[3],
        803.0,
        "close",
    )
    assert trade["exit_decided_at"] == T[2]
