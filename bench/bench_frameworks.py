"""twotier beside backtrader and vn.py on the same ten years of tiled bars, in one go.

    .venv/bin/python bench/bench_frameworks.py [--repeat 3]

backtrader and vn.py's CTA backtester are optional (``make bench-frameworks`` installs
the pinned ``bench`` extra, docs/performance.md); a framework that is not installed is
reported as such and left out.

What is compared. Reproducing twotier's Tier-1 and Tier-2 rules (baskets, soft limits,
the exit tree, the market rules of RULES.md 10) in each framework is not feasible, so the
other two *replay twotier's own decisions*: twotier runs first, and every fill of its
fills.csv becomes an order that the framework places on the instrument's bar before the
fill (a market order in backtrader, a crossing limit order in vn.py: both fill at the
next bar's open, as twotier's ``next_open`` does). Each framework does its own bar loop
over the three instruments' bars, computes the indicators Tier-1 reads with TA-Lib on
every instrument (EMA 12/26/50, MACD, RSI, Bollinger bands, ATR, volume EMA: backtrader's
``bt.talib`` indicators; vn.py's ``ArrayManager`` on each bar, as its strategies do), and
fills, charges and accounts the orders itself. vn.py's backtester trades one symbol per
engine: three engines run in turn and their balances are added.

So that the three can agree to the cent, costs are ones every framework can express: no
slippage (``execution.slippage_ticks=0``) and each instrument's fee a rate on turnover
with one rate for open, close and close-today (the file ``COMPARED_FEES`` below, given to
twotier as ``data.instruments_file``). twotier is timed with these settings, like the
others, as the whole process from the shell (``twotier backtest ... --quiet``, the run
folder and its report written); each framework likewise in its own process (importing
it, reading the same CSV files, the run). The check: the same fills (instrument, bar,
side, contracts, price) and the same final value (twotier rounds each fee to the cent,
the others do not: they may differ by half a cent per fill).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

INITIAL = 1_000_000.0  # twotier's default portfolio.initial_capital
COMPARED_FEES = """# bench/bench_frameworks.py: fees every framework can express
[instruments."DCE/i"]
fee = { basis = "turnover", open = 0.0001, close = 0.0001, close_today = 0.0001 }
[instruments."SHFE/cu"]
fee = { basis = "turnover", open = 0.00005, close = 0.00005, close_today = 0.00005 }
[instruments."DCE/m"]
fee = { basis = "turnover", open = 0.00005, close = 0.00005, close_today = 0.00005 }
"""
SPECS = {  # multiplier, tick, fee rate (as above), vn.py symbol
    "DCE/i": (100, 0.5, 0.0001, "i.DCE"),
    "SHFE/cu": (5, 10.0, 0.00005, "cu.SHFE"),
    "DCE/m": (10, 1.0, 0.00005, "m.DCE"),
}
FRAMEWORKS = {"backtrader": "backtrader", "vn.py": "vnpy_ctastrategy"}


# ----------------------------------------------------------------------------- parent


def twotier_args(files: dict[str, Path], out: Path, fees: Path) -> list[str]:
    return [
        sys.executable, "-m", "twotier", "backtest",
        *(f"--bars={k}={p}" for k, p in files.items()),
        "--set", f"data.instruments_file={fees}",
        "--set", "execution.slippage_ticks=0",
        "--out", str(out), "--quiet",
    ]  # fmt: skip


def timed(argv: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MB), stdout and CPU seconds (user + system: on a shared
    machine the wall time includes waiting for a core) of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv[:4])} ... failed:\n{err.read().decode()[-3000:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return elapsed, usage.ru_maxrss / 1024, out.read().decode(), cpu


def best_of(argv: list[str], repeat: int) -> tuple[float, float, float, str]:
    """The best wall time, the best CPU time, the largest peak memory of the runs and the
    last run's stdout."""
    times, cpus, peaks, out = [], [], [], ""
    for _ in range(repeat):
        seconds, peak, out, cpu = timed(argv)
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
    return min(times), min(cpus), max(peaks), out


def replay_orders(files: dict[str, Path], fills_csv: Path) -> list[dict]:
    """twotier's fills as orders: each on the instrument's bar before its fill's bar."""
    import numpy as np
    import pandas as pd

    fills = pd.read_csv(fills_csv)
    orders = []
    for instrument, path in files.items():
        times = pd.read_csv(path, usecols=["time"])["time"].to_numpy()
        mine = fills[fills["instrument"] == instrument]
        if (mine["price_kind"] != "open").any():
            raise SystemExit(f"{instrument}: a fill not at a bar's open cannot be replayed")
        at = np.searchsorted(times, mine["time"].to_numpy())
        if (at == 0).any() or (times[np.minimum(at, len(times) - 1)] != mine["time"]).any():
            raise SystemExit(f"{instrument}: a fill's bar is not in {path}")
        for (_, fill), bar in zip(mine.iterrows(), at - 1, strict=True):
            signed = int(fill["contracts"]) * (1 if fill["side"] == "BUY" else -1)
            orders.append({"instrument": instrument, "order_bar": times[bar], "size": signed})
    return orders


