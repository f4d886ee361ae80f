"""Paper and live trading: the backtest's Tier-1 and Tier-2 on bars as they arrive.

    feeds.py      bars as they are written: a folder of CSV files, or JSON lines on stdin
    bars.py       one bar, and a batch of raw rows validated like the loader does
    aggregate.py  1- and 5-minute bars -> 15-minute bars on session edges, as they arrive
    stepping.py   when a step at time t may be taken (the step-completion rule)
    rolls.py      roll information bar by bar: a schedule, or the bars' contract column
    signals.py    Tier-1 one bar at a time (re-adjusted at each roll), Tier-2's Package
    session.py    one step: Tier-1, ``Composite.step``, and its commit
    codec.py      Tier-2's state as JSON (explicit, versioned)
    store.py      the SQLite state database (WAL): bars, state, outputs, orders
    orders.py     order ids and the outbox: no order sent twice
    broker.py     the broker interface for gateways, and the paper broker
    outputs.py    the run folder, written as a backtest would write it
    lock.py       one process per state folder
    ops.py        logs, heartbeat, alerts, shutdown on SIGINT/SIGTERM
    loop.py       the live loop that ties them together

    Live trading on a vn.py gateway (``twotier live``):
    gateway.py          loading a gateway by name, its settings, its events on our thread
    ticks.py            ticks -> 1-minute bars on session edges (auction, closing tick)
    gateway_feed.py     the loop's feed on a gateway; contracts and subscriptions
    gateway_broker.py   LiveBroker on a gateway: marketable limits, retries, outcomes
    gateway_journal.py  requests and trades committed: exactly once across crashes
    gateway_reconcile.py  positions and equity against the state
    trading.py          run_live: the start, the kill switch

docs/live.md describes the rules and the operations.
"""
