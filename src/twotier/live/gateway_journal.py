"""What twotier sent to a gateway and what came back, kept in the state database.

Two tables of their own beside the session's (``live/store.py``):

    gateway_requests  every order request sent for a twotier order: its id, the round
                      (one per bar the order is worked on), the attempt (a cancelled
                      request is sent again at a new price), the leg (an SHFE close may
                      be split into close-today and close-yesterday), the request as
                      JSON, the gateway's order id and the status
    gateway_trades    every trade of those requests, once (the key is the contract, the
                      exchange's trade id, the direction and the trade's time: CTP pushes
                      the day's trades again after a reconnect, and the exchanges number
                      trades afresh each trading day)

A request is written (committed) as ``sending`` before the gateway is asked to send it,
and its gateway id is written as soon as the gateway has given it; a trade is written as
soon as it arrives. So after a crash the requests a restart finds tell what may be at the
exchange, and the gateway's orders of the day are matched against them (docs/live.md):
nothing is sent twice, and no trade is lost or counted twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from twotier.live.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS gateway_requests (
    order_id TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL,
    leg INTEGER NOT NULL, request TEXT NOT NULL, gateway_id TEXT, status TEXT NOT NULL,
    sent_ns INTEGER NOT NULL,
    PRIMARY KEY (order_id, round, attempt, leg)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gateway_trades (
    trade_key TEXT PRIMARY KEY, gateway_id TEXT NOT NULL, order_id TEXT NOT NULL,
    round INTEGER NOT NULL, volume INTEGER NOT NULL, price REAL NOT NULL,
    time_ns INTEGER NOT NULL, offset TEXT NOT NULL
) WITHOUT ROWID;
"""


def trade_key(symbol: str, trade_id: str, direction: str, time_ns: int) -> str:
    """A trade's identity in the journal: the exchange's id on the trade's own day."""
    return f"{symbol}.{trade_id}.{direction}@{time_ns}"


@dataclass
class Request:
    """One order request at the gateway (vn.py's OrderRequest, as plain values)."""

    order_id: str
    round: int
    attempt: int
    leg: int
    symbol: str
    exchange: str
    direction: str  # vn.py Direction name: LONG, SHORT
    offset: str  # vn.py Offset name: OPEN, CLOSE, CLOSETODAY, CLOSEYESTERDAY
    price: float
    volume: int
    sent_ns: int
    gateway_id: str | None = None
    status: str = "sending"  # sending, then vn.py's Status name; lost: never reached it
    traded: int = 0
    rejected_at: int | None = None  # position in the gateway's log when it was rejected

    @property
    def fingerprint(self) -> tuple:
        return (self.symbol, self.direction, self.offset, self.price, self.volume)

    def body(self) -> str:
        fields = ("symbol", "exchange", "direction", "offset", "price", "volume")
        return json.dumps({k: asdict(self)[k] for k in fields}, sort_keys=True)


@dataclass(frozen=True)
class TradeRow:
    trade_key: str
    gateway_id: str
    order_id: str
    round: int
    volume: int
    price: float
    time_ns: int
    offset: str


class GatewayJournal:
    def __init__(self, store: Store):
        self.store = store
        store.db.executescript(SCHEMA)

    def sending(self, r: Request) -> None:
        with self.store.transaction() as tx:
            tx.db.execute(
                "INSERT INTO gateway_requests VALUES (?, ?, ?, ?, ?, NULL, 'sending', ?)",
                (r.order_id, r.round, r.attempt, r.leg, r.body(), r.sent_ns),
            )

    def sent(self, r: Request) -> None:
        with self.store.transaction() as tx:
            tx.db.execute(
                "UPDATE gateway_requests SET gateway_id = ?, status = ? "
                "WHERE order_id = ? AND round = ? AND attempt = ? AND leg = ?",
                (r.gateway_id, r.status, r.order_id, r.round, r.attempt, r.leg),
            )

    def trade(self, t: TradeRow) -> bool:
        """Record a trade; False if it was recorded before (a reconnect's repeat)."""
        with self.store.transaction() as tx:
            done = tx.db.execute(
                "INSERT OR IGNORE INTO gateway_trades VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (t.trade_key, t.gateway_id, t.order_id, t.round, t.volume, t.price, t.time_ns,
                 t.offset),
            )  # fmt: skip
            return done.rowcount == 1

    def requests(self) -> list[Request]:
        rows = self.store.db.execute(
            "SELECT order_id, round, attempt, leg, request, gateway_id, status, sent_ns "
            "FROM gateway_requests ORDER BY order_id, round, attempt, leg"
        )
        out = []
        for order_id, round_, attempt, leg, body, gateway_id, status, sent_ns in rows:
            fields = json.loads(body)
            out.append(
                Request(order_id, round_, attempt, leg, **fields, sent_ns=sent_ns,
                        gateway_id=gateway_id, status=status)
            )  # fmt: skip
        return out

    def trades(self) -> list[TradeRow]:
        rows = self.store.db.execute("SELECT * FROM gateway_trades ORDER BY time_ns, trade_key")
        return [TradeRow(*r) for r in rows]
