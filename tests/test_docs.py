"""The documentation stays true: its examples run, the configuration reference is the one
the configuration model generates, and its links between pages resolve.

Examples: every line of a ```sh block that starts with ``twotier`` is run through the CLI
(in this process, for speed; ``> file`` is honoured) and every ```python block is
executed, page by page in the order of ``PAGES``, in one scratch folder holding the files
the examples name: ``i.csv``, ``cu.csv``, ``m.csv`` and ``bars.csv`` (two months of the
bundled sample, stamped by bar end), ``vendor.csv`` (the same with a time column of its
own name), ``packages.csv`` (Tier-1's packages of those bars) and ``rolls.csv`` (a roll
schedule for copper). Lines with ``...`` are
sketches and are skipped, and so is ``make``. ``twotier demo`` without ``--end`` runs on
the sample's first quarter: the same command, a shorter run. The folder starts with the
run folders ``runs/demo`` and ``runs/latest`` (that demo), so each page can run alone."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from twotier.cli.main import app
from twotier.config import load_config
from twotier.engine.backtest import generate_signals
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.report.reference import configuration_reference

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("docs/quickstart.md", "docs/data.md", "docs/report.md", "docs/metrics.md", "README.md")
FILES = {"DCE/i": "i.csv", "SHFE/cu": "cu.csv", "DCE/m": "m.csv"}
DATA_END = "2023-02-28"
DEMO_END = "2023-03-31"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: str, language: str) -> list[str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [body for lang, body in BLOCK.findall(text) if lang == language]


def commands(page: str) -> list[str]:
    found = []
    for body in blocks(page, "sh"):
        for line in body.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line.startswith("twotier ") and "..." not in line:
                found.append(line)
    return found


def _write_bars(frame: pd.DataFrame, path: Path, time_column: str = "datetime") -> None:
    """Sample bars as a vendor would write them: stamped by bar END, local time."""
    out = frame.drop(columns=["trading_day"]).reset_index()
    ends = out["time"] + pd.Timedelta(minutes=15)
    out.insert(0, time_column, ends.dt.strftime("%Y-%m-%d %H:%M:%S"))
    out.drop(columns=["time"]).to_csv(path, index=False)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    cut = pd.Timestamp(DATA_END)
    bars = {}
    for key in SAMPLE_INSTRUMENTS:
        frame = load_sample(key)
        bars[key] = frame[frame["trading_day"] <= cut]
        _write_bars(bars[key], folder / FILES[key])
    _write_bars(bars["DCE/i"], folder / "bars.csv")
    _write_bars(bars["DCE/i"], folder / "vendor.csv", time_column="TradingTime")
    packages = generate_signals(bars, load_config())
    pd.concat(packages.values(), ignore_index=True).to_csv(folder / "packages.csv", index=False)
    # A roll schedule for the README's continuous-contract example (the sample is one
    # series; a roll at a steady price is enough to run the example).
    copper = bars["SHFE/cu"]
    day = copper["trading_day"].iloc[len(copper) // 2]
    price = copper["close"][copper["trading_day"] < day].iloc[-1]
    (folder / "rolls.csv").write_text(
        "trading_day,old_contract,new_contract,old_price,new_price\n"
        f"{day:%Y-%m-%d},cu2302,cu2303,{price:g},{price:g}\n",
        encoding="utf-8",
    )
    # Run folders the pages look at, whichever page runs first.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        run_command("twotier demo --quiet")
    shutil.copytree(folder / "runs" / "demo", folder / "runs" / "latest")
    return folder


def run_command(line: str) -> str:
    text, _, target = line.partition(" > ")
    args = shlex.split(text)[1:]
    if args[0] == "demo" and "--end" not in args:
        args += ["--end", DEMO_END]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, f"{line}\n{result.output}\n{result.exception!r}"
    if target:
        Path(target.strip()).write_text(result.stdout, encoding="utf-8")
    return result.stdout


@pytest.mark.parametrize("page", PAGES)
def test_shell_examples_of_the_page_run(page, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    for line in commands(page):
        run_command(line)


@pytest.mark.parametrize("page", PAGES)
def test_python_examples_of_the_page_run(page, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    namespace: dict = {}
    for k, code in enumerate(blocks(page, "python")):
        exec(compile(code, f"{page} python block {k + 1}", "exec"), namespace)


def test_pages_show_runnable_examples():
    assert len(commands("docs/quickstart.md")) >= 8
    assert blocks("docs/quickstart.md", "python")
    assert any(line.startswith("twotier backtest --signals") for line in commands("docs/data.md"))


def test_configuration_page_is_the_generated_reference():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == configuration_reference(), (
        "docs/configuration.md is out of date: run "
        "`.venv/bin/twotier config reference > docs/configuration.md`"
    )


def test_config_reference_command_prints_the_reference():
    result = CliRunner().invoke(app, ["config", "reference"])
    assert result.exit_code == 0
    assert result.stdout == configuration_reference()


def test_reference_lists_every_key_of_the_configuration_with_its_default():
    text = configuration_reference()
    for key, default in (
        ("execution.fill", '"next_open"'),
        ("sizing.strong.threshold", "0.55"),
        ("breakers.max_daily_loss", "0.03"),
        ("tier1.indicators.ema_fast", "12"),
    ):
        assert re.search(rf"\| `{re.escape(key)}` \|[^|]*\| `{re.escape(default)}` \|", text), key
    assert "## `portfolio.baskets[]`" in text and "## `generators.<instrument>`" in text


def test_links_between_pages_resolve():
    for page in [*ROOT.glob("docs/*.md"), ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"
