"""The synthetic sample data: its generator, the bundled files and ``twotier sample``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twotier.errors import CalendarError, ConfigError
from twotier.indicators import compute
from twotier.market.bars import bars_from_frame, read_bars
from twotier.market.instruments import get_instrument
from twotier.market.sample import (
    SAMPLE_END,
    SAMPLE_INSTRUMENTS,
    SAMPLE_SEED,
    SAMPLE_START,
    generate_sample,
    load_sample,
    sample_paths,
    write_sample,
)
from twotier.market.sessions import session_minutes

SHORT = ("2024-01-02", "2024-03-29")  # a quarter: Spring Festival, weekends, a holiday eve


@pytest.fixture(scope="module")
def fresh() -> dict[str, pd.DataFrame]:
    """The bundled sample, generated anew (shared: do not modify the frames)."""
    return {
        k: generate_sample(k, SAMPLE_START, SAMPLE_END, SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes, index and values (``assert_frame_equal`` is slow on a
    tz-aware index of this size)."""
    assert list(left.columns) == list(right.columns)
    assert left.dtypes.equals(right.dtypes)
    assert left.index.dtype == right.index.dtype and left.index.name == right.index.name
    assert left.equals(right)


def full_checks(bars: pd.DataFrame) -> dict[int, np.ndarray]:
    """Bars where all five Tier-1 entry checks pass, per side (RULES.md 3.1)."""
    ind = compute(bars)
    close, volume = bars["close"], bars["volume"]
    width = ind["bb_upper"] - ind["bb_lower"]
    pct_b = ((close - ind["bb_lower"]) / width).where(width != 0, 0.5)
    result = {}
    for d in (1, -1):
        trend = (d * (ind["ema_12"] - ind["ema_26"]) > 0) & (
            d * (ind["ema_26"] - ind["ema_50"]) > 0
        )
        momentum = (d * ind["macd"] > 0) & (d * (ind["macd"] - ind["macd_signal"]) > 0)
        rsi = (ind["rsi"] > 30) & (ind["rsi"] < 70)
        heavy = volume > 1.2 * ind["volume_ema"]
        bollinger = pct_b <= 0.5 if d == 1 else pct_b >= 0.5
        result[d] = (trend & momentum & rsi & heavy & bollinger).to_numpy()
    return result


# ------------------------------------------------------------------------ determinism


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", *SHORT, seed=7)
    second = write_sample(tmp_path / "b", *SHORT, seed=7)
    for key in SAMPLE_INSTRUMENTS:
        assert first[key].path.read_bytes() == second[key].path.read_bytes()


def test_another_seed_gives_other_bars() -> None:
    a = generate_sample("DCE/i", *SHORT, seed=1)
    b = generate_sample("DCE/i", *SHORT, seed=2)
    assert a.index.equals(b.index)
    assert not np.array_equal(a["close"].to_numpy(), b["close"].to_numpy())


def test_each_instrument_draws_from_its_own_seed(tmp_path: Path) -> None:
    """Seeded from (seed, key): an instrument's file is the same written alone or with the
    others, and two instruments on the same grid do not share their draws."""
    together = write_sample(tmp_path / "all", *SHORT, seed=3)
    alone = write_sample(tmp_path / "one", *SHORT, seed=3, instruments=("DCE/m",))
    assert alone["DCE/m"].path.read_bytes() == together["DCE/m"].path.read_bytes()
    iron = np.diff(np.log(generate_sample("DCE/i", *SHORT, seed=3)["close"].to_numpy()))
    meal = np.diff(np.log(generate_sample("DCE/m", *SHORT, seed=3)["close"].to_numpy()))
    assert abs(np.corrcoef(iron, meal)[0, 1]) < 0.1


# ---------------------------------------------------------------------- bundled files


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_bundled_file_equals_fresh_generation(key: str, fresh) -> None:
    assert_same(load_sample(key), fresh[key])


def test_bundled_files_are_small_and_named_by_key() -> None:
    paths = sample_paths()
    assert [p.name for p in paths.values()] == ["DCE_i.parquet", "SHFE_cu.parquet", "DCE_m.parquet"]
    for path in paths.values():
        assert path.stat().st_size < 500_000


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_bundled_file_reads_with_the_loader(key: str, fresh) -> None:
    """``read_bars`` (``twotier data check``) takes the bundled file as it is."""
    assert_same(read_bars(sample_paths()[key], key).frame, fresh[key])


