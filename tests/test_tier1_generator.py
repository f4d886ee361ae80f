"""Tier-1 generators: entry triggers and their thresholds, the package's confidence and
strength, warm-up, regime (RULES.md 3.2, 3.3, 2), an independent re-computation of the
rules with TA-Lib, the whole-series form against the one-bar-at-a-time form, and one
generator per instrument with its own parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import talib

from twotier.config.load import load_config
from twotier.market.resample import resample
from twotier.tier1.generator import (
    CopperIndicator,
    IronOreIndicator,
    SignalGenerator,
    SoybeanIndicator,
    assemble,
    builtin_name,
    evaluate,
    generator_for,
    repeated_text,
)
from twotier.tier1.package import CHECK_COLUMNS, INDICATOR_COLUMNS, PACKAGE_COLUMNS
from twotier.tier1.params import CHECKS, RegimeParams, Tier1Params
from twotier.tier1.regime import CHAOS, DOWNTREND, RANGING, UPTREND, regime_series

TZ = "Asia/Shanghai"

# One bar where every long check passes (see test_tier1_checks.py): long confidence
# 0.6125, strength 0.5; short confidence 0.1875, strength 0.
LONG_BAR = {
    "ema_12": 103.0,
    "ema_26": 102.0,
    "ema_50": 100.0,
    "macd": 1.0,
    "macd_signal": 0.5,
    "macd_hist": 0.5,
    "rsi": 50.0,
    "bb_upper": 110.0,
    "bb_lower": 90.0,
    "atr": 2.0,
    "volume_ema": 100.0,
}
SHORT_BAR = {
    **LONG_BAR,
    "ema_12": 97.0,
    "ema_26": 98.0,
    "macd": -1.0,
    "macd_signal": -0.5,
    "macd_hist": -0.5,
}


# Fewer checks: many more triggers and trend breaks (LOOSE), and direct switches between
# long and short (SWITCHY: the bollinger rule flips side at %B 0.5), than with all five.
DEFAULTS = Tier1Params()
LOOSE = Tier1Params(required_checks=("trend", "momentum"))
SWITCHY = Tier1Params(
    required_checks=("rsi", "bollinger"), min_confidence=0.3, min_signal_strength=0
)


def triggers(params: Tier1Params = DEFAULTS, close=95.0, volume=150.0, **values):
    """(long trigger, short trigger) of LONG_BAR with ``values`` changed."""
    ind = {k: np.array([v], dtype=float) for k, v in {**LONG_BAR, **values}.items()}
    ev = evaluate(ind, np.array([close]), np.array([volume]), params)
    return bool(ev.trigger_long[0]), bool(ev.trigger_short[0])


def random_bars(n: int, seed: int) -> pd.DataFrame:
    """A random walk with trending stretches, on a plain 15-minute index (the generator
    does not look at times)."""
    rng = np.random.default_rng(seed)
    if n == 0:
        return pd.DataFrame(
            {k: np.zeros(0) for k in ("open", "high", "low", "close", "volume")},
            index=pd.DatetimeIndex([], tz=TZ, name="time"),
        )
    drift = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=n // 80 + 1), 80)[:n] * 0.4
    close = 500 + np.cumsum(drift + rng.normal(0, 1.5, n))
    open_ = np.concatenate([[close[0]], close[:-1]]) + rng.normal(0, 0.3, n)
    high = np.maximum(open_, close) + rng.exponential(0.8, n)
    low = np.minimum(open_, close) - rng.exponential(0.8, n)
    volume = rng.lognormal(8, 0.6, n).round()
    index = pd.date_range("2024-01-02 09:00", periods=n, freq="15min", tz=TZ, name="time")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


# -- entry triggers -----------------------------------------------------------------------


def test_a_bar_passing_all_checks_with_enough_confidence_and_strength_triggers():
    assert triggers() == (True, False)
    assert triggers(close=105.0, **SHORT_BAR) == (False, True)


@pytest.mark.parametrize(
    "failing",
    [
        {"ema_26": 104.0},  # trend
        {"macd_signal": 1.5},  # momentum
        {"rsi": 75.0},  # rsi
        {"volume_ema": 130.0},  # volume
    ],
)
def test_any_failing_required_check_blocks_the_trigger(failing):
    assert triggers(**failing) == (False, False)


def test_failing_bollinger_check_blocks_the_trigger():
    assert triggers(close=101.0) == (False, False)  # %B 0.55 > 0.5


def test_required_checks_are_configurable():
    no_volume = {"volume_ema": 130.0}  # volume 150 < 1.2 * 130
    assert triggers(**no_volume) == (False, False)
    four = Tier1Params(required_checks=("trend", "momentum", "rsi", "bollinger"))
    assert triggers(four, **no_volume) == (True, False)
    trend_only = Tier1Params(required_checks=("trend",))
    assert triggers(trend_only, rsi=90.0, close=109.0, **no_volume) == (True, False)


def test_min_confidence_threshold_is_inclusive_and_configurable():
    # long confidence 0.6125 (0.30*0.75 + 0.25*0.5 + 0.15*(0.5 + 0.5 + 0.75))
    assert triggers(Tier1Params(min_confidence=0.6125)) == (True, False)
    assert triggers(Tier1Params(min_confidence=0.6126)) == (False, False)


def test_min_signal_strength_threshold_is_inclusive_and_configurable():
    # strength sqrt(0.5 * 0.5) = 0.5
    assert triggers(Tier1Params(min_signal_strength=0.5)) == (True, False)
    assert triggers(Tier1Params(min_signal_strength=0.5001)) == (False, False)


def test_default_thresholds_are_confidence_020_and_strength_015():
    # volume score 125/100 - 1 = 0.25 -> strength sqrt(0.25 * 0.09) = 0.15 exactly:
    # momentum score 0.09 = macd_hist 0.09 / (0.5 * 2)
    assert triggers(volume=125.0, macd_hist=0.09)[0]
    assert not triggers(volume=125.0, macd_hist=0.089)[0]
    assert Tier1Params().min_confidence == 0.20
    assert Tier1Params().min_signal_strength == 0.15


def test_confidence_is_compared_after_rounding_to_ten_decimals():
    """RULES.md 8.28: 0.3*0.3 + 0.25*0.3 + 0.15*0.3 + 0.15*0.25 + 0.15*0.5 is 0.3225, which
    floating point computes as 0.32249999999999995."""
    bar = {
        "ema_12": 106.0,  # trend (106-100)/(2*10) = 0.3
        "ema_26": 103.0,
        "atr": 10.0,
        "macd": 3.0,  # momentum 1.5/(0.5*10) = 0.3
        "macd_signal": 1.5,
        "macd_hist": 1.5,
        "rsi": 58.0,  # (70-58)/40 = 0.3
    }
    ind = {k: np.array([v]) for k, v in {**LONG_BAR, **bar}.items()}
    ev = evaluate(ind, np.array([100.0]), np.array([125.0]), Tier1Params())
    assert ev.long.confidence[0] < 0.3225  # the float value falls short ...
    at = Tier1Params(min_confidence=0.3225)
    assert triggers(at, close=100.0, volume=125.0, **bar) == (True, False)  # ... and passes
    above = Tier1Params(min_confidence=0.32251)
    assert triggers(above, close=100.0, volume=125.0, **bar) == (False, False)


def test_long_and_short_triggers_on_the_same_bar_cancel_in_the_trigger_column():
    # with rsi and volume alone (both side-free) required, both sides trigger
    both = Tier1Params(required_checks=("rsi", "volume"), min_confidence=0, min_signal_strength=0)
    assert triggers(both) == (True, True)
    bars = random_bars(300, 1)
    packages = SignalGenerator("G", "DCE/i", both).run(bars)
    defined = packages["ema_50"].notna() & packages["macd"].notna()
    assert (packages["long_rsi"] & packages["long_volume"] & defined).sum() > 10
    assert (packages.loc[defined, "trigger"] == 0).all()
    assert (packages["signal"] == 0).all()


# -- what the package reports -------------------------------------------------------------


def test_confidence_and_strength_are_those_of_the_current_side_and_zero_when_flat():
    bars = [LONG_BAR, SHORT_BAR, LONG_BAR]
    ind = {k: np.array([b[k] for b in bars]) for k in LONG_BAR}
    for name in INDICATOR_COLUMNS:
        ind.setdefault(name, np.full(3, 1.0))
    close, volume = np.array([95.0, 105.0, 95.0]), np.full(3, 150.0)
    ev = evaluate(ind, close, volume, Tier1Params())
    signal = np.array([1, -1, 0])
    columns = assemble("DCE/i", [1, 2, 3], close, close, volume, ind, ev, signal, np.ones(3))
    assert columns["confidence"].tolist() == [ev.long.confidence[0], ev.short.confidence[1], 0.0]
    assert columns["signal_strength"].tolist() == [0.5, 0.5, 0.0]
    assert columns["trigger"].tolist() == [1, -1, 1]
    assert columns["long_trend"].tolist() == [True, False, True]
    assert columns["short_trend"].tolist() == [False, True, False]


def test_package_has_the_package_columns_in_order_with_compact_types():
    packages = IronOreIndicator().run(random_bars(200, 2))
    assert tuple(packages.columns) == PACKAGE_COLUMNS
    assert packages["signal"].dtype == np.int8
    assert packages["regime"].dtype == np.int8
    assert packages["trigger"].dtype == np.int8
    assert all(packages[f"{s}_{c}"].dtype == bool for s in ("long", "short") for c in CHECKS)
    assert (packages["instrument"] == "DCE/i").all()
    assert (packages["time"].to_numpy() == random_bars(200, 2).index.to_numpy()).all()


def test_run_does_not_share_memory_with_the_bars():
    bars = random_bars(200, 2)
    packages = IronOreIndicator().run(bars)
    packages.loc[0, "close"] = -1.0
    packages.loc[0, "open"] = -1.0
    packages.loc[0, "volume"] = -1.0
    assert (bars[["open", "close", "volume"]].iloc[0] > 0).all()


def test_empty_bars_give_an_empty_package_table():
    packages = IronOreIndicator().run(random_bars(0, 0))
    assert len(packages) == 0
    assert tuple(packages.columns) == PACKAGE_COLUMNS


# -- warm-up ------------------------------------------------------------------------------


def steady_uptrend(n: int = 200) -> pd.DataFrame:
    """Up 1.5, down 0.5, up 1.5 ...: EMAs in uptrend order from the start, no chaos."""
    close = 100.0 + 0.5 * np.arange(n) + 1.0 * (np.arange(n) % 2)
    index = pd.date_range("2024-01-02 09:00", periods=n, freq="15min", tz=TZ)
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1000.0},
        index=index,
    )


def test_signal_is_zero_until_bar_49_then_the_first_trigger_can_fire():
    trend_only = Tier1Params(required_checks=("trend",), min_confidence=0, min_signal_strength=0)
    packages = SignalGenerator("G", "DCE/i", trend_only).run(steady_uptrend())
    assert (packages["signal"].iloc[:49] == 0).all()
    assert (packages["confidence"].iloc[:49] == 0).all()
    assert (packages["signal_strength"].iloc[:49] == 0).all()
    assert (packages["trigger"].iloc[:49] == 0).all()
    assert not packages.filter(regex="^(long|short)_").iloc[:49].to_numpy().any()
    assert packages["trigger"].iloc[49] == 1
    assert (packages["signal"].iloc[49:] == 1).all()
    assert (packages["confidence"].iloc[49:] > 0).all()


def test_regime_is_ranging_until_bar_118_even_where_the_emas_say_uptrend():
    packages = IronOreIndicator().run(steady_uptrend())
    ema12, ema26, ema50 = (packages[c] for c in ("ema_12", "ema_26", "ema_50"))
    looks_up = (ema12 > ema26) & (ema26 > ema50) & (packages["close"] > ema26)
    assert looks_up.iloc[49:].all()
    assert (packages["regime"].iloc[:118] == RANGING).all()
    assert (packages["regime"].iloc[118:] == UPTREND).all()


def test_fewer_bars_than_the_warmup_give_flat_ranging_packages():
    packages = IronOreIndicator().run(steady_uptrend(30))
    assert (packages["signal"] == 0).all() and (packages["regime"] == RANGING).all()
    live = IronOreIndicator().live()
    rows = [live.update(t, *row) for t, row in steady_uptrend(30).iterrows()]
    assert all(r["signal"] == 0 and r["regime"] == RANGING for r in rows)


# -- regime -------------------------------------------------------------------------------

UP = {"ema_12": 103.0, "ema_26": 102.0, "ema_50": 100.0}
DOWN = {"ema_12": 97.0, "ema_26": 98.0, "ema_50": 100.0}
CALM = {"atr": 2.0, "atr_base": 2.0, "bb_width": 0.1, "bbw_base": 0.1}


def regime(close: float, **values) -> int:
    """The regime of one bar, from arrays and from floats (they must agree)."""
    ind = {**UP, **CALM, **values}
    from_arrays = regime_series(
        {k: np.array([v]) for k, v in ind.items()}, np.array([close]), RegimeParams()
    )
    from_floats = regime_series(ind, close, RegimeParams())
    assert int(from_arrays[0]) == from_floats
    return from_floats


@pytest.mark.parametrize(
    ("close", "values", "expected"),
    [
        (104.0, {}, UPTREND),
        (102.0, {}, RANGING),  # close == ema26: not above
        (101.0, {}, RANGING),  # EMAs up, close below ema26
        (96.0, DOWN, DOWNTREND),
        (98.0, DOWN, RANGING),
        (99.0, DOWN, RANGING),
        (104.0, {"ema_26": 100.0}, RANGING),  # 26 == 50
        (104.0, {"atr": 3.01}, CHAOS),  # atr > 1.5 * atr_base, over an uptrend
        (96.0, {**DOWN, "bb_width": 0.21}, CHAOS),  # width > 2 * bbw_base, over a downtrend
        (101.0, {"atr": 3.01}, CHAOS),
        (104.0, {"atr": 3.0}, UPTREND),  # == 1.5 * atr_base: strict
        (104.0, {"bb_width": 0.2}, UPTREND),  # == 2 * bbw_base: strict
        (104.0, {"atr_base": math.nan}, RANGING),  # baseline undefined
        (104.0, {"bbw_base": math.nan, "atr": 9.0}, RANGING),
        (104.0, {"atr": 0.0, "atr_base": 0.0, "bb_width": 0.0, "bbw_base": 0.0}, UPTREND),
    ],
)
def test_regime_chaos_first_then_uptrend_downtrend_else_ranging(close, values, expected):
    assert regime(close, **values) == expected


def test_regime_chaos_thresholds_are_configurable():
    ind = {k: np.array([v]) for k, v in {**UP, **CALM, "atr": 2.5}.items()}
    assert regime_series(ind, np.array([104.0]), RegimeParams())[0] == UPTREND
    tight = RegimeParams(chaos_atr_ratio=1.2)
    assert regime_series(ind, np.array([104.0]), tight)[0] == CHAOS


# -- an independent re-computation of the rules -------------------------------------------


def oracle(bars: pd.DataFrame, p: Tier1Params) -> pd.DataFrame:
    """RULES.md 3.1-3.3 written out bar by bar in plain Python over TA-Lib's functions."""
    c, h, lo, v = (bars[k].to_numpy(dtype=float) for k in ("close", "high", "low", "volume"))
    e12, e26, e50 = talib.EMA(c, 12), talib.EMA(c, 26), talib.EMA(c, 50)
    macd, macd_signal, hist = talib.MACD(c, 12, 26, 9)
    rsi = talib.RSI(c, 14)
    upper, middle, lower = talib.BBANDS(c, 20, 2, 2, 0)
    atr = talib.ATR(h, lo, c, 14)
    vema = talib.EMA(v, 20)
    width = (upper - lower) / middle
    atr_base, bbw_base = talib.SMA(atr, 100), talib.SMA(width, 100)
    clip = lambda x: min(max(x, 0.0), 1.0)  # noqa: E731
    rows, signal = [], 0
    for t in range(len(c)):
        inputs = (e12[t], e26[t], e50[t], macd[t], macd_signal[t], rsi[t], upper[t], atr[t])
        defined = not any(math.isnan(x) for x in (*inputs, vema[t]))
        row, trig = {}, {}
        for d, side in ((1, "long"), (-1, "short")):
            pb = 0.5 if upper[t] == lower[t] else (c[t] - lower[t]) / (upper[t] - lower[t])
            passed = {
                "trend": d * (e12[t] - e26[t]) > 0 and d * (e26[t] - e50[t]) > 0,
                "momentum": d * macd[t] > 0 and d * (macd[t] - macd_signal[t]) > 0,
                "rsi": 30 < rsi[t] < 70,
                "volume": v[t] > 1.2 * vema[t],
                "bollinger": pb <= 0.5 if d == 1 else pb >= 0.5,
            }
            if not defined:
                row.update({f"{side}_{k}": False for k in passed})
                trig[d], row[f"{side}_conf"], row[f"{side}_str"] = False, 0.0, 0.0
                continue
            scores = {
                "trend": 0.0 if atr[t] == 0 else clip(d * (e12[t] - e50[t]) / (2 * atr[t])),
                "momentum": 0.0 if atr[t] == 0 else clip(d * hist[t] / (0.5 * atr[t])),
                "rsi": clip((70 - rsi[t]) / 40 if d == 1 else (rsi[t] - 30) / 40),
                "volume": 0.0 if vema[t] == 0 else clip(v[t] / vema[t] - 1),
                "bollinger": 0.0 if upper[t] == lower[t] else clip(1 - pb if d == 1 else pb),
            }
            weights = {"trend": 0.30, "momentum": 0.25, "rsi": 0.15, "volume": 0.15}
            conf = sum(w * scores[k] for k, w in weights.items()) + 0.15 * scores["bollinger"]
            strength = math.sqrt(scores["volume"] * scores["momentum"])
            trig[d] = (
                all(passed[k] for k in p.required_checks)
                and round(conf, 10) >= p.min_confidence
                and round(strength, 10) >= p.min_signal_strength
            )
            row.update({f"{side}_{k}": passed[k] for k in passed})
            row[f"{side}_conf"], row[f"{side}_str"], row[f"{side}_trend_ok"] = (
                conf,
                strength,
                passed["trend"],
            )
        if trig[1] != trig[-1]:
            signal = 1 if trig[1] else -1
        elif not (signal == 1 and row.get("long_trend_ok")) and not (
            signal == -1 and row.get("short_trend_ok")
        ):
            signal = 0
        row["signal"] = signal
        row["trigger"] = 0 if trig[1] == trig[-1] else (1 if trig[1] else -1)
        row["confidence"] = {1: row["long_conf"], -1: row["short_conf"], 0: 0.0}[signal]
        row["signal_strength"] = {1: row["long_str"], -1: row["short_str"], 0: 0.0}[signal]
        if math.isnan(atr_base[t]) or math.isnan(bbw_base[t]) or math.isnan(e50[t]):
            row["regime"] = RANGING
        elif atr[t] > 1.5 * atr_base[t] or width[t] > 2 * bbw_base[t]:
            row["regime"] = CHAOS
        elif e12[t] > e26[t] > e50[t] and c[t] > e26[t]:
            row["regime"] = UPTREND
        elif e12[t] < e26[t] < e50[t] and c[t] < e26[t]:
            row["regime"] = DOWNTREND
        else:
            row["regime"] = RANGING
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("params", "seed"), [(Tier1Params(), 0), (LOOSE, 3), (SWITCHY, 4)])
def test_packages_match_the_rules_recomputed_bar_by_bar_from_talib(params, seed):
    bars = random_bars(700, seed)
    packages = SignalGenerator("G", "DCE/i", params).run(bars)
    expected = oracle(bars, params)
    assert (expected["signal"] != 0).sum() > 0  # the case is not vacuous
    for column in ("signal", "trigger", "regime", *CHECK_COLUMNS):
        assert packages[column].tolist() == expected[column].tolist(), column
    for column in ("confidence", "signal_strength"):
        np.testing.assert_allclose(packages[column], expected[column], rtol=1e-12, atol=1e-15)


