"""Reconciliation with a gateway: positions per contract (long and short, today and
yesterday) and the account's equity against the state, at the start and after every
reconnect.

The state's side: each basket's position on its contract (``Position.contract``, or the
contract the instrument trades when the run has no roll information), opened today
(its ``entry_day`` is the current trading day) or before. The gateway's side: vn.py's
positions (volume and yesterday's volume per contract and direction), over the contracts
of the instruments twotier trades; other products are not twotier's business.

Equity: the account's balance moves with twotier's P&L, fees and marks; the balance at
the first start, less the state's P&L then, is the *baseline*, and at every
reconciliation ``balance - baseline`` must equal ``PV - initial capital`` within
``live.equity_tolerance`` of the initial capital (fees are twotier's estimate from the
instrument file, and the broker marks at the last price, not at the last bar's close).
A deposit or a withdrawal moves the balance and shows as a difference.

``--adopt`` accepts what differs: the baseline is taken again, and contracts the broker
holds beyond the state's are *adopted* (recorded, reported at every reconciliation, and
never traded by twotier). A broker holding *fewer* contracts than the state is never
adopted: Tier-2 would close contracts that are not there (and open the other side).
"""

from __future__ import annotations

import json
from datetime import date

from twotier.config.model import Config
from twotier.live.broker import ReconcileError
from twotier.live.store import Store
from twotier.money import cny, money_units
from twotier.tier2.state import PortfolioState

Holding = dict[tuple[str, str], tuple[int, int]]  # (symbol, LONG|SHORT) -> (volume, yd)


def state_holding(state: PortfolioState, contract_for, today: date) -> Holding:
    held: Holding = {}
    for b in state.baskets:
        p = b.position
        if p is None or not p.contracts:
            continue
        symbol = p.contract or contract_for(b.instrument, today)
        key = (symbol, "LONG" if p.side > 0 else "SHORT")
        volume, yd = held.get(key, (0, 0))
        held[key] = (volume + p.contracts, yd + (p.contracts if p.entry_day < today else 0))
    return held


def with_unbooked_fills(held: Holding, broker) -> Holding:
    """The state's holding plus the fills of twotier's own orders that Tier-2 has not
    booked yet (they are booked at the order's next bar): an order that filled while
    twotier was down, or since the last step."""
    held = dict(held)
    for (order_id, round_), trades in sorted(broker.trades.items()):
        w = broker.working.get(order_id)
        if w is None or w.phase == "closed" or round_ <= broker.reported.get(order_id, 0):
            continue
        for t in trades:
            r = broker.by_gateway_id[t.gateway_id]
            opens = t.offset == "OPEN"
            side = r.direction if opens else ("SHORT" if r.direction == "LONG" else "LONG")
            volume, yd = held.get((r.symbol, side), (0, 0))
            if opens:
                held[(r.symbol, side)] = (volume + t.volume, yd)
            else:
                from_yd = 0 if t.offset == "CLOSETODAY" else min(yd, t.volume)
                held[(r.symbol, side)] = (volume - t.volume, yd - from_yd)
    return {k: v for k, v in held.items() if v != (0, 0)}


def broker_holding(broker) -> Holding:
    held: Holding = {}
    for (symbol, direction), p in broker.view.positions.items():
        if broker.instrument_of(symbol) is not None and p.volume:
            held[(symbol, direction)] = (int(p.volume), int(p.yd_volume))
    return held


def differences(mine: Holding, theirs: Holding, adopted: Holding) -> list[str]:
    out = []
    for key in sorted(set(mine) | set(theirs) | set(adopted)):
        volume, yd = mine.get(key, (0, 0))
        extra = adopted.get(key, (0, 0))
        want = (volume + extra[0], yd + extra[1])
        got = theirs.get(key, (0, 0))
        if got != want:
            symbol, direction = key
            out.append(
                f"{symbol} {direction.lower()}: state {want[0]} ({want[1]} yesterday's), "
                f"broker {got[0]} ({got[1]} yesterday's)"
            )
    return out


