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