def test_loose_params_give_switches_and_trend_breaks_to_test_against():
    signal = SignalGenerator("G", "DCE/i", LOOSE).run(random_bars(700, 3))["signal"].to_numpy()
    assert ((signal[:-1] != 0) & (signal[1:] == 0)).sum() > 3  # trend breaks to flat
    signal = SignalGenerator("G", "DCE/i", SWITCHY).run(random_bars(700, 4))["signal"].to_numpy()
    assert ((signal[1:] * signal[:-1]) == -1).sum() > 3  # direct long <-> short switches


# -- whole series == one bar at a time ----------------------------------------------------


def live_packages(generator: SignalGenerator, bars: pd.DataFrame) -> pd.DataFrame:
    live = generator.live()
    rows = [
        live.update(t, o, h, lo, c, v)
        for t, o, h, lo, c, v in zip(
            bars.index,
            *(bars[k].to_numpy() for k in ("open", "high", "low", "close", "volume")),
            strict=True,
        )
    ]
    return pd.DataFrame(rows)


def assert_same_packages(whole: pd.DataFrame, one_by_one: pd.DataFrame) -> None:
    """Every column equal, value for value (NaN == NaN), the same column order."""
    assert list(one_by_one.columns) == list(whole.columns)
    assert len(one_by_one) == len(whole)
    for column in whole.columns:
        a, b = whole[column].to_numpy(), one_by_one[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a, b.astype(float), equal_nan=True), column
        else:
            assert (a == b).all(), column


