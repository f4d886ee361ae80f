"""Tier-2 scenarios from short lists, and independent checks of a finished run.

A scenario is a package table built from a few lists per basket on a shared list of bar
times::

    t = day_bars(MON)[:4]
    table = packages(basket("DCE/i", t, close=[800, 810, 790, 795], signal=1,
                            confidence=0.9, strength=0.8))
    result = run(table, "execution.fill=close", "execution.fees=false")

Baskets of the default configuration that a scenario leaves out get flat packages (signal
0, regime 3, a constant close) on the scenario's times that are inside their sessions.
``run`` runs the event engine and ``every_step=True`` and insists they agree, and
recomputes the ledger from the fills and the closes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from twotier.config import load_config
from twotier.config.model import Config
from twotier.engine.backtest import run_tier2, split_packages
from twotier.market.calendar import default_calendar, place_bars
from twotier.market.instruments import default_registry
from twotier.run.result import BacktestResult
from twotier.tier1.package import validate_packages

TZ = "Asia/Shanghai"
IRON, COPPER, MEAL = "DCE/i", "SHFE/cu", "DCE/m"
INSTRUMENTS = (IRON, COPPER, MEAL)
FILLER_CLOSE = {IRON: 800.0, COPPER: 70000.0, MEAL: 3000.0}

# One Monday-to-Friday trading week and the following one (XSHG calendar).
MON, TUE, WED, THU, FRI = "2024-10-21", "2024-10-22", "2024-10-23", "2024-10-24", "2024-10-25"
NEXT_MON, NEXT_TUE, NEXT_WED, NEXT_THU = "2024-10-28", "2024-10-29", "2024-10-30", "2024-10-31"
WEEK = (MON, TUE, WED, THU, FRI)
TWO_WEEKS = (*WEEK, NEXT_MON, NEXT_TUE, NEXT_WED, NEXT_THU)

DAY_STARTS = (
    "09:00",
    "09:15",
    "09:30",
    "09:45",
    "10:00",
    "10:30",
    "10:45",
    "11:00",
    "11:15",
    "13:30",
    "13:45",
    "14:00",
    "14:15",
    "14:30",
    "14:45",
)
DCE_NIGHT_STARTS = ("21:00", "21:15", "21:30", "21:45", "22:00", "22:15", "22:30", "22:45")
CU_LATE_STARTS = ("23:00", "23:15", "23:30", "23:45", "00:00", "00:15", "00:30", "00:45")


def at(day: str, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz=TZ)


def day_bars(day: str) -> list[pd.Timestamp]:
    """The 15 day-session bar starts of a trading day (09:00 ... 14:45)."""
    return [at(day, t) for t in DAY_STARTS]


def night_bars(evening: str, copper: bool = False) -> list[pd.Timestamp]:
    """Night bar starts of the evening of calendar day ``evening`` (21:00-22:45; with
    ``copper`` also 23:00-00:45, the hours after midnight on the next calendar day). The
    night belongs to the next trading day."""
    times = [at(evening, t) for t in DCE_NIGHT_STARTS]
    if copper:
        next_day = (pd.Timestamp(evening) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        times += [at(evening if t >= "12:00" else next_day, t) for t in CU_LATE_STARTS]
    return times


def series(value, n: int, name: str = "value") -> list:
    """A scalar repeated n times, or a list of length n."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name}: {len(values)} values for {n} times")
    return values


def runs(*pieces: tuple[object, int]) -> list:
    """``runs((0, 2), (1, 3))`` -> [0, 0, 1, 1, 1]."""
    out: list = []
    for value, count in pieces:
        out += [value] * count
    return out


def basket(
    instrument: str,
    times: Sequence[pd.Timestamp],
    close,
    *,
    open=None,
    signal=0,
    confidence=0.0,
    strength=0.0,
    regime=3,
) -> pd.DataFrame:
    """One basket's packages: each argument a scalar or a list as long as ``times``
    (``open`` defaults to the close)."""
    n = len(times)
    closes = [float(c) for c in series(close, n, "close")]
    opens = closes if open is None else [float(o) for o in series(open, n, "open")]
    return pd.DataFrame(
        {
            "time": list(times),
            "instrument": instrument,
            "signal": series(signal, n, "signal"),
            "confidence": [float(c) for c in series(confidence, n, "confidence")],
            "signal_strength": [float(s) for s in series(strength, n, "strength")],
            "regime": series(regime, n, "regime"),
            "open": opens,
            "close": closes,
        }
    )


