"""Contract life (RULES.md 11): delivery months from contract codes, the delivery deadline,
trading days until it, and the warning for roll information that keeps a contract until
its deadline (data check and backtest)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from twotier.cli.main import app
from twotier.config import load_config
from twotier.errors import ConfigError, DataError
from twotier.market.calendar import TradingCalendar, default_calendar
from twotier.market.contracts import belongs_to, delivery_month
from twotier.market.delivery import deadline_of, deadline_warnings, trading_days_until
from twotier.market.rolls import Roll, RollSchedule, read_schedule

D = dt.date


@pytest.mark.parametrize(
    ("code", "near", "expected"),
    [
        ("i2005", None, (2020, 5)),
        ("cu2202", None, (2022, 2)),
        ("MA205", D(2022, 1, 10), (2022, 5)),
        ("MA001", D(2019, 11, 1), (2020, 1)),  # across a decade: the nearest year
        ("MA912", D(2019, 6, 3), (2019, 12)),
        ("MA505", D(2024, 12, 2), (2025, 5)),
        ("SR109", D(2020, 12, 31), (2021, 9)),
    ],
)
def test_delivery_month_of_a_code(code, near, expected):
    assert delivery_month(code, near) == expected


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("i2013", "13 is not a month"),
        ("i2000", "00 is not a month"),
        ("MA205", "three-digit code needs a date"),
        ("main", "is not a contract code"),
    ],
)
def test_a_code_without_a_delivery_month_is_a_value_error(code, message):
    with pytest.raises(ValueError, match=message):
        delivery_month(code)


def test_belongs_to_compares_the_products_letters_without_case():
    assert belongs_to("i2005", "i") and belongs_to("I2005", "i") and belongs_to("MA205", "ma")
    assert not belongs_to("m2009", "i") and not belongs_to("i2005", "m")
    assert not belongs_to("2005", "i") and not belongs_to("ii2005", "i")


@pytest.mark.parametrize(
    ("code", "days_before", "deadline"),
    [
        ("i2005", 1, D(2020, 4, 29)),  # RULES.md 11: 2020-04-30 less one trading day
        ("i2005", 0, D(2020, 4, 30)),
        ("i2005", 3, D(2020, 4, 27)),
        ("cu2202", 1, D(2022, 1, 27)),  # 2022-01-31 .. 02-04 closed: the 28th, less one
        ("i2001", 1, D(2019, 12, 30)),
        ("m2009", 1, D(2020, 8, 28)),
    ],
)
def test_deadline_is_the_last_trading_day_before_the_delivery_month_less_n(
    code, days_before, deadline
):
    assert deadline_of(code, default_calendar(), days_before) == deadline


def test_deadline_past_the_calendar_counts_weekdays():
    calendar = default_calendar()
    assert calendar.last == np.datetime64("2026-12-31")
    # March 2027: the last weekday of February 2027 is Friday 02-26, less one.
    assert deadline_of("i2703", calendar) == D(2027, 2, 25)
    # January 2027: 2026-12-31 is recorded, less one: 12-30.
    assert deadline_of("i2701", calendar) == D(2026, 12, 30)


def test_deadline_follows_a_calendar_file_with_next_years_holidays(tmp_path):
    path = tmp_path / "calendar.toml"
    path.write_text('weekdays_until = 2027-12-31\nholidays = ["2027-02-25", "2027-02-26"]\n')
    assert deadline_of("i2703", TradingCalendar.load(path)) == D(2027, 2, 23)


def test_deadline_refuses_a_code_without_a_month_and_a_negative_count():
    with pytest.raises(ValueError, match="not a month"):
        deadline_of("i2013", default_calendar())
    with pytest.raises(ValueError, match="days_before"):
        deadline_of("i2005", default_calendar(), -1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2020, 4, 22), 5),  # the day paper trading alerts: five trading days ahead
        (D(2020, 4, 24), 3),
        (D(2020, 4, 25), 3),  # a Saturday counts from itself
        (D(2020, 4, 29), 0),
        (D(2020, 4, 30), -1),
        (D(2020, 5, 6), -2),  # the Labour Day holiday between
    ],
)
def test_trading_days_until_the_deadline(day, expected):
    assert trading_days_until(day, D(2020, 4, 29), default_calendar()) == expected


def test_trading_days_until_a_deadline_past_the_calendar_counts_weekdays():
    assert trading_days_until(D(2026, 12, 30), D(2027, 1, 5), default_calendar()) == 4


def _days(*texts: str) -> np.ndarray:
    return np.array(texts, dtype="datetime64[D]")


def test_deadline_warnings_name_each_contract_kept_until_its_deadline_once():
    contracts = np.array(["i2005", "i2005", "i2005", "i2009", "i2009"])
    days = _days("2020-04-28", "2020-04-29", "2020-04-30", "2020-05-06", "2020-05-07")
    (warning,) = deadline_warnings("DCE/i", contracts, days, default_calendar())
    assert warning == (
        "DCE/i: the roll information keeps i2005 until 2020-04-30, but no position on it may "
        "be held from its delivery deadline 2020-04-29 (the last trading day before May "
        "2020, less 1 trading day(s)); roll earlier"
    )
    assert deadline_warnings("DCE/i", contracts[:1], days[:1], default_calendar()) == []
    assert len(deadline_warnings("DCE/i", contracts, days, default_calendar(), 0)) == 1
    assert deadline_warnings("DCE/i", contracts[:2], days[:2], default_calendar(), 0) == []


def test_configuration_has_a_contracts_section_with_rules_defaults():
    config = load_config()
    assert config.contracts.delivery_deadline is True
    assert config.contracts.exit_days_before_delivery == 1
    changed = load_config(overrides=["contracts.exit_days_before_delivery=3"])
    assert changed.contracts.exit_days_before_delivery == 3
    with pytest.raises(ConfigError, match="exit_days_before_delivery"):
        load_config(overrides=["contracts.exit_days_before_delivery=-1"])


# Roll information of another product is refused (issue 12).

IRON_SCHEDULE = "trading_day,old_contract,new_contract,old_price,new_price\n2020-03-31,i2005,i2009,645.5,576.5\n"  # noqa: E501


def test_a_schedule_of_another_product_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "rolls_of_i.csv"
    path.write_text(IRON_SCHEDULE)
    assert len(read_schedule(path, "i")) == 1
    with pytest.raises(DataError, match=r"line 2: contract 'i2005' is not a .*'m'"):
        read_schedule(path, "m")


def test_data_check_refuses_rolls_of_another_product(tmp_path, write_csv):
    path = tmp_path / "rolls_of_i.csv"
    path.write_text(IRON_SCHEDULE)
    bars = write_csv(
        ["datetime,open,high,low,close,volume", "2020-03-31 09:00,2600,2601,2599,2600,5"]
    )
    result = CliRunner().invoke(
        app, ["data", "check", str(bars), "-i", "DCE/m", "--rolls", str(path)]
    )
    assert isinstance(result.exception, DataError)  # the entry point prints it in one line
    assert "rolls_of_i.csv, line 2: contract 'i2005' is not a product 'm'" in str(result.exception)


def test_a_backtest_refuses_a_schedule_of_another_product():
    from twotier.engine.backtest import run_backtest
    from twotier.market.sample import load_sample

    bars = {"DCE/m": load_sample("DCE/m").iloc[:200]}
    config = load_config(
        overrides=['portfolio.baskets=[{instrument="DCE/m", capital_fraction=0.9}]']
    )
    rolls = RollSchedule((Roll(D(2023, 1, 10), "i2305", "i2309", 800.0, 790.0),))
    with pytest.raises(DataError, match="roll schedule of DCE/m: roll 1: contract 'i2305'"):
        run_backtest(bars, config, rolls={"DCE/m": rolls})


def test_a_contract_column_of_another_product_is_a_bad_bar(write_csv):
    from twotier.errors import BadBarsError
    from twotier.market.bars import read_bars

    path = write_csv(
        [
            "datetime,open,high,low,close,volume,symbol",
            "2024-03-05 09:00:00,2600,2601,2599,2600,5,m2405",
            "2024-03-05 09:15:00,2600,2601,2599,2600,5,i2405",
        ]
    )
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/m", contract_column="symbol", bar_minutes=15)
    (problem,) = info.value.problems
    assert problem.line == 3
    assert problem.problem == (
        "contract 'i2405' is not a DCE/m contract (its codes are like m2405)"
    )


# On the real iron ore series: a contract column that holds i2005 into May 2020.


@pytest.fixture(scope="module")
def late_iron(real_bars, tmp_path_factory):
    """The real iron ore file with a contract column whose switch from i2005 to i2009
    comes on 2020-05-12 instead of 2020-03-31."""
    loaded = real_bars("DCE.i.HOT.m5.csv")
    frame = loaded.frame
    days = frame["trading_day"]
    symbol = np.where(days < "2019-12-06", "i2001", np.where(days < "2020-05-12", "i2005", "i2009"))
    out = frame.drop(columns=["trading_day"]).reset_index()
    out["datetime"] = (out["time"] + pd.Timedelta(minutes=5)).dt.strftime("%Y-%m-%d %H:%M:%S")
    out["symbol"] = symbol
    path = tmp_path_factory.mktemp("late") / "i_late.csv"
    out.drop(columns=["time"])[
        ["datetime", "open", "high", "low", "close", "volume", "symbol"]
    ].to_csv(path, index=False)
    return path


def test_data_check_warns_once_about_i2005_held_into_may_2020(late_iron):
    result = CliRunner().invoke(
        app,
        ["data", "check", str(late_iron), "-i", "DCE/i", "--label", "end",
         "--contract-column", "symbol", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    late = [w for w in summary["warnings"] if "delivery deadline" in w]
    assert late == [
        "DCE/i: the contract column keeps i2005 until 2020-05-11, but no position on it may "
        "be held from its delivery deadline 2020-04-29 (the last trading day before May "
        "2020, less 1 trading day(s)); roll earlier"
    ]


def test_backtest_warns_once_about_i2005_held_into_may_2020(late_iron):
    from twotier.engine.backtest import run_backtest
    from twotier.engine.inputs import Environment, load_bar_files

    one = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
    config = load_config(overrides=[one, "data.label=end", "data.contract_column=symbol"])
    inputs = load_bar_files({"DCE/i": late_iron}, config, Environment.from_config(config))
    result = run_backtest({"DCE/i": inputs["DCE/i"].bars}, config)
    late = [w for w in result.warnings if "delivery deadline" in w]
    assert len(late) == 1 and "i2005 until 2020-05-11" in late[0]
    off = load_config(overrides=[one, "data.label=end", "contracts.delivery_deadline=false"])
    result = run_backtest({"DCE/i": inputs["DCE/i"].bars}, off)
    assert not any("delivery deadline" in w for w in result.warnings)


# A contract column that names one contract throughout: no roll, but a deadline.

HOLD = [
    'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]',
    *(f"exits.{rule}=false" for rule in ("low_confidence", "stop_loss", "signal_reversal",
      "confidence_drop_with_loss", "profit_target", "trailing_stop", "profit_protect")),
    "breakers.daily_loss_breaker=false",
    "breakers.drawdown_breaker=false",
]  # fmt: skip


def test_bars_of_one_contract_are_closed_and_warned_about_at_its_deadline():
    # The sample's iron ore from August to October 2024, all of it i2411 (deadline
    # 2024-10-30): the position held since August is closed at the deadline day's first
    # bar, the night of 10-29, and nothing is entered after. Without a roll in the column
    # the contract used to be dropped: no warning, the position held to the end.
    from twotier.engine.backtest import run_backtest
    from twotier.market.sample import load_sample

    bars = load_sample("DCE/i")
    days = bars["trading_day"]
    bars = bars[(days >= "2024-08-01") & (days <= "2024-10-31")].assign(contract="i2411")
    result = run_backtest({"DCE/i": bars}, load_config(overrides=HOLD))
    late = [w for w in result.warnings if "delivery deadline" in w]
    assert len(late) == 1 and "keeps i2411 until 2024-10-31" in late[0]
    (trade,) = result.trades.itertuples()
    assert trade.reason == "delivery_deadline" and trade.contract == "i2411"
    assert str(trade.exit_decided_at) == "2024-10-29 21:00:00+08:00"
    assert not result.fills["opens"][result.fills["time"] >= trade.exit_decided_at].any()


def test_data_check_warns_about_bars_of_one_contract_kept_past_its_deadline(write_csv):
    path = write_csv(
        [
            "datetime,open,high,low,close,volume,symbol",
            "2024-10-30 09:00:00,800,801,799,800,5,i2411",
            "2024-10-30 09:15:00,800,801,799,800,5,i2411",
        ]
    )
    result = CliRunner().invoke(
        app,
        ["data", "check", str(path), "-i", "DCE/i", "--contract-column", "symbol", "--json"],
    )
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any("keeps i2411 until 2024-10-30" in w for w in warnings), warnings


def test_each_bars_contract_comes_from_the_rolls_else_from_a_column_they_were_read_off():
    from twotier.market.rolls import schedule_from_contracts, traded_contracts

    days = pd.to_datetime(["2024-10-29", "2024-10-30"]).astype("datetime64[s]")
    frame = pd.DataFrame(
        {"open": 800.0, "close": 800.0, "trading_day": days, "contract": "i2411"},
        index=pd.DatetimeIndex(["2024-10-29 09:00", "2024-10-30 09:00"], tz="Asia/Shanghai"),
    )
    read_off = schedule_from_contracts(frame)
    assert len(read_off) == 0 and read_off.from_column
    assert traded_contracts(frame, read_off).tolist() == ["i2411", "i2411"]
    assert traded_contracts(frame, None).tolist() == ["i2411", "i2411"]
    # A schedule given empty names no contract, as in paper trading (live.rolls).
    assert traded_contracts(frame, RollSchedule()) is None
    assert traded_contracts(frame.drop(columns="contract"), None) is None


def test_a_contract_code_is_spelled_as_its_product_whatever_the_case_written():
    from twotier.market.contracts import canonical

    assert canonical("I2105", "i") == "i2105" and canonical("ma205", "MA") == "MA205"
    assert canonical("m2105", "i") == "m2105"  # another product's: left as written


def test_a_contract_column_in_two_cases_is_one_contract_and_cannot_come_back(write_csv):
    from twotier.market.bars import read_bars

    header = "datetime,open,high,low,close,volume,symbol"
    same = [header, "2024-03-05 09:00:00,800,801,799,800,5,I2405",
            "2024-03-06 09:00:00,800,801,799,800,5,i2405"]  # fmt: skip
    loaded = read_bars(write_csv(same), "DCE/i", contract_column="symbol", bar_minutes=15)
    assert loaded.frame["contract"].tolist() == ["i2405", "i2405"]  # no roll
    back = [*same, "2024-03-07 09:00:00,800,801,799,800,5,i2409",
            "2024-03-08 09:00:00,800,801,799,800,5,I2405"]  # fmt: skip
    with pytest.raises(DataError, match="contract i2405 comes back after being replaced"):
        read_bars(write_csv(back), "DCE/i", contract_column="symbol", bar_minutes=15)


def test_a_schedule_whose_contract_comes_back_in_another_case_is_refused(tmp_path):
    path = tmp_path / "rolls.csv"
    rows = ["trading_day,old_contract,new_contract,old_price,new_price",
            "2021-03-08,I2105,i2109,677.5,680", "2021-03-15,i2109,i2105,649,643"]  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="contract i2105 comes back after being replaced"):
        read_schedule(path)


def test_tier2_alone_warns_about_a_deadline_as_the_backtest_on_bars_does():
    # The packages of the one-contract run above carry the contract: Tier-2 alone on them
    # (`backtest --signals`) warns as the run on bars did (it said nothing).
    from twotier.config.baskets import fit_baskets
    from twotier.engine.backtest import run_backtest
    from twotier.engine.inputs import Environment
    from twotier.engine.runs import tier2_on_table
    from twotier.market.sample import load_sample

    bars = load_sample("DCE/i")
    days = bars["trading_day"]
    bars = bars[(days >= "2024-08-01") & (days <= "2024-10-31")].assign(contract="i2411")
    config = load_config(overrides=HOLD)
    on_bars = run_backtest({"DCE/i": bars}, config)
    table = pd.concat(
        [p.assign(instrument=k) for k, p in on_bars.packages.items()], ignore_index=True
    )
    fitted = fit_baskets(config, ["DCE/i"], what="packages", fix="")
    env = Environment.from_config(fitted.config)
    alone = tier2_on_table(table, fitted, env, start=None, end=None, source="p", rolls=None)
    late = [w for w in alone.warnings if "delivery deadline" in w]
    assert late == [w for w in on_bars.warnings if "delivery deadline" in w] and late
    assert alone.trades["reason"].tolist() == on_bars.trades["reason"].tolist()