@pytest.mark.parametrize("params", [Tier1Params(), LOOSE, SWITCHY])
def test_whole_series_equals_one_bar_at_a_time_on_random_bars(params):
    bars = random_bars(500, 4)
    generator = SignalGenerator("G", "DCE/i", params)
    assert_same_packages(generator.run(bars), live_packages(generator, bars))


@pytest.mark.parametrize(
    ("name", "make"),
    [("DCE.i.HOT.m5.csv", IronOreIndicator), ("DCE.m.HOT.m5.csv", SoybeanIndicator)],
)
def test_whole_series_equals_one_bar_at_a_time_on_real_fifteen_minute_bars(real_bars, name, make):
    loaded = real_bars(name)
    bars = resample(loaded.frame, loaded.instrument, loaded.bar_minutes)
    generator = make()
    whole = generator.run(bars)
    assert (whole["trigger"] != 0).sum() > 0
    assert_same_packages(whole, live_packages(generator, bars))


def test_live_generator_reports_its_current_signal():
    generator = SignalGenerator("G", "DCE/i", LOOSE)
    live = generator.live()
    bars = random_bars(300, 3)
    for t, row in bars.iterrows():
        package = live.update(t, *row)
        assert live.signal == package["signal"]
    assert live.signal == generator.run(bars)["signal"].iloc[-1]


