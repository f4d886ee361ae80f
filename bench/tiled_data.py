"""The benches' ten-year data set: three instruments of real bars tiled over 2016-2025.

    .venv/bin/python bench/tiled_data.py [--out DIR]    # build it (once) and describe it

The real files of ``../shared/data/real`` (iron ore and soybean meal 5-minute bars,
copper 1-minute bars; ``$TWOTIER_REAL_DATA`` elsewhere) are read and validated by
twotier (the one malformed copper bar dropped), resampled to 15 minutes and laid, trading
day by trading day, onto the trading days of 2016-2025: target day j takes the bars of
source day j modulo the source's length, its day-session bars at the same clock times on
day j, its night bars on the evening before day j if that evening has a night session by
twotier's calendar (none on the eves of holidays, none during the 2020 suspension; night
bars are dropped there). Before 2019-04 DCE's nights ran to 23:30: the source's
21:00-23:00 bars are a part of them. A source without a night on some day leaves that
night empty in every copy (soybean meal before 2020-05-06), as a real file with a gap
would.

Prices: each source series is detrended geometrically (bar i of n multiplied by
(first open / last close) ** (i / n)), so that copies join where the previous one ended
and ten years do not compound one year's drift; then rounded to the tick (a monotone
rounding keeps every bar's high >= open, close >= low). Intraday shapes, gaps and the
main-contract series' roll jumps are the real ones. No contract column: the benches
measure one spliced series per instrument.

The files are CSV (``time,open,high,low,close,volume``, bar start, exchange time), as a
user would give them, plus the same bars as Parquet; they are written once into
``runs/bench-data/tiled-2016-2025`` and reused while the sources and this builder are
unchanged (a manifest records both). Where the real data is absent, the sample generator's
bars over the same ten years stand in, and every bench that uses them says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "runs" / "bench-data" / "tiled-2016-2025"
FIRST_DAY, LAST_DAY = "2016-01-01", "2025-12-31"
SOURCES = {  # instrument: real file (bars stamped at their end)
    "DCE/i": "DCE.i.HOT.m5.csv",
    "SHFE/cu": "SHFE.cu.HOT.m1.csv.gz",
    "DCE/m": "DCE.m.HOT.m5.csv",
}
BUILDER_VERSION = 1  # bump when the tiling changes, so that old files are rebuilt
COLUMNS = ("open", "high", "low", "close", "volume")
NS_PER_DAY = 86_400 * 10**9


def real_data_dir() -> Path:
    """Where the real files are: $TWOTIER_REAL_DATA, else ``<repo>/../shared/data/real``
    (where the tests find them)."""
    override = os.environ.get("TWOTIER_REAL_DATA")
    return Path(override) if override else ROOT.parent / "shared" / "data" / "real"


@dataclass(frozen=True)
class DataSet:
    """The data set's files by instrument, and what they are."""

    csv: dict[str, Path]
    parquet: dict[str, Path]
    origin: str  # one line: real tiled, or the sample generator's stand-in
    bars: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.bars.values())

    def describe(self) -> str:
        counts = ", ".join(f"{k} {n:,}" for k, n in self.bars.items())
        return f"{self.total:,} fifteen-minute bars ({counts}); {self.origin}"

    def files(self, kind: str = "csv") -> dict[str, Path]:
        return self.csv if kind == "csv" else self.parquet


def ten_years(out: Path = DEFAULT_OUT, rebuild: bool = False) -> DataSet:
    """The data set, built into ``out`` unless it is there already for these sources."""
    sources = _real_sources()
    stamp = _manifest_stamp(sources)
    saved = None if rebuild else _current_manifest(out, stamp)
    if saved is not None:
        return _data_set(out, saved)
    frames, origin = _tiled(sources) if sources else _generated(real_data_dir())
    out.mkdir(parents=True, exist_ok=True)
    for instrument, frame in frames.items():
        _write(frame, out / _file_name(instrument))
    saved = {"stamp": stamp, "origin": origin, "bars": {k: len(v) for k, v in frames.items()}}
    (out / "manifest.json").write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    return _data_set(out, saved)


