"""Delivery deadlines in Tier-2 (RULES.md 11, 10.6 item 16): from a contract's deadline day
on, a position on it is closed at the basket's first bar (unless a roll is moving it) and
no entry is made on it.

The deadline itself is the calendar's (``twotier.market.delivery.deadline_of``); Tier-2
asks for it by contract.
"""

from __future__ import annotations

from datetime import date

from twotier.config.model import ContractParams
from twotier.market.calendar import TradingCalendar
from twotier.market.delivery import deadline_of, trading_days_until

ALERT_DAYS = 5  # paper and live trading alert this many trading days ahead


class Deadlines:
    """Each contract's deadline day, computed once (None: the rule is off, or the bars
    name no contract)."""

    def __init__(self, calendar: TradingCalendar | None, params: ContractParams):
        self.calendar = calendar
        self.params = params
        self._known: dict[str, date | None] = {}

    @property
    def on(self) -> bool:
        return self.params.delivery_deadline and self.calendar is not None

    def of(self, contract: str | None, near: date | None = None) -> date | None:
        if contract is None or not self.on:
            return None
        if contract not in self._known:
            try:
                days = self.params.exit_days_before_delivery
                self._known[contract] = deadline_of(contract, self.calendar, days, near)
            except ValueError:  # no delivery month in the code: the data layer refuses it
                self._known[contract] = None
        return self._known[contract]

    def reached(self, contract: str | None, day: date) -> bool:
        """Whether ``day`` is on or after the contract's deadline."""
        deadline = self.of(contract, day)
        return deadline is not None and day >= deadline

    def ahead(self, contract: str | None, day: date) -> int | None:
        """Trading days from ``day`` to the contract's deadline (0 on it), or None."""
        deadline = self.of(contract, day)
        if deadline is None or self.calendar is None:
            return None
        return trading_days_until(day, deadline, self.calendar)