def test_real_packages_follow_the_reporting_and_warmup_rules(real_bars):
    loaded = real_bars("DCE.i.HOT.m5.csv")
    packages = IronOreIndicator().run(resample(loaded.frame, loaded.instrument, loaded.bar_minutes))
    signal = packages["signal"].to_numpy()
    flat = signal == 0
    assert (packages.loc[flat, ["confidence", "signal_strength"]] == 0).all().all()
    assert (packages.loc[~flat, "confidence"] >= 0).all()
    assert (packages["signal"].iloc[:49] == 0).all()
    assert (packages["regime"].iloc[:118] == RANGING).all()
    assert (packages["regime"].iloc[118:] != RANGING).any()
    # every change to a non-zero signal is that side's trigger
    previous = np.concatenate([[0], signal[:-1]])
    entries = (signal != 0) & (signal != previous)
    assert (packages["trigger"].to_numpy()[entries] == signal[entries]).all()
    # the reported confidence is that of the signal's side, recomputed from the package
    ind = {k: packages[k].to_numpy() for k in INDICATOR_COLUMNS}
    ev = evaluate(ind, packages["close"].to_numpy(), packages["volume"].to_numpy(), Tier1Params())
    expect = np.where(
        signal == 1, ev.long.confidence, np.where(signal == -1, ev.short.confidence, 0)
    )
    assert np.array_equal(packages["confidence"].to_numpy(), expect)


