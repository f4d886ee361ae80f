"""`twotier live` on a vn.py gateway, against an exchange inside the test
(helpers/exchange.py): the backtest's decisions and fills when the exchange fills
everything; each scripted fault's documented outcome; reconciliation; the kill switch;
the CTP gateway's class and settings."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("vnpy", reason="vn.py is not installed here: `make live` installs it")

from helpers.exchange import write_market
from test_live_crash import steps_committed
from test_live_parity import (
    IRON_ORE,
    assert_same_run_folders,
    backtest_folder,
    write_bar_csv,
    write_sample_feed,
)
from twotier.errors import ConfigError
from twotier.live.broker import ReconcileError
from twotier.live.gateway import load_gateway_class, read_connect_settings
from twotier.live.trading import LiveSettings, run_live
from twotier.market.sample import load_sample

GATEWAY = "helpers.exchange:ReplayGateway"
CONTRACTS = {"DCE/i": "i2501", "SHFE/cu": "cu2410", "DCE/m": "m2501"}
MARKETABLE = "live.order_ticks=1000"  # always marketable: fills at the best price


def live(connect: Path, state: Path, *overrides: str, **settings) -> Path:
    """An in-process live run on the test exchange; returns the run folder."""
    options = {"contracts": CONTRACTS, "quiet": True, "synchronous": "NORMAL"}
    options.update(settings)
    run = LiveSettings(
        gateway=GATEWAY, connect=connect, state_dir=state, overrides=list(overrides), **options
    )
    return run_live(run, handle_signals=False).run_dir


def market(files: dict[str, Path], folder: Path, label: str = "start", **kw) -> Path:
    return write_market(folder, {k: (p, label, CONTRACTS[k]) for k, p in files.items()}, **kw)


def log_lines(state: Path) -> list[dict]:
    return [json.loads(line) for line in (state / "paper.log").read_text().splitlines()]


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory) -> dict[str, Path]:
    return write_sample_feed(tmp_path_factory.mktemp("feed"), "2024-09-02", "2024-09-13")


@pytest.fixture(scope="module")
def expected(two_weeks, tmp_path_factory) -> Path:
    return backtest_folder(two_weeks, tmp_path_factory.mktemp("bt") / "run", MARKETABLE)


@pytest.fixture(scope="module")
def reference(two_weeks, tmp_path_factory) -> Path:
    """The state folder of a fault-free live run on the two weeks."""
    folder = tmp_path_factory.mktemp("reference")
    live(market(two_weeks, folder / "exchange"), folder / "state", MARKETABLE)
    return folder / "state"


def test_live_run_on_the_real_iron_ore_file_makes_the_backtests_decisions_and_fills(
    real_file, tmp_path
):
    source = real_file("DCE.i.HOT.m5.csv")
    # The live run makes its bars of ticks, stamped by their start: its config.toml says
    # so, however the file the backtest reads was stamped.
    expected = backtest_folder(
        {"DCE/i": source}, tmp_path / "backtest", IRON_ORE, MARKETABLE, label="end",
        recorded=False,
    )  # fmt: skip
    connect = write_market(
        tmp_path / "exchange", {"DCE/i": (source, "end", "i2009")}, persist=False
    )
    got = live(connect, tmp_path / "state", IRON_ORE, MARKETABLE, contracts={"DCE/i": "i2009"})
    assert_same_run_folders(expected, got)
    assert len((got / "fills.csv").read_text().splitlines()) > 20


def test_live_run_on_three_instruments_equals_the_backtest(expected, reference):
    assert_same_run_folders(expected, reference / "run")
    fills = pd.read_csv(reference / "run" / "fills.csv")
    assert set(fills["instrument"]) == {"DCE/i", "SHFE/cu"}  # soybean meal never entered
    # One request per order, each filled whole: nothing sent twice.
    exchange = json.loads((reference.parent / "exchange" / "exchange.json").read_text())
    assert len(exchange["orders"]) == len(fills) == len(exchange["trades"])
    events = {line["event"] for line in log_lines(reference)}
    assert {"start", "reconcile", "step", "outputs", "stop"} <= events


def decisions(state: Path) -> str:
    return (state / "run" / "decisions.log").read_text()


def test_a_rejected_order_is_reported_with_the_brokers_text(two_weeks, tmp_path):
    connect = market(two_weeks, tmp_path / "ex", script={"reject": {"1": "资金不足"}})
    live(connect, tmp_path / "state", MARKETABLE)
    text = decisions(tmp_path / "state")
    assert "entry_rejected" in text and "资金不足" in text
    orders = [x["message"] for x in log_lines(tmp_path / "state") if x["event"] == "order"]
    assert any("filled 0 of 5 (rejected: 交易委托失败" in m for m in orders)
    messages = [line["message"] for line in log_lines(tmp_path / "state")]
    assert any("交易委托失败" in m for m in messages)  # the gateway's own line, logged


def test_a_partly_filled_entry_books_what_filled_and_drops_the_rest(two_weeks, tmp_path):
    connect = market(two_weeks, tmp_path / "ex", script={"partial": {"1": 2}})
    live(connect, tmp_path / "state", MARKETABLE, "live.order_retries=0")
    assert "entry_cut_volume" in decisions(tmp_path / "state")
    fills = pd.read_csv(tmp_path / "state" / "run" / "fills.csv")
    first = fills.iloc[0]
    assert (first["instrument"], first["contracts"]) == ("SHFE/cu", 2)
    orders = [x["message"] for x in log_lines(tmp_path / "state") if x["event"] == "order"]
    assert any("filled 2 of 5 (no_volume)" in m for m in orders)


def test_an_order_at_a_locked_limit_is_retried_then_reported_unfilled(two_weeks, tmp_path):
    lock = {"contract": "cu2410", "from": "2024-09-03 21:40", "to": "2024-09-03 21:59"}
    connect = market(two_weeks, tmp_path / "ex", script={"lock": [lock]})
    live(connect, tmp_path / "state", MARKETABLE)
    assert "entry_unfilled_limit" in decisions(tmp_path / "state")
    exchange = json.loads((tmp_path / "ex" / "exchange.json").read_text())
    tries = [o for o in exchange["orders"].values() if o["symbol"] == "cu2410"][:4]
    assert [o["status"] for o in tries] == ["CANCELLED"] * 4  # sent, cancelled, 3 retries
    orders = [x["message"] for x in log_lines(tmp_path / "state") if x["event"] == "order"]
    assert sum("not filled in 5 s: cancelled" in m for m in orders) >= 4
    assert any("filled 0 of 5 (price_limit)" in m for m in orders)


def test_a_dropped_connection_and_the_days_trades_pushed_again_change_nothing(
    two_weeks, reference, tmp_path
):
    connect = market(two_weeks, tmp_path / "ex", script={"drop": ["2024-09-04 10:00:00"]})
    got = live(connect, tmp_path / "state", MARKETABLE)
    assert_same_run_folders(reference / "run", got)
    messages = [line["message"] for line in log_lines(tmp_path / "state")]
    assert any("连接断开" in m for m in messages)
    assert any("reconciled (after a reconnect)" in m for m in messages)


def finished_run(two_weeks, tmp_path) -> tuple[Path, Path]:
    """A run over the two weeks (it ends holding 1 copper long), and its exchange."""
    shutil.copytree(two_weeks[next(iter(two_weeks))].parent, tmp_path / "feed")
    files = {k: tmp_path / "feed" / p.name for k, p in two_weeks.items()}
    connect = market(files, tmp_path / "ex")
    live(connect, tmp_path / "state", MARKETABLE)
    return connect, tmp_path / "ex" / "exchange.json"


def edit(path: Path, change) -> None:
    state = json.loads(path.read_text())
    change(state)
    path.write_text(json.dumps(state))


def test_a_position_the_state_does_not_hold_stops_the_run_unless_adopted(two_weeks, tmp_path):
    connect, exchange = finished_run(two_weeks, tmp_path)
    edit(exchange, lambda s: s["positions"].setdefault("i2501", {}).update(LONG=[0, 3]))
    with pytest.raises(ReconcileError, match=r"i2501 long: state 0 \(0 yesterday's\), broker 3"):
        live(connect, tmp_path / "state", MARKETABLE)
    alert = [x for x in log_lines(tmp_path / "state") if x.get("kind") == "reconcile"][-1]
    assert "i2501 long" in alert["message"]
    live(connect, tmp_path / "state", MARKETABLE, adopt=True)
    adopted = [x for x in log_lines(tmp_path / "state") if x.get("kind") == "reconcile"][-1]
    assert "adopted (--adopt)" in adopted["message"]
    live(connect, tmp_path / "state", MARKETABLE)  # adopted: reconciles from now on


def test_an_account_that_moved_by_more_than_twotiers_pnl_stops_the_run(two_weeks, tmp_path):
    connect, exchange = finished_run(two_weeks, tmp_path)
    edit(exchange, lambda s: s.update(cash=s["cash"] + 100_000))  # a deposit
    with pytest.raises(ReconcileError, match="account equity"):
        live(connect, tmp_path / "state", MARKETABLE)


def test_a_broker_holding_less_than_the_state_is_never_adopted(two_weeks, tmp_path):
    connect, exchange = finished_run(two_weeks, tmp_path)
    edit(exchange, lambda s: s["positions"]["cu2410"].update(LONG=[0, 0]))
    with pytest.raises(ReconcileError, match="never adopted"):
        live(connect, tmp_path / "state", MARKETABLE, adopt=True)


def test_the_kill_switch_closes_everything_and_opens_nothing(two_weeks, tmp_path):
    connect, _ = finished_run(two_weeks, tmp_path)
    longer = write_sample_feed(tmp_path / "longer", "2024-09-02", "2024-09-20")
    for path in longer.values():  # the market goes on
        shutil.copy(path, tmp_path / "feed" / path.name)
    live(connect, tmp_path / "state", MARKETABLE, flatten=True)
    trades = pd.read_csv(tmp_path / "state" / "run" / "trades.csv")
    last = trades.iloc[-1]
    assert (last["instrument"], last["reason"]) == ("SHFE/cu", "kill_switch")
    assert (trades["reason"] != "open").all()
    stop = [x for x in log_lines(tmp_path / "state") if x["event"] == "stop"][-1]
    assert stop["reason"] == "flattened"


def test_the_ctp_gateway_loads_and_its_settings_are_checked(tmp_path):
    gateway = load_gateway_class("ctp", tmp_path)
    assert gateway.__name__ == "CtpGateway"
    assert (tmp_path / ".vntrader").is_dir() or Path.home().joinpath(".vntrader").is_dir()
    settings = {k: "" for k in gateway.default_setting} | {"密码": "s3cret", "柜台环境": "测试"}
    path = tmp_path / "connect.json"
    path.write_text(json.dumps(settings))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        read_connect_settings(path, gateway)
    path.chmod(0o600)
    assert read_connect_settings(path, gateway) == settings
    path.write_text(json.dumps({**settings, "柜台环境": "模拟"}))
    with pytest.raises(ConfigError, match="柜台环境 must be one of 实盘, 测试") as other:
        read_connect_settings(path, gateway)
    del settings["用户名"]
    path.write_text(json.dumps(settings))
    with pytest.raises(ConfigError, match="missing 用户名") as missing:
        read_connect_settings(path, gateway)
    for error in (info, other, missing):
        assert "s3cret" not in str(error.value)  # values are never echoed


def test_an_unknown_gateway_says_how_to_install_one(tmp_path):
    from twotier.live.gateway import GatewayError

    with pytest.raises(GatewayError, match="make live"):
        load_gateway_class("nosuch", tmp_path)


@pytest.mark.parametrize("name", ["os:path", "os.path:join", "os:sep", "os:nothing"])
def test_a_module_and_name_that_is_no_gateway_class_is_one_error(name, tmp_path):
    # A function given as module:Class was an internal error (issubclass of a function).
    from twotier.live.gateway import GatewayError

    with pytest.raises(GatewayError, match=r"does not name one vn\.py gateway class"):
        load_gateway_class(name, tmp_path)


def start_live(connect: Path, state: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "twotier", "live", "--gateway", GATEWAY, "--connect"]
    command += [str(connect), "--state", str(state), "--set", MARKETABLE]
    command += ["--durability", "normal", "--quiet"]
    for key, contract in CONTRACTS.items():
        command += ["--contract", f"{key}={contract}"]
    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def sends(exchange: Path) -> int:
    try:
        return json.loads(exchange.read_text())["sends"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def kill_at(process: subprocess.Popen, state: Path, exchange: Path, target: tuple) -> None:
    """SIGKILL once ``steps`` steps are committed, or just after the exchange has taken
    order number ``orders`` (an order in flight), plus a random moment."""
    kind, n, jitter = target
    while process.poll() is None:
        done = steps_committed(state) >= n if kind == "steps" else sends(exchange) >= n
        if done:
            break
        time.sleep(0.001)
    time.sleep(jitter)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_sigkill_at_random_points_then_restart_sends_nothing_twice_and_loses_no_fill(
    two_weeks, reference, tmp_path
):
    connect = market(two_weeks, tmp_path / "ex")
    exchange, state = tmp_path / "ex" / "exchange.json", tmp_path / "state"
    total = steps_committed(reference)
    rng = random.Random(20241008)
    targets = [("steps", 0, 0.3)]  # while connecting and starting
    targets += [("orders", n, rng.uniform(0, 0.005)) for n in (1, 4)]  # orders in flight
    targets += [("steps", rng.randrange(total // 2, total), rng.uniform(0, 0.02))]
    died_at = []
    for target in targets:
        kill_at(start_live(connect, state), state, exchange, target)
        died_at.append(steps_committed(state))
    assert sum(0 < n < total for n in died_at) >= 2, died_at  # the kills landed mid-run
    final = start_live(connect, state)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    assert_same_run_folders(reference / "run", state / "run")
    book = json.loads(exchange.read_text())
    fills = len((state / "run" / "fills.csv").read_text().splitlines()) - 1
    assert len(book["orders"]) == len(book["trades"]) == fills  # each order once, each fill once
    events = [line["event"] for line in log_lines(state)]
    assert events.count("restore") >= 3


def test_a_connection_file_others_can_read_is_refused_in_one_line(tmp_path):
    connect = tmp_path / "connect.json"
    connect.write_text(json.dumps({"market": "x"}))
    connect.chmod(0o644)
    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": tests}
    done = subprocess.run(
        [sys.executable, "-m", "twotier", "live", "--gateway", GATEWAY, "--connect",
         str(connect), "--state", str(tmp_path / "state"), "--contract", "DCE/i=i2501"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "chmod 600" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_contracts_follow_the_roll_schedule_and_the_next_is_subscribed_ahead():
    from datetime import date

    from twotier.live.gateway_feed import ContractPlan
    from twotier.market.rolls import Roll, RollSchedule

    schedule = RollSchedule((Roll(date(2024, 8, 1), "i2409", "i2501", 800.0, 790.0),))
    plan = ContractPlan({"DCE/i": schedule}, {"SHFE/cu": "cu2410"})
    assert plan.contract_for("DCE/i", date(2024, 7, 31)) == "i2409"
    assert plan.contract_for("DCE/i", date(2024, 8, 1)) == "i2501"
    assert plan.needed("DCE/i", date(2024, 7, 31)) == ["i2409", "i2501"]
    assert plan.needed("DCE/i", date(2024, 8, 2)) == ["i2501"]
    assert plan.needed("SHFE/cu", date(2024, 8, 2)) == ["cu2410"]
    with pytest.raises(ConfigError, match="--contract DCE/m=CODE"):
        plan.contract_for("DCE/m", date(2024, 8, 2))


class Crash(BaseException):
    """The process dying at a chosen point (not an Exception: nothing catches it)."""


def crash_before_the_exchange_has_it(monkeypatch):
    from helpers.exchange import ReplayGateway

    def dies(self, req):
        raise Crash

    monkeypatch.setattr(ReplayGateway, "send_order", dies)


def crash_before_the_id_is_written(monkeypatch):
    from twotier.live.gateway_journal import GatewayJournal

    written = GatewayJournal.sent

    def dies_once_sent(self, request):
        if request.gateway_id is not None:
            raise Crash
        written(self, request)

    monkeypatch.setattr(GatewayJournal, "sent", dies_once_sent)


@pytest.mark.parametrize(
    "crash", [crash_before_the_exchange_has_it, crash_before_the_id_is_written]
)
def test_a_crash_inside_send_order_neither_loses_nor_repeats_the_order(
    crash, two_weeks, reference, tmp_path, monkeypatch
):
    """The request is committed, then the process dies inside the gateway's send_order:
    before the exchange has the order (the restart sends it), or after (the restart
    matches the exchange's order of the day to the request: not sent again)."""
    connect = market(two_weeks, tmp_path / "ex")
    with monkeypatch.context() as patch:
        crash(patch)
        with pytest.raises(Crash):
            live(connect, tmp_path / "state", MARKETABLE)
    got = live(connect, tmp_path / "state", MARKETABLE)
    assert_same_run_folders(reference / "run", got)
    book = json.loads((tmp_path / "ex" / "exchange.json").read_text())
    fills = len((got / "fills.csv").read_text().splitlines()) - 1
    assert len(book["orders"]) == len(book["trades"]) == fills


def test_live_trading_goes_on_past_the_calendars_horizon_warning_each_day(tmp_path):
    """RULES.md 11: the shipped calendar ends on 2026-12-31. A live run from its last days
    into 2027 takes the exchange's days, warning every trading day from 30 days before
    the horizon and every day past it, naming the fix (it stopped at 2026-12-31 15:00)."""
    # One sample trading day (the night of 2024-09-02, then 2024-09-03) laid onto each
    # of these days; 2027-01-01 is New Year's Day, so the evening before has no night.
    sample = load_sample("DCE/i")
    one = sample[sample["trading_day"] == pd.Timestamp("2024-09-03")]
    night = one.index.hour >= 21
    evenings = {
        "2026-12-29": "2026-12-28",
        "2026-12-30": "2026-12-29",
        "2026-12-31": "2026-12-30",
        "2027-01-04": None,
        "2027-01-05": "2027-01-04",
    }
    parts = []
    for day, evening in evenings.items():
        moved = one[~night].copy()
        moved.index += pd.Timestamp(day) - pd.Timestamp("2024-09-03")
        parts.append(moved)
        if evening is not None:
            moved = one[night].copy()
            moved.index += pd.Timestamp(evening) - pd.Timestamp("2024-09-02")
            parts.insert(-1, moved)
    bars = pd.concat(parts)
    write_bar_csv(bars, tmp_path / "i.csv")
    calendar = tmp_path / "2027.toml"
    calendar.write_text("weekdays_until = 2027-01-31\nholidays = [2027-01-01]\n")
    connect = write_market(
        tmp_path / "exchange", {"DCE/i": (tmp_path / "i.csv", "start", "i2705")}, calendar=calendar
    )
    run = live(connect, tmp_path / "state", IRON_ORE, contracts={"DCE/i": "i2705"})
    days = pd.read_csv(run / "equity.csv")["trading_day"].unique().tolist()
    assert days == list(evenings)
    warned = [x["message"] for x in log_lines(tmp_path / "state")]
    near = [m for m in warned if "the trading calendar (XSHG) ends on 2026-12-31" in m]
    past = [m for m in warned if "is past the trading calendar" in m]
    assert len(near) == 3 and len(past) == 2
    assert "trading day 2027-01-04 is past the trading calendar" in past[0]