def ten_years_built_apart(out: Path = DEFAULT_OUT) -> DataSet:
    """``ten_years``, any building done in a child process. For benches that measure
    their children's peak memory: on Linux a child's peak (``ru_maxrss``) starts from its
    parent's peak at the fork, and building the files takes the parent past 300 MB, so a
    first run's children would all report at least that."""
    stamp = _manifest_stamp(_real_sources())  # reads and digests the sources: once
    if _current_manifest(out, stamp) is None:
        subprocess.run([sys.executable, __file__, "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return _data_set(out, _current_manifest(out, stamp))


def _real_sources() -> dict[str, Path] | None:
    """The real files, or None where any of them is absent."""
    real = real_data_dir()
    sources = {k: real / name for k, name in SOURCES.items()}
    return sources if all(p.is_file() for p in sources.values()) else None


def _current_manifest(out: Path, stamp: str) -> dict | None:
    manifest = out / "manifest.json"
    if not manifest.is_file():
        return None
    saved = json.loads(manifest.read_text(encoding="utf-8"))
    return saved if saved.get("stamp") == stamp else None


def _file_name(instrument: str) -> str:
    return instrument.replace("/", "_")


def _data_set(out: Path, saved: dict) -> DataSet:
    keys = list(saved["bars"])
    return DataSet(
        csv={k: out / f"{_file_name(k)}.csv" for k in keys},
        parquet={k: out / f"{_file_name(k)}.parquet" for k in keys},
        origin=saved["origin"],
        bars=saved["bars"],
    )


def _manifest_stamp(sources: dict[str, Path] | None) -> str:
    """What the files are made from: this builder's version and each source's size and
    first bytes' digest (or the generator's stand-in)."""
    parts = [f"v{BUILDER_VERSION}", FIRST_DAY, LAST_DAY]
    if sources is None:
        parts.append("sample generator")
    else:
        for key, path in sources.items():
            head = hashlib.sha256(path.read_bytes()[: 1 << 20]).hexdigest()[:16]
            parts.append(f"{key}:{path.name}:{path.stat().st_size}:{head}")
    return "|".join(parts)


def _write(frame: pd.DataFrame, stem: Path) -> None:
    """The bars as a user would give them: CSV with the bar start in exchange time, and
    Parquet with the same columns (``time`` naive, exchange time)."""
    table = frame[list(COLUMNS)].copy()
    table.index = table.index.tz_localize(None)
    table.index.name = "time"
    table["volume"] = table["volume"].round().astype(np.int64)
    table.to_csv(stem.with_suffix(".csv"), date_format="%Y-%m-%d %H:%M:%S")
    table.reset_index().to_parquet(stem.with_suffix(".parquet"), index=False)


# ------------------------------------------------------------------------------ tiling


def _tiled(sources: dict[str, Path]) -> tuple[dict[str, pd.DataFrame], str]:
    from twotier.market.calendar import default_calendar

    calendar = default_calendar()
    days = calendar.between(FIRST_DAY, LAST_DAY)
    frames = {key: _tile(key, path, days, calendar) for key, path in sources.items()}
    names = ", ".join(p.name for p in sources.values())
    return frames, f"real bars ({names}) tiled over {days[0]} to {days[-1]}"


def _source(key: str, path: Path) -> pd.DataFrame:
    """A real file as 15-minute bars, as twotier reads it."""
    from twotier.market.bars import read_bars
    from twotier.market.resample import resample

    loaded = read_bars(path, key, label="end", on_bad_bar="drop")
    return resample(loaded.frame, loaded.instrument, loaded.bar_minutes)


def _tile(key: str, path: Path, days: np.ndarray, calendar) -> pd.DataFrame:
    """The source's trading days laid onto ``days`` in turn (see the module's text)."""
    from twotier.market.calendar import night_clock, session_dates
    from twotier.market.instruments import get_instrument

    source = _source(key, path)
    prices = _detrended(source, float(get_instrument(key).tick))
    wall = source.index.tz_localize(None).as_unit("ns").asi8
    night = night_clock(source.index)
    anchor = np.where(
        night, session_dates(source.index), source["trading_day"].to_numpy("datetime64[D]")
    )
    offset = wall - anchor.astype("datetime64[ns]").astype(np.int64)  # ns after the anchor
    source_day = source["trading_day"].to_numpy("datetime64[D]")
    firsts = np.flatnonzero(np.r_[True, source_day[1:] != source_day[:-1]])
    bounds = np.r_[firsts, len(source)]
    evenings = calendar.previous_trading_day(days)
    has_night = calendar.has_night(evenings)
    rows, stamps = [], []
    for j, day in enumerate(days):
        k = j % len(firsts)
        mine = np.arange(bounds[k], bounds[k + 1])
        if not has_night[j]:
            mine = mine[~night[mine]]
        base = np.where(night[mine], evenings[j], day).astype("datetime64[ns]").astype(np.int64)
        rows.append(mine)
        stamps.append(base + offset[mine])
    taken = np.concatenate(rows)
    index = pd.DatetimeIndex(np.concatenate(stamps).view("datetime64[ns]"), name="time")
    frame = pd.DataFrame(prices[taken], columns=list(COLUMNS), index=index)
    return frame.tz_localize("Asia/Shanghai")


def _detrended(source: pd.DataFrame, tick: float) -> np.ndarray:
    """open, high, low, close, volume with the series' drift taken out, on the tick."""
    values = source[list(COLUMNS)].to_numpy(dtype=np.float64).copy()
    n = len(values)
    drift = values[0, 0] / values[-1, 3]
    factor = drift ** (np.arange(n) / n)
    values[:, :4] = np.round(values[:, :4] * factor[:, None] / tick) * tick
    return values


def _generated(real: Path) -> tuple[dict[str, pd.DataFrame], str]:
    from twotier.market.sample import generate_sample

    frames = {key: generate_sample(key, FIRST_DAY, LAST_DAY) for key in SOURCES}
    return frames, (
        f"NOTE: real data not found in {real}: the sample generator's bars stand in "
        "(figures are not comparable with those measured on the real tiles)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--rebuild", action="store_true", help="build again even if present")
    args = parser.parse_args()
    data = ten_years(args.out, rebuild=args.rebuild)
    print(data.describe())
    for key, path in data.csv.items():
        print(f"  {key}: {path} ({path.stat().st_size / 1e6:.1f} MB), {data.parquet[key].name}")


if __name__ == "__main__":
    main()