# -- one generator per instrument ---------------------------------------------------------


def test_builtin_generators_carry_the_overviews_names():
    assert (IronOreIndicator().name, IronOreIndicator().instrument) == ("IronOreIndicator", "DCE/i")
    assert (CopperIndicator().name, CopperIndicator().instrument) == ("CopperIndicator", "SHFE/cu")
    assert (SoybeanIndicator().name, SoybeanIndicator().instrument) == ("SoybeanIndicator", "DCE/m")
    assert repr(CopperIndicator()) == "CopperIndicator(SHFE/cu)"
    assert IronOreIndicator().params == CopperIndicator().params == Tier1Params()


def test_builtin_name_of_each_instrument():
    assert builtin_name("DCE/i") == "IronOreIndicator"
    assert builtin_name("SHFE/cu") == "CopperIndicator"
    assert builtin_name("DCE/m") == "SoybeanIndicator"
    assert builtin_name("CZCE/ap") == "ApIndicator"
    assert builtin_name("INE/sc") == "ScIndicator"


def test_tuning_one_commodity_leaves_the_others_untouched():
    config = load_config(overrides=["generators.DCE/i.params.min_confidence=0.9"])
    assert config.tier1_params("DCE/i").min_confidence == 0.9
    assert config.tier1_params("DCE/i").model_dump(exclude={"min_confidence"}) == (
        Tier1Params().model_dump(exclude={"min_confidence"})
    )
    assert config.tier1_params("SHFE/cu") == Tier1Params()
    assert config.tier1_params("DCE/m") == Tier1Params()
    bars = random_bars(400, 0)
    tuned, soybean = generator_for(config, "DCE/i"), generator_for(config, "DCE/m")
    assert (tuned.name, soybean.name) == ("IronOreIndicator", "SoybeanIndicator")
    assert (IronOreIndicator().run(bars)["trigger"] != 0).sum() > 0
    assert (tuned.run(bars)["trigger"] != 0).sum() == 0
    assert_same_packages(soybean.run(bars), SoybeanIndicator().run(bars))


