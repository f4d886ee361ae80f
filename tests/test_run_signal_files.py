"""A run folder's signal files encoded on a thread from when Tier-1 has made the packages
(``run_backtest``'s ``on_signals``): the same bytes as ``write_packages`` writes, used only
for the result they were started from."""

from __future__ import annotations

import hashlib

import pytest

from twotier.config import load_config
from twotier.engine.backtest import run_backtest
from twotier.market.sample import SAMPLE_INSTRUMENTS, SAMPLE_SEED, generate_sample
from twotier.run.signal_files import SignalFiles
from twotier.run.writer import write_run
from twotier.tier1.package import namespace_path, read_namespace, write_packages


@pytest.fixture(scope="module")
def bars():
    return {
        k: generate_sample(k, "2024-01-01", "2024-04-30", SAMPLE_SEED) for k in SAMPLE_INSTRUMENTS
    }


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expected(result, folder) -> dict[str, str]:
    """The signal files ``write_packages`` writes for the result, by instrument."""
    digests = {}
    for instrument, packages in result.packages.items():
        path = write_packages(
            packages,
            folder,
            instrument,
            result.config.generator_name(instrument),
            result.config.tier1_params(instrument).model_dump(mode="json"),
        )
        digests[instrument] = _digest(path)
    return digests


def test_run_backtest_hands_tier1s_packages_to_on_signals_before_tier2(bars):
    seen = []
    config = load_config()
    result = run_backtest(bars, config, on_signals=lambda p, c: seen.append((dict(p), c)))
    ((packages, given),) = seen
    assert given is config
    assert packages.keys() == result.packages.keys()
    assert all(packages[k] is result.packages[k] for k in packages)


def test_signal_files_started_at_tier1_write_what_write_packages_writes(bars, tmp_path):
    files = SignalFiles()
    result = run_backtest(bars, load_config(), on_signals=files.start)
    assert files.made_for(result.packages, result.config)
    folder = write_run(result, tmp_path / "run", signal_files=files)
    expected = _expected(result, tmp_path / "expected")
    for instrument, digest in expected.items():
        assert _digest(namespace_path(folder, instrument)) == digest
    table = read_namespace(folder)  # and they read back as the packages
    assert set(table["instrument"]) == set(result.packages)
    assert len(table) == sum(len(p) for p in result.packages.values())


def test_signal_files_of_another_run_are_not_written_into_this_one(bars, tmp_path):
    other = SignalFiles()
    run_backtest(bars, load_config(), on_signals=other.start)
    result = run_backtest(bars, load_config(overrides=["tier1.checks.volume_ratio=1.3"]))
    assert not other.made_for(result.packages, result.config)
    folder = write_run(result, tmp_path / "run", signal_files=other)
    expected = _expected(result, tmp_path / "expected")
    for instrument, digest in expected.items():
        assert _digest(namespace_path(folder, instrument)) == digest


def test_signal_files_for_the_same_packages_under_another_configuration_do_not_count(bars):
    config = load_config()
    files = SignalFiles()
    result = run_backtest(bars, config, on_signals=files.start)
    assert not files.made_for(result.packages, load_config())


def test_a_signal_file_that_fails_to_encode_fails_the_run_folder_whole(bars, tmp_path, monkeypatch):
    import twotier.run.signal_files as signal_files

    result = run_backtest(bars, load_config())

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(signal_files, "parquet_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        write_run(result, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind either


def test_tier2_alone_names_the_generator_that_made_its_packages_not_its_own(bars, tmp_path):
    # Packages made with ema_fast 10, given to Tier-2 alone under the default (12): the
    # run's signal files used to say 12. A CSV table says nothing, so "unknown".
    import pandas as pd

    import twotier
    from twotier.tier1.package import UNKNOWN_GENERATOR, package_metadata

    made = load_config(overrides=["tier1.indicators.ema_fast=10"])
    source = write_run(run_backtest(bars, made), tmp_path / "made")
    alone = twotier.backtest(signals=source, out=tmp_path / "alone")
    meta = package_metadata(tmp_path / "alone" / "signals" / "DCE_i.parquet")
    assert meta["params"]["indicators"]["ema_fast"] == 10
    assert meta == package_metadata(source / "signals" / "DCE_i.parquet")
    table = pd.concat([p.assign(instrument=k) for k, p in alone.packages.items()])
    table.to_csv(tmp_path / "packages.csv", index=False)
    twotier.backtest(signals=tmp_path / "packages.csv", out=tmp_path / "from_csv")
    meta = package_metadata(tmp_path / "from_csv" / "signals" / "DCE_i.parquet")
    assert (meta["generator"], meta["params"]) == (UNKNOWN_GENERATOR, {})


def test_a_signal_file_that_fails_to_write_fails_the_run_folder_whole(bars, tmp_path, monkeypatch):
    import twotier.run.signal_files as signal_files

    result = run_backtest(bars, load_config())
    # Encoded into something the background thread cannot write: its error, raised when
    # the run folder waits for its writes, fails the folder as a failure here would.
    monkeypatch.setattr(signal_files, "parquet_bytes", lambda table: object())
    with pytest.raises(TypeError, match="bytes-like"):
        write_run(result, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one
