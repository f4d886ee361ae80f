"""Past the calendar's horizon (RULES.md 11): live trading assumes weekdays as paper does,
and holidays a calendar file lists past the last recorded day are not assumed traded."""

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from twotier.live.gateway_broker import GatewayBroker
from twotier.live.ticks import MinuteBars, Tick
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.delivery import deadline_of
from twotier.market.instruments import default_registry


def ns(text: str) -> int:
    return pd.Timestamp(text, tz="Asia/Shanghai").value


def test_the_gateway_brokers_trading_day_past_the_horizon_is_assumed_not_an_error():
    broker = SimpleNamespace(calendar=default_calendar().assuming_weekdays())
    assert GatewayBroker._trading_day(broker, ns("2026-12-31 15:01")) == date(2027, 1, 1)
    assert GatewayBroker._trading_day(broker, ns("2027-01-04 08:55")) == date(2027, 1, 4)


def test_minute_bars_of_ticks_without_a_trading_day_past_the_horizon():
    bars = MinuteBars(
        default_registry()["DCE/i"], default_calendar().assuming_weekdays(), source="gw"
    )
    for t in ("2027-01-04 09:00:05", "2027-01-04 09:01:05"):
        out = bars.add(Tick("DCE/i", "i2705", ns(t), 800.0, 100, 1, 799.5, 800.5, 0, 0))
    assert [b.trading_day for b in out] == [date(2027, 1, 4)]


def test_holidays_listed_past_the_last_recorded_day_are_not_assumed_trading_days(tmp_path: Path):
    path = tmp_path / "cal.toml"
    path.write_text(
        "holidays = [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, "
        "2027-02-11, 2027-02-12]\n"
    )
    calendar = TradingCalendar.load(path)
    assumed = calendar.assuming_weekdays()
    assert not assumed.is_trading_day(np.array(["2027-01-01"], "datetime64[D]"))[0]
    assert not assumed.has_night(np.array(["2026-12-31"], "datetime64[D]"))[0]
    assert deadline_of("i2703", calendar, days_before=10) == date(2027, 2, 4)
    assert deadline_of("i2702", calendar, days_before=20) == date(2026, 12, 31)


def test_a_deadline_alert_past_the_horizon_says_what_it_rests_on():
    from twotier.live.session import past_horizon_note

    calendar = default_calendar().assuming_weekdays()
    assert past_horizon_note(date(2026, 12, 30), calendar) == ""
    note = past_horizon_note(date(2027, 1, 28), calendar)
    assert "counted on weekdays past the trading calendar's last recorded day, 2026-12-31" in note
