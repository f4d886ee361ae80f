"""``twotier signals`` on the real iron ore and soybean meal files, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from twotier.cli.main import run
from twotier.tier1.package import package_metadata, read_packages
from twotier.tier1.state import episodes

# Triggers and episodes of the real files with the default rules (the figures).
EXPECTED = {
    "DCE/i": {"long": 8, "short": 7, "episodes": (8, 7)},
    "DCE/m": {"long": 4, "short": 0, "episodes": (4, 0)},
}


def test_signals_command_writes_each_instruments_packages_and_prints_its_figures(
    real_file, tmp_path
):
    iron, meal = real_file("DCE.i.HOT.m5.csv"), real_file("DCE.m.HOT.m5.csv")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "twotier", "signals", "--bars", f"DCE/i={iron}"]
    command += ["--bars", f"DCE/m={meal}", "--label", "end", "--out", str(out)]
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80  # readable in an 80-column terminal

    for instrument, generator, file in (
        ("DCE/i", "IronOreIndicator", "DCE_i.parquet"),
        ("DCE/m", "SoybeanIndicator", "DCE_m.parquet"),
    ):
        path = out / "signals" / file
        packages = read_packages(path)
        assert package_metadata(path)["generator"] == generator
        signal = packages["signal"].to_numpy()
        long_triggers = int((packages["trigger"] == 1).sum())
        short_triggers = int((packages["trigger"] == -1).sum())
        ep = episodes(signal)
        starts = np.flatnonzero(np.diff(np.concatenate([[0], ep])) > 0)
        long_episodes = int((signal[starts] == 1).sum())
        expected = EXPECTED[instrument]
        assert (long_triggers, short_triggers) == (expected["long"], expected["short"])
        assert (long_episodes, len(starts) - long_episodes) == expected["episodes"]

        block = lines[lines.index(f"{instrument}  {generator}  -> {file}") :][:5]
        assert block[1] == (f"  bars      {len(packages):,} (warm-up: signal 49, regime 118)")
        assert block[2] == f"  triggers  long {long_triggers}, short {short_triggers}"
        assert block[3] == (
            f"  episodes  long {long_episodes}, short {len(starts) - long_episodes}"
        )
        shares = packages["regime"].value_counts(normalize=True)
        assert block[4] == "  regime    " + ", ".join(
            f"{name} {shares.get(k, 0.0):.0%}"
            for k, name in ((1, "uptrend"), (2, "downtrend"), (3, "ranging"), (4, "chaos"))
        )


def test_signals_command_reports_a_bad_bars_option_in_one_line(capsys):
    with pytest.raises(SystemExit) as exited:
        run(["signals", "--bars", "DCE/i", "--out", "x"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "--bars expects INSTRUMENT=FILE" in err
    assert "Traceback" not in err