class Reconciler:
    """The reconciliation of one live run, with what it adopted kept in the state
    database (meta ``live_baseline`` and ``live_adopted``)."""

    def __init__(self, config: Config, store: Store, broker, contract_for, alert, event):
        self.config = config
        self.store = store
        self.broker = broker
        self.contract_for = contract_for
        self.alert = alert
        self.event = event

    def check(self, state: PortfolioState, *, adopt: bool, when: str) -> None:
        today = self.broker.trading_day(self.broker.clock())
        mine = with_unbooked_fills(state_holding(state, self.contract_for, today), self.broker)
        theirs = broker_holding(self.broker)
        adopted = self._adopted(today)
        problems = differences(mine, theirs, adopted)
        account = self.broker.view.account
        pnl = state.last_pv - money_units(self.config.portfolio.initial_capital)
        baseline = self.store.meta("live_baseline")
        equity = None
        if account is None:
            self.alert("reconcile", "the gateway reported no account: equity not reconciled")
        elif baseline is None:
            self._keep("live_baseline", json.dumps(account.balance - cny(pnl)))
        else:
            expected = float(baseline) + cny(pnl)
            allowed = self.config.live.equity_tolerance * float(
                self.config.portfolio.initial_capital
            )
            if abs(account.balance - expected) > allowed:
                equity = (
                    f"account equity {account.balance:,.2f}, expected {expected:,.2f} (baseline "
                    f"{float(baseline):,.2f} + twotier's P&L {cny(pnl):,.2f}; tolerance "
                    f"{allowed:,.2f})"
                )
        if not problems and equity is None:
            self.event("reconcile", f"reconciled ({when}): positions and equity agree")
            return
        detail = "; ".join(problems + ([equity] if equity else []))
        short = [p for p in problems if self._short(p, mine, theirs, adopted)]
        if adopt and not short:
            self._adopt(mine, theirs, account, pnl, today)
            self.alert("reconcile", f"{when}: adopted (--adopt): {detail}")
            return
        self.alert("reconcile", f"{when}: the state and the broker differ: {detail}")
        why = (
            "the broker holds fewer contracts than the state (never adopted)"
            if adopt
            else "resolve it at the broker, or start with --adopt to accept it"
        )
        raise ReconcileError(
            f"positions or equity at the broker differ from the state ({detail}); {why}"
        )

    def _short(self, problem: str, mine: Holding, theirs: Holding, adopted: Holding) -> bool:
        for key in set(mine) | set(adopted):
            symbol, direction = key
            if problem.startswith(f"{symbol} {direction.lower()}:"):
                want = mine.get(key, (0, 0))[0] + adopted.get(key, (0, 0))[0]
                return theirs.get(key, (0, 0))[0] < want
        return False

    def _adopted(self, today: date) -> Holding:
        """The contracts adopted, as the broker counts them today: all of them
        yesterday's from the trading day after the adoption on."""
        body = self.store.meta("live_adopted")
        if body is None:
            return {}
        day = self.store.meta("live_adopted_day")
        later = day is not None and date.fromisoformat(json.loads(day)) < today
        return {(s, d): (v, v if later else y) for s, d, v, y in json.loads(body)}

    def _adopt(self, mine: Holding, theirs: Holding, account, pnl: int, today: date) -> None:
        extra = []
        for key, (volume, yd) in sorted(theirs.items()):
            own = mine.get(key, (0, 0))
            if (volume, yd) != own:
                extra.append([*key, volume - own[0], yd - own[1]])
        self._keep("live_adopted", json.dumps(extra))
        self._keep("live_adopted_day", json.dumps(today.isoformat()))
        if account is not None:
            self._keep("live_baseline", json.dumps(account.balance - cny(pnl)))

    def _keep(self, key: str, value: str) -> None:
        with self.store.transaction() as tx:
            tx.set_meta(key, value)