# ---------------------------------------------------------------------------- format


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_passes_the_loaders_validation_unchanged(key: str, fresh) -> None:
    loaded = bars_from_frame(fresh[key], key)
    assert loaded.bar_minutes == 15 and not loaded.dropped and not loaded.repaired
    assert_same(loaded.frame, fresh[key])


def test_loader_format() -> None:
    bars = generate_sample("DCE/i", *SHORT, seed=1)
    assert list(bars.columns) == [
        "open", "high", "low", "close", "volume", "open_interest", "trading_day"
    ]  # fmt: skip
    assert bars.index.name == "time"
    assert str(bars.index.tz) == "Asia/Shanghai"
    assert bars["trading_day"].dtype == "datetime64[s]"
    assert bars.index.is_monotonic_increasing and bars.index.is_unique


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_prices_on_the_tick_grid_and_consistent(key: str, fresh) -> None:
    bars, tick = fresh[key], float(get_instrument(key).tick)
    prices = bars[["open", "high", "low", "close"]].to_numpy()
    assert (prices > 0).all()
    ticks = prices / tick
    assert np.allclose(ticks, np.round(ticks), rtol=0, atol=1e-6)
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["volume"] >= 1).all() and (bars["open_interest"] > 0).all()


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_bars_only_in_sessions_on_the_15_minute_grid(key: str, fresh) -> None:
    spec, bars = get_instrument(key), fresh[key]
    minutes = session_minutes(bars.index)
    segment = spec.sessions.locate(minutes, 15)
    assert (segment >= 0).all()
    starts = np.array([s.start for s in spec.sessions.segments])[segment]
    assert ((minutes - starts) % 15 == 0).all()
    # Every bar of every session on every trading day: the day session always ...
    days = bars["trading_day"]
    day_bars = (~spec.sessions.is_night(segment)).sum()
    assert day_bars == 15 * days.nunique()
    # ... the night on all but holiday eves.
    night_bars = 16 if key == "SHFE/cu" else 8
    nights = days[spec.sessions.is_night(segment)]
    assert (nights.value_counts() == night_bars).all()


def test_friday_night_belongs_to_monday() -> None:
    bars = generate_sample("SHFE/cu", *SHORT, seed=1)
    friday_night = bars.loc["2024-03-08 21:00":"2024-03-09 00:45"]
    assert len(friday_night) == 16  # 21:00-01:00, Saturday's small hours included
    assert (friday_night["trading_day"] == pd.Timestamp("2024-03-11")).all()
    monday = bars.loc["2024-03-11 09:00":"2024-03-11 14:45"]
    assert (monday["trading_day"] == pd.Timestamp("2024-03-11")).all()


def test_no_night_session_on_a_holiday_eve() -> None:
    """Thursday 2024-02-08 was the last trading day before Spring Festival."""
    bars = generate_sample("DCE/i", *SHORT, seed=1)
    closed = bars.loc["2024-02-08 15:00":"2024-02-19 08:59"]
    assert closed.empty
    first_after = bars.loc["2024-02-19"].iloc[0]
    assert first_after.name == pd.Timestamp("2024-02-19 09:00", tz="Asia/Shanghai")


# --------------------------------------------------------------------------- realism


@pytest.mark.parametrize(
    ("key", "low", "high", "daily_vol"),
    [
        ("DCE/i", 550, 1100, (0.014, 0.025)),
        ("SHFE/cu", 52_000, 82_000, (0.009, 0.014)),
        ("DCE/m", 2_600, 4_300, (0.009, 0.014)),
    ],
)
def test_price_levels_and_daily_volatility(key, low, high, daily_vol, fresh) -> None:
    bars = fresh[key]
    assert low <= bars["close"].min() and bars["close"].max() <= high
    daily = np.log(bars.groupby("trading_day")["close"].last()).diff().std()
    assert daily_vol[0] <= daily <= daily_vol[1]


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_volume_profile(key: str, fresh) -> None:
    bars = fresh[key]
    clock = bars.index.strftime("%H:%M")
    median = bars["volume"].groupby(clock).median()
    mid_day = median[["09:45", "10:00", "10:45", "11:00", "13:45", "14:00"]].median()
    assert median["09:00"] > 1.8 * mid_day  # the open is heaviest
    assert median["14:45"] > 1.2 * mid_day  # U-shaped: heavier into the close
    assert median["21:00"] > 1.5 * mid_day
    assert median[["21:45", "22:00", "22:15", "22:30"]].median() < mid_day  # lighter night
    if key == "SHFE/cu":  # after midnight, the lightest of all
        assert (
            median[["00:00", "00:15", "00:30", "00:45"]].max()
            < median.drop(["00:00", "00:15", "00:30", "00:45"]).min()
        )


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_volume_rises_with_the_size_of_the_move(key: str, fresh) -> None:
    bars = fresh[key]
    move = np.log(bars["close"]).diff().abs()
    clock = bars.index.strftime("%H:%M")
    mid = (clock >= "09:45") & (clock <= "11:15")
    big = move[mid] > move[mid].quantile(0.9)
    small = move[mid] < move[mid].quantile(0.5)
    assert bars["volume"][mid][big].median() > 1.5 * bars["volume"][mid][small].median()


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_open_interest_drifts_slowly(key: str, fresh) -> None:
    oi = fresh[key]["open_interest"]
    step = np.log(oi).diff().abs()
    assert step.median() < 0.005
    assert oi.min() / oi.median() > 0.5 and oi.max() / oi.median() < 2


