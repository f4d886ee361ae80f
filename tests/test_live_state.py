"""The committed state: Tier-2 as JSON, a session rebuilt from the database, and the
order outbox."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from twotier.config import load_config
from twotier.engine.inputs import Environment
from twotier.live import codec
from twotier.live.bars import frame_to_bars
from twotier.live.broker import PaperBroker
from twotier.live.session import PaperSession
from twotier.live.store import Store
from twotier.market.sample import load_sample

INSTRUMENTS = ("DCE/i", "SHFE/cu", "DCE/m")


def sample_steps(start: str, end: str) -> list[tuple[int, dict]]:
    """(time, {instrument: bar}) of the sample bars, in time order."""
    steps: dict[int, dict] = {}
    for key in INSTRUMENTS:
        frame = load_sample(key).loc[start:end]
        for bar in frame_to_bars(key, frame, range(len(frame)), "sample"):
            steps.setdefault(bar.time_ns, {})[key] = bar
    return sorted(steps.items())


class CountingBroker(PaperBroker):
    def __init__(self, *args):
        super().__init__(*args)
        self.submitted: list[str] = []

    def submit(self, order_id, order) -> None:
        self.submitted.append(order_id)
        super().submit(order_id, order)


def new_session(path, broker_type=PaperBroker) -> PaperSession:
    config = load_config()
    env = Environment.from_config(config)
    broker = broker_type(config, [env.instruments[k] for k in config.instruments])
    return PaperSession(config, env, Store(path, synchronous="OFF"), broker)


@pytest.fixture(scope="module")
def steps():
    return sample_steps("2024-09-02", "2024-09-20")


def test_every_tier2_state_of_a_run_survives_json_exactly(steps, tmp_path):
    session = new_session(tmp_path / "state.db")
    session.begin({})
    held = waiting = 0
    for t, bars in steps:
        session.step(t, bars)
        text = codec.dumps(session.state)
        again = codec.loads(text, session._spec)
        assert again == session.state
        assert codec.dumps(again) == text
        held += any(b.position is not None for b in session.state.baskets)
        waiting += any(b.entry_order or b.close_orders for b in session.state.baskets)
    assert held > 10 and waiting > 2  # states worth the check: positions and orders


def test_a_session_rebuilt_from_the_database_is_the_session_that_committed(steps, tmp_path):
    first = new_session(tmp_path / "state.db")
    first.begin({})
    for t, bars in steps:
        first.step(t, bars)
    again = new_session(tmp_path / "state.db")
    again.restore()
    assert again.state == first.state
    assert again.composite.journal == first.composite.journal
    pd.testing.assert_frame_equal(
        again.composite.recorder.frame(), first.composite.recorder.frame()
    )
    assert [i.last for i in again.instruments] == [i.last for i in first.instruments]
    assert (again.step_number, again.last_step_ns) == (first.step_number, first.last_step_ns)
    assert again.broker.positions() == first.broker.positions()


def test_an_order_committed_but_not_sent_before_a_crash_is_sent_once_on_restart(steps, tmp_path):
    first = new_session(tmp_path / "state.db", CountingBroker)
    first.send_orders = lambda: None  # the crash: after the commit, before sending
    first.begin({})
    for t, bars in steps:
        first.step(t, bars)
        if first.book.open:
            break
    (order_id,) = [oid for oid, _ in first.book.open.values()]
    assert first.broker.submitted == []
    again = new_session(tmp_path / "state.db", CountingBroker)
    again.restore()
    again.send_orders()
    again.send_orders()  # nothing left to send
    assert again.broker.submitted == [order_id]
    status = again.store.db.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,))
    assert status.fetchone()[0] == "sent"


def test_a_state_with_a_field_this_version_does_not_know_is_refused(steps, tmp_path):
    session = new_session(tmp_path / "state.db")
    session.begin({})
    tree = codec.encode(session.state)
    tree["baskets"][0]["surprise"] = 1
    with pytest.raises(codec.StateFormatError, match=r"field\(s\) surprise of BasketState"):
        codec.decode(json.loads(json.dumps(tree)), session._spec)


def test_a_bars_settle_and_limits_come_back_from_the_database_as_they_went_in(tmp_path):
    # A blank cell (NaN) was stored as NULL and came back as "no such column": a column
    # blank on every bar then vanished from the signal files after a restart.
    import math
    from datetime import date

    from twotier.live.bars import Bar

    store = Store(tmp_path / "state.db", synchronous="OFF")
    given = Bar("DCE/i", 1, date(2024, 3, 5), 800.0, 801.0, 799.0, 800.5, 10.0, None,
                "feed.csv", 2, None, 801.0, math.nan, None)  # fmt: skip
    with store.transaction() as tx:
        tx.add_bars([given], "live", 1)
    ((back, _),) = store.bars()
    assert (back.settle, back.limit_down) == (801.0, None) and math.isnan(back.limit_up)


def test_a_limit_beyond_what_prices_carry_is_read_as_the_backtest_reads_it():
    # 2e8 in a limit column: the backtest rounds it like any value, paper stopped.
    from datetime import date

    from twotier.live.bars import Bar
    from twotier.live.market import MarketTracker
    from twotier.market.instruments import default_registry

    config = load_config()
    tracker = MarketTracker(default_registry()["DCE/i"], config.market)
    bar = Bar("DCE/i", 1, date(2024, 3, 5), 800.0, 801.0, 799.0, 800.5, 10.0, None,
              "feed.csv", 2, None, None, 2e8, 700.0)  # fmt: skip
    market = tracker.update(bar, None)
    assert (market.limit_up, market.limit_down) == (2_000_000_000_000, 7_000_000)