def valid_times(instrument: str, times: Sequence[pd.Timestamp]) -> list[pd.Timestamp]:
    """The times that are bar starts inside the instrument's sessions."""
    index = pd.DatetimeIndex(sorted(set(times)))
    _, segment = place_bars(index, default_registry()[instrument], default_calendar(), length=15)
    return list(index[segment >= 0])


def packages(*frames: pd.DataFrame, instruments: Sequence[str] = INSTRUMENTS) -> pd.DataFrame:
    """The validated package table of a scenario; baskets not given are flat."""
    given = {f["instrument"].iloc[0] for f in frames}
    everything = [t for f in frames for t in f["time"]]
    fillers = [
        basket(k, valid_times(k, everything), FILLER_CLOSE[k])
        for k in instruments
        if k not in given
    ]
    table = pd.concat([*frames, *fillers], ignore_index=True)
    return validate_packages(table, "<scenario>")


def config(*overrides: str) -> Config:
    return load_config(overrides=list(overrides))


CLOSE_NO_FEES = ("execution.fill=close", "execution.fees=false")
# For exit-tree scenarios whose losses would otherwise also trip the portfolio breakers (a
# 10x basket losing its 1.5% stop is 4.5% of PV, beyond the 3% daily limit).
NO_BREAKERS = ("breakers.daily_loss_breaker=false", "breakers.drawdown_breaker=false")
# Every exit rule, both breakers and forced liquidation switched off: a position, once
# open, is held to the data's end (across every roll, in the roll tests).
NEVER_LET_GO = (
    "market.forced_liquidation=false",
    "exits.low_confidence=false",
    "exits.stop_loss=false",
    "exits.signal_reversal=false",
    "exits.confidence_drop_with_loss=false",
    "exits.profit_target=false",
    "exits.trailing_stop=false",
    "exits.profit_protect=false",
    *NO_BREAKERS,
)


def run(
    table: pd.DataFrame,
    *overrides: str,
    start=None,
    end=None,
    compare: bool = True,
    check: bool = True,
    broker=None,
) -> BacktestResult:
    """Tier-2 over the scenario with the configuration overrides given. Runs the event
    engine and, with ``compare``, every step too (they must agree); with ``check``,
    recomputes the ledger from fills and closes. ``broker``: one of tests' own (it must
    answer the same whenever it is asked about the same order on the same bar)."""
    cfg = config(*overrides)
    split = split_packages(table, cfg, "<scenario>")
    result = run_tier2(split, cfg, start=start, end=end, broker=broker)
    if compare:
        again = run_tier2(split, cfg, start=start, end=end, every_step=True, broker=broker)
        assert_same_run(result, again)
    if check:
        check_ledger(result)
    return result