@pytest.mark.parametrize("key", SAMPLE_INSTRUMENTS)
def test_both_sides_have_entries_to_trade(key: str, fresh) -> None:
    """All five entry checks of one side pass on about 1-4% of the bars, both sides."""
    passing = full_checks(fresh[key])
    longs, shorts = passing[1].sum(), passing[-1].sum()
    share = (longs + shorts) / len(fresh[key])
    assert 0.01 <= share <= 0.04
    assert longs > 0.3 * (longs + shorts) and shorts > 0.3 * (longs + shorts)


# ------------------------------------------------------------------- errors and CLI


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-13-01", "2024-03-29", "not a date"),
        ("yesterday", "2024-03-29", "not a date"),
        ("2024-03-29", "2024-01-02", "before start date"),
        ("1990-01-02", "2024-01-02", "outside the trading calendar"),
        ("2024-01-02", "2199-12-31", "outside the trading calendar"),
        ("2024-02-10", "2024-02-17", "no trading day"),
    ],
)
def test_bad_dates_are_calendar_errors(start: str, end: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        generate_sample("DCE/i", start, end, seed=1)


def test_bad_seed_and_unknown_instrument_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="seed"):
        generate_sample("DCE/i", *SHORT, seed=-1)
    with pytest.raises(ConfigError, match="unknown instrument"):
        generate_sample("DCE/xx", *SHORT, seed=1)


def _twotier() -> list[str]:
    script = Path(sys.executable).with_name("twotier")
    return [str(script)] if script.exists() else [sys.executable, "-m", "twotier"]


def test_cli_writes_the_three_files(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    args = ["sample", "--out", str(out), "--start", SHORT[0], "--end", SHORT[1]]
    done = subprocess.run(
        [*_twotier(), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "DCE_i.parquet", "DCE_m.parquet", "SHFE_cu.parquet"
    ]  # fmt: skip
    assert "1,766 bars" in done.stdout and "2024-01-02 to 2024-03-29" in done.stdout
    copper = pd.read_parquet(out / "SHFE_cu.parquet").set_index("time")
    expected = generate_sample("SHFE/cu", *SHORT, seed=SAMPLE_SEED)
    pd.testing.assert_index_equal(copper.index, expected.index)
    assert np.array_equal(copper["close"].to_numpy(), expected["close"].to_numpy())


def test_cli_reports_a_bad_date_without_a_traceback(tmp_path: Path, capsys) -> None:
    from twotier.cli.main import run

    with pytest.raises(SystemExit) as stop:
        run(["sample", "--out", str(tmp_path), "--start", "2024-03-29", "--end", "2024-01-02"])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "end date 2024-01-02 is before start date 2024-03-29" in err
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_writes_over_its_own_sample_never_a_users_file_of_that_name(tmp_path, capsys):
    from twotier.cli.main import run

    args = ["sample", "--out", str(tmp_path), "--start", "2024-01-02", "--end", "2024-01-05"]
    for _ in range(2):  # the second run replaces the first's files
        with pytest.raises(SystemExit) as stop:
            run(args)
        assert stop.value.code == 0
    mine = tmp_path / "SHFE_cu.parquet"
    pd.DataFrame({"time": [1], "close": [70000.0]}).to_parquet(mine)  # a user's own file
    before = mine.read_bytes()
    with pytest.raises(SystemExit) as stop:
        run(args)
    assert stop.value.code == 1
    assert f"--out {mine}: a file twotier did not write is there" in capsys.readouterr().err
    assert mine.read_bytes() == before