def test_nested_generator_override_merges_with_the_shared_parameters():
    config = load_config(
        overrides=[
            "tier1.min_signal_strength=0.2",
            "generators.DCE/m.params.checks.rsi_lower=25",
            'generators.DCE/m.params.required_checks=["trend", "momentum"]',
        ]
    )
    soybean = config.tier1_params("DCE/m")
    assert soybean.checks.rsi_lower == 25 and soybean.checks.rsi_upper == 70
    assert soybean.required_checks == ("trend", "momentum")
    assert soybean.min_signal_strength == 0.2  # the shared value still applies
    assert config.tier1_params("DCE/i").checks.rsi_lower == 30
    assert config.tier1_params("DCE/i").min_signal_strength == 0.2


def test_a_new_instrument_gets_a_generator_by_configuration_alone():
    basket = 'portfolio.baskets=[{instrument="CZCE/ap", capital_fraction=0.5}]'
    config = load_config(overrides=[basket, "generators.CZCE/ap.params.min_confidence=0.25"])
    generator = generator_for(config, "CZCE/ap")
    assert (generator.name, generator.instrument) == ("ApIndicator", "CZCE/ap")
    assert generator.params.min_confidence == 0.25
    named = load_config(overrides=[basket, 'generators.CZCE/ap.name="AppleIndicator"'])
    assert generator_for(named, "CZCE/ap").name == "AppleIndicator"
    assert generator_for(named, "CZCE/ap").params == Tier1Params()
    packages = generator.run(random_bars(100, 1))
    assert (packages["instrument"] == "CZCE/ap").all()


@pytest.mark.parametrize(("text", "n"), [("DCE/i", 5), ("", 3), ("é/x", 2), ("SHFE/cu", 0)])
def test_repeated_text_is_the_column_pandas_makes_of_one_string(text, n):
    made = pd.DataFrame({"x": np.zeros(n), "instrument": text})["instrument"].array
    repeated = repeated_text(text, n)
    assert repeated.dtype == made.dtype
    assert repeated.equals(made)