def assert_same_run(a: BacktestResult, b: BacktestResult) -> None:
    for name in ("trades", "fills", "equity", "decisions"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.summary == b.summary


# -- reading a result ---------------------------------------------------------------------


def lines(result: BacktestResult, kind: str | None = None, basket: int | None = None) -> list:
    d = result.decisions
    if kind is not None:
        d = d[d["kind"] == kind]
    if basket is not None:
        d = d[d["basket"] == basket]
    return list(d["text"])


def reasons(result: BacktestResult, kind: str, basket: int | None = None) -> list[str]:
    d = result.decisions
    d = d[d["kind"] == kind]
    if basket is not None:
        d = d[d["basket"] == basket]
    return list(d["reason"])


def trades_of(result: BacktestResult, basket: int) -> pd.DataFrame:
    return result.trades[result.trades["basket"] == basket].reset_index(drop=True)


def only_trade(result: BacktestResult, basket: int) -> pd.Series:
    mine = trades_of(result, basket)
    assert len(mine) == 1, mine
    return mine.iloc[0]


def row_at(result: BacktestResult, time: pd.Timestamp) -> pd.Series:
    e = result.equity
    found = e[e["time"] == time]
    assert len(found) == 1, f"no single equity row at {time}"
    return found.iloc[0]


# -- the ledger, recomputed ---------------------------------------------------------------


def half_up(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def exact(value: float) -> Decimal:
    """A float that the code produced as units / 10,000, back as the exact decimal."""
    return Decimal(repr(float(value))).quantize(Decimal("0.0001"))


@dataclass
class _Held:
    side: int = 0
    contracts: int = 0
    entry: Decimal = Decimal(0)


def check_ledger(result: BacktestResult) -> None:
    """Recompute every equity row from the fills and the packages' closes:
    per-basket equity = capital + realised - fees + open P&L, and
    PV = initial + realised + open - fees, to the cent (here: exactly, to 1/10,000 CNY,
    since every amount is exact). Also: at most one position per basket, positions open
    only when flat, and trade fees add up to fill fees."""
    cfg = result.config
    registry = default_registry()
    specs = [registry[k] for k in cfg.instruments]
    initial = Decimal(str(cfg.portfolio.initial_capital))
    capitals = [  # to the cent below: the baskets never take more than the capital
        (initial * Decimal(str(b.capital_fraction))).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
        for b in cfg.portfolio.baskets
    ]
    reserve = initial - sum(capitals)
    equity = result.equity
    fills = result.fills
    n = len(specs)

    closes_at = []
    for spec in specs:
        table = result.packages[spec.key]
        stamps = pd.DatetimeIndex(table["time"]).as_unit("ns").asi8
        rows = np.searchsorted(stamps, equity["time"].dt.as_unit("ns").astype("int64"), "right")
        closes = table["close"].to_numpy()
        closes_at.append([None if r == 0 else float(closes[r - 1]) for r in rows])

    held = [_Held() for _ in range(n)]
    cash = [Decimal(0)] * n
    realised = Decimal(0)
    fees = Decimal(0)
    is_final = (fills["reason"] == "end_of_data").to_numpy(dtype=bool)
    regular = fills[~is_final].to_dict("records")
    final = fills[is_final].to_dict("records")
    fill_times = np.array([pd.Timestamp(f["time"]).value for f in regular], dtype=np.int64)
    assert (np.diff(fill_times) >= 0).all(), "fills out of time order"
    row_times = equity["time"].dt.as_unit("ns").astype("int64").to_numpy()
    recorded = {
        "pv": [exact(v) for v in equity["pv"]],
        **{i: [exact(v) for v in equity[f"equity_{i}"]] for i in range(n)},
        **{("position", i): equity[f"position_{i}"].tolist() for i in range(n)},
    }
    k = 0

    def apply(f) -> None:
        nonlocal realised, fees
        i = int(f["basket"])
        h = held[i]
        price = exact(f["price"])
        fee = exact(f["fee"])
        assert fee == half_up(fee), f"fee {fee} is not whole cents"
        action = 1 if f["side"] == "BUY" else -1
        if f["opens"]:
            assert h.contracts == 0, f"basket {i} opens a position while holding one"
            held[i] = _Held(action, int(f["contracts"]), price)
        else:
            assert h.contracts >= int(f["contracts"]) and action == -h.side, f
            gross = h.side * int(f["contracts"]) * specs[i].multiplier * (price - h.entry)
            realised += gross
            cash[i] += gross
            h.contracts -= int(f["contracts"])
            if h.contracts == 0:
                held[i] = _Held()
        cash[i] -= fee
        fees += fee

    for r, t in enumerate(row_times):
        while k < len(regular) and fill_times[k] <= t:
            apply(regular[k])
            k += 1
        if r == len(row_times) - 1:
            for f in final:
                apply(f)
        open_total = Decimal(0)
        total = reserve
        for i in range(n):
            h = held[i]
            open_pnl = Decimal(0)
            if h.contracts:
                close = exact(closes_at[i][r])
                open_pnl = h.side * h.contracts * specs[i].multiplier * (close - h.entry)
            open_total += open_pnl
            want = capitals[i] + cash[i] + open_pnl
            got = recorded[i][r]
            assert got == want, f"row {r} basket {i}: equity {got} != recomputed {want}"
            assert recorded[("position", i)][r] == h.side * h.contracts
            total += got
        pv = recorded["pv"][r]
        assert pv == initial + realised + open_total - fees, (
            f"row {r} ({equity['time'].iloc[r]}): PV {pv} != initial + realised + open - fees "
            f"= {initial + realised + open_total - fees}"
        )
        assert pv == total
    assert k == len(regular), "fills after the last step"
    trade_fees = sum((exact(v) for v in result.trades["fees"]), Decimal(0))
    assert trade_fees == fees, f"trade fees {trade_fees} != fill fees {fees}"
    for _, t in result.trades.iterrows():
        assert exact(t["net_pnl"]) == exact(t["gross_pnl"]) - exact(t["fees"])