def twotier_fills(fills_csv: Path) -> list[list]:
    import pandas as pd

    fills = pd.read_csv(fills_csv)
    return sorted(
        [row.instrument, row.time, 1 if row.side == "BUY" else -1, int(row.contracts),
         float(row.price)]
        for row in fills.itertuples()
    )  # fmt: skip


def compare(name: str, ours: list[list], final: float, theirs: dict) -> str:
    fills = sorted(theirs["fills"])
    same = len(fills) == len(ours) and all(
        a[:4] == b[:4] and abs(a[4] - b[4]) < 1e-6 for a, b in zip(ours, fills, strict=True)
    )
    gap = theirs["final"] - final
    agrees = same and abs(gap) <= 0.005 * len(ours) + 0.01
    verdict = "agree" if agrees else "DISAGREE"
    return (
        f"{len(fills)} fills {'identical' if same else 'DIFFERENT'}, final value "
        f"{theirs['final']:,.2f} ({gap:+.2f} beside twotier's): {verdict}"
    )


def main() -> None:
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        child(sys.argv[at + 1], Path(sys.argv[at + 2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from tiled_data import ten_years_built_apart

    data = ten_years_built_apart()  # the children's peak memory is their own
    print(f"data: {data.describe()}")
    files = data.files("csv")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fees = work / "compared_fees.toml"
        fees.write_text(COMPARED_FEES, encoding="utf-8")
        run = work / "run"
        argv = twotier_args(files, run, fees)
        timed(argv)  # warm-up: bytecode caches, the page cache
        best, cpu, peak, _ = best_of(argv, args.repeat)
        summary = json.loads((run / "summary.json").read_text())
        final = float(summary["final_pv"])
        ours = twotier_fills(run / "fills.csv")
        print(
            f"twotier     wall {best:6.2f} s, CPU {cpu:6.2f} s, peak {peak:4.0f} MB; "
            f"{len(ours)} fills, final value {final:,.2f}"
        )
        job = work / "job.json"
        job.write_text(
            json.dumps(
                {
                    "files": {k: str(p) for k, p in files.items()},
                    "orders": replay_orders(files, run / "fills.csv"),
                }
            )
        )
        for name, module in FRAMEWORKS.items():
            probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
            if probe.returncode != 0:
                print(f"{name:<11} not installed (make bench-frameworks)")
                continue
            argv = [sys.executable, __file__, "--child", name, str(job)]
            timed(argv)
            seconds, their_cpu, their_peak, out = best_of(argv, args.repeat)
            theirs = json.loads(out.strip().splitlines()[-1])
            print(
                f"{name:<11} wall {seconds:6.2f} s, CPU {their_cpu:6.2f} s, peak "
                f"{their_peak:4.0f} MB; {seconds / best:4.1f} x twotier's wall time, "
                f"{their_cpu / cpu:4.1f} x its CPU time; " + compare(name, ours, final, theirs)
            )
    print(f"{os.cpu_count()} cores; each figure the best of {args.repeat} runs after a warm-up")


# ------------------------------------------------------------------------------ child


def child(name: str, job_file: Path) -> None:
    """Run one framework on the job's files and orders; print its fills and final value
    as one JSON line."""
    job = json.loads(job_file.read_text())
    files = {k: Path(p) for k, p in job["files"].items()}
    orders: dict[tuple[str, str], list[int]] = {}
    for order in job["orders"]:  # in twotier's order of fills
        orders.setdefault((order["instrument"], order["order_bar"]), []).append(order["size"])
    result = backtrader_run(files, orders) if name == "backtrader" else vnpy_run(files, orders)
    print(json.dumps(result))


def read_bars(path: Path):
    import pandas as pd

    frame = pd.read_csv(path)
    frame.index = pd.DatetimeIndex(frame.pop("time"), name="datetime")
    return frame


def backtrader_run(files: dict[str, Path], orders: dict) -> dict:
    import backtrader as bt

    class TurnoverFee(bt.CommInfoBase):
        """A futures fee as a rate on turnover (price x multiplier x contracts)."""

        params = (("stocklike", False), ("commtype", bt.CommInfoBase.COMM_FIXED))

        def _getcommission(self, size, price, pseudoexec):
            return abs(size) * price * self.p.mult * self.p.commission

    class Replay(bt.Strategy):
        def __init__(self):
            self.seen = {}
            self.fills = []
            for data in self.datas:  # what Tier-1 reads, with TA-Lib
                for period in (12, 26, 50):
                    bt.talib.EMA(data.close, timeperiod=period)
                bt.talib.MACD(data.close)
                bt.talib.RSI(data.close, timeperiod=14)
                bt.talib.BBANDS(data.close, timeperiod=20)
                bt.talib.ATR(data.high, data.low, data.close, timeperiod=14)
                bt.talib.EMA(data.volume, timeperiod=20)

        def next(self):
            for data in self.datas:
                if self.seen.get(data._name) == len(data):
                    continue  # this instrument has no new bar at this time
                self.seen[data._name] = len(data)
                stamp = data.datetime.datetime(0).strftime("%Y-%m-%d %H:%M:%S")
                for size in orders.get((data._name, stamp), ()):
                    (self.buy if size > 0 else self.sell)(data=data, size=abs(size))

        def notify_order(self, order):
            if order.status == order.Completed:
                when = bt.num2date(order.executed.dt).strftime("%Y-%m-%d %H:%M:%S")
                side = 1 if order.isbuy() else -1
                self.fills.append(
                    [order.data._name, when, side, abs(int(order.executed.size)),
                     order.executed.price]
                )  # fmt: skip

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(INITIAL)
    cerebro.broker.set_checksubmit(False)  # twotier's own margin rules decided the orders
    for instrument, path in files.items():
        feed = bt.feeds.PandasData(
            dataname=read_bars(path), timeframe=bt.TimeFrame.Minutes, compression=15
        )
        cerebro.adddata(feed, name=instrument)
        mult, _, rate, _ = SPECS[instrument]
        cerebro.broker.addcommissioninfo(
            TurnoverFee(commission=rate, mult=mult, margin=1.0), name=instrument
        )
    cerebro.addstrategy(Replay)
    strategy = cerebro.run()[0]
    return {"final": cerebro.broker.getvalue(), "fills": strategy.fills}


def vnpy_run(files: dict[str, Path], orders: dict) -> dict:
    import talib
    from vnpy.trader.constant import Direction, Exchange, Interval
    from vnpy.trader.object import BarData
    from vnpy.trader.utility import ArrayManager
    from vnpy_ctastrategy import CtaTemplate
    from vnpy_ctastrategy.backtesting import BacktestingEngine

    class Replay(CtaTemplate):
        def __init__(self, cta_engine, strategy_name, vt_symbol, setting):
            super().__init__(cta_engine, strategy_name, vt_symbol, setting)
            self.am = ArrayManager(100)
            self.key = setting["instrument"]
            self.held = 0  # the position once the orders sent are filled

        def on_init(self):
            pass

        def on_bar(self, bar: BarData):
            am = self.am
            am.update_bar(bar)
            if am.inited:  # what Tier-1 reads, with TA-Lib
                for period in (12, 26, 50):
                    am.ema(period)
                am.macd(12, 26, 9)
                am.rsi(14)
                am.boll(20, 2)
                am.atr(14)
                talib.EMA(am.volume, 20)
            stamp = bar.datetime.strftime("%Y-%m-%d %H:%M:%S")
            for size in orders.get((self.key, stamp), ()):
                self.replay(size, bar.close_price)

        def replay(self, size: int, close: float) -> None:
            """A limit order far through the market: it fills at the next bar's open."""
            up, down = close * 10, close / 10
            if size > 0:
                (self.cover if self.held < 0 else self.buy)(up, size)
            else:
                (self.sell if self.held > 0 else self.short)(down, -size)
            self.held += size

    total, fills = INITIAL, []
    for instrument, path in files.items():
        mult, tick, rate, vt_symbol = SPECS[instrument]
        symbol, exchange = vt_symbol.split(".")
        frame = read_bars(path)
        bars = [
            BarData(
                symbol=symbol, exchange=Exchange(exchange), datetime=when,
                interval=Interval.MINUTE, volume=v, open_price=o, high_price=h,
                low_price=low, close_price=c, gateway_name="BACKTESTING",
            )
            for when, o, h, low, c, v in zip(
                frame.index.to_pydatetime(), frame["open"], frame["high"], frame["low"],
                frame["close"], frame["volume"], strict=True,
            )
        ]  # fmt: skip
        engine = BacktestingEngine()
        engine.output = lambda message: None
        engine.set_parameters(
            vt_symbol=vt_symbol, interval=Interval.MINUTE, start=bars[0].datetime,
            end=bars[-1].datetime, rate=rate, slippage=0, size=mult, pricetick=tick,
            capital=0,
        )  # fmt: skip
        engine.add_strategy(Replay, {"instrument": instrument})
        engine.history_data = bars
        engine.run_backtesting()
        daily = engine.calculate_result()
        total += float(daily["net_pnl"].sum()) if len(daily) else 0.0
        for trade in engine.trades.values():
            side = 1 if trade.direction == Direction.LONG else -1
            when = trade.datetime.strftime("%Y-%m-%d %H:%M:%S")
            fills.append([instrument, when, side, int(trade.volume), trade.price])
    return {"final": total, "fills": fills}


if __name__ == "__main__":
    main()
