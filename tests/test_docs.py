"""The documentation stays true: every command and code block of README.md and docs/ runs
as written, the output a page quotes is what the commands give, the configuration
reference is the one the model generates, and links between pages resolve.

Each page runs alone, top to bottom, in a scratch folder that holds only the input files
the page names and does not make itself (``i.csv``, ``space.toml``, ``hot.csv``...: made
here from the bundled sample, see ``INPUTS``): whatever else a page uses (a run folder, a
configuration written with ``config show >``), it must create first. Blocks:

- ``sh``: every command (``\\`` continues a line, ``#`` starts a comment, ``> FILE``
  writes stdout to FILE, ``cat FILE | twotier ...`` feeds FILE to stdin). ``twotier``
  commands run through the CLI in this process (a piped one in a subprocess); ``make
  demo`` is ``twotier demo``; ``make test`` and the benchmarks of ``bench/`` are not run
  (speed is measured there, never in tests): a benchmark line's options must be ones its
  script takes. ``twotier demo`` without ``--end`` runs on the sample's first quarter
  except on the README, whose figures are the whole demo's; ``twotier paper`` on a folder
  feed reads it with ``--once`` (the same run, stopped once the folder is read).
- ``python``: executed, the page's blocks in one namespace, as a script's
  (``__name__ == "__main__"``, so a block under that guard runs).
- ``toml``: a configuration (or, with ``[space]``, a search space with every set valid).
- ``csv``: a roll schedule, written to the file the page reads it from.
- ``json``: one line of the paper trading feed.
- ``text``: output, layouts and synopses; not run (the outputs a page quotes are checked
  by the page's own test below).

Commands that read the real market data (``shared/data/real``) run only where it is."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from twotier.cli.main import app
from twotier.config import load_config
from twotier.engine.backtest import generate_signals
from twotier.market.calendar import TradingCalendar
from twotier.market.instruments import InstrumentRegistry
from twotier.market.rolls import read_schedule
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.optimize.space import load_space
from twotier.optimize.sweep import prepare_sets
from twotier.report.reference import configuration_reference

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    p.relative_to(ROOT).as_posix() for p in [ROOT / "README.md", *ROOT.glob("docs/*.md")]
)
DATA_END = "2023-02-28"
DEMO_END = "2023-03-31"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
REAL = ("DCE.i.HOT.m5.csv", "SHFE.cu.HOT.m1.csv.gz", "DCE.m.HOT.m5.csv")
SPACE = """[space]
"sizing.min_conviction" = [0.2, 0.3]

[objective]
name = "sharpe"
"""


def blocks(page: str) -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))


def commands(page: str) -> list[str]:
    """The command lines of the page's ``sh`` blocks, continuations joined."""
    found = []
    for language, body in blocks(page):
        if language != "sh":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True):
                found.append(line)
    return found


# -- the input files a page may name -----------------------------------------------------


def _end_stamped(frame: pd.DataFrame, path: Path, time_column: str = "datetime") -> None:
    """Sample bars as a vendor writes them: stamped by bar END, local time."""
    out = frame.drop(columns=["trading_day"]).reset_index()
    out.insert(0, time_column, (out["time"] + pd.Timedelta(minutes=15)).dt.strftime("%F %T"))
    out.drop(columns=["time"]).to_csv(path, index=False)


def _start_stamped(frame: pd.DataFrame, path: Path) -> None:
    out = frame.drop(columns=["trading_day"]).copy()
    out.index = out.index.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S")
    out.index.name = "time"
    out.to_csv(path, lineterminator="\n")


def _sample(key: str, first: str = "2023-01-01", last: str = DATA_END) -> pd.DataFrame:
    frame = load_sample(key)
    days = frame["trading_day"]
    return frame[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))]


def _bar_files(folder: Path) -> None:
    for key, name in (("DCE/i", "i.csv"), ("SHFE/cu", "cu.csv"), ("DCE/m", "m.csv")):
        _end_stamped(_sample(key), folder / name)


def _packages(folder: Path) -> None:
    bars = {key: _sample(key) for key in SAMPLE_INSTRUMENTS}
    packages = generate_signals(bars, load_config())
    pd.concat(packages.values(), ignore_index=True).to_csv(folder / "packages.csv", index=False)


def _rolls(folder: Path, key: str, old: str, new: str) -> None:
    """A roll schedule (the sample is one series: a roll at a steady price)."""
    bars = _sample(key)
    day = bars["trading_day"].iloc[len(bars) * 3 // 4]
    price = bars["close"][bars["trading_day"] < day].iloc[-1]
    (folder / "rolls.csv").write_text(
        "trading_day,old_contract,new_contract,old_price,new_price\n"
        f"{day:%Y-%m-%d},{old},{new},{price:g},{price:g}\n",
        encoding="utf-8",
    )


def _hot(folder: Path) -> None:
    """Iron ore by bar end with a contract column: i2305, then i2309 from 2023-02-01."""
    frame = _sample("DCE/i").copy()
    frame["symbol"] = frame["trading_day"].map(
        lambda d: "i2305" if d < pd.Timestamp("2023-02-01") else "i2309"
    )
    _end_stamped(frame, folder / "hot.csv")


def _contracts(folder: Path) -> None:
    """Two copper contracts by bar end, open interest in ``hold``: cu2306's passes
    cu2305's on 2023-02-06."""
    (folder / "contracts").mkdir()
    frame = _sample("SHFE/cu")
    days = (frame["trading_day"] - pd.Timestamp("2023-02-06")).dt.days.to_numpy()
    for code, shift, hold in (
        ("cu2305", 0, 150_000 - 1000 * days),
        ("cu2306", 200, 150_000 + 1000 * days),
    ):
        one = frame.copy()
        for column in ("open", "high", "low", "close"):
            one[column] = one[column] + shift
        one["hold"] = hold
        _end_stamped(one.drop(columns=["open_interest"]), folder / "contracts" / f"{code}.csv")


def _feed(folder: Path, name: str) -> None:
    """A feed folder: the three instruments' sample bars of two weeks (bar start labels)."""
    (folder / name).mkdir()
    for key in SAMPLE_INSTRUMENTS:
        _start_stamped(
            _sample(key, "2023-02-13", DATA_END), folder / name / f"{key.replace('/', '_')}.csv"
        )


def _history(folder: Path) -> None:
    _start_stamped(_sample("DCE/i", "2023-01-01", "2023-02-10"), folder / "i_2024.csv")


def _jsonl(folder: Path) -> None:
    frame = _sample("DCE/i", "2023-02-13", "2023-02-17")
    with open(folder / "bars.jsonl", "w", encoding="utf-8") as f:
        for time, row in frame.iterrows():
            values = {k: row[k] for k in ("open", "high", "low", "close", "volume")}
            f.write(json.dumps({"instrument": "DCE/i", "time": f"{time:%F %T}", **values}) + "\n")


def _vendor(folder: Path) -> None:
    _end_stamped(_sample("DCE/i"), folder / "vendor.csv", time_column="TradingTime")


INPUTS: dict[str, Callable[[Path], None]] = {
    "i.csv": _bar_files,
    "bars.csv": lambda f: _end_stamped(_sample("DCE/i"), f / "bars.csv"),
    "vendor.csv": _vendor,
    "packages.csv": _packages,
    "SHFE/cu=rolls.csv": lambda f: _rolls(f, "SHFE/cu", "cu2302", "cu2303"),
    "DCE/i=rolls.csv": lambda f: _rolls(f, "DCE/i", "i2305", "i2309"),
    "hot.csv": _hot,
    "contracts/": _contracts,
    "space.toml": lambda f: (f / "space.toml").write_text(SPACE),
    "my.toml": lambda f: (f / "my.toml").write_text(""),
    "folder:bars": lambda f: _feed(f, "bars"),
    "folder:incoming/": lambda f: _feed(f, "incoming"),
    "i_2024.csv": _history,
    "bars.jsonl": _jsonl,
}


def prepare(page: str, folder: Path, real: Path | None) -> None:
    """The inputs the page names (and does not make itself), and the real files."""
    text = "\n".join(body for language, body in blocks(page) if language in ("sh", "python"))
    for name, make in INPUTS.items():
        if name in text:
            make(folder)
    for language, body in blocks(page):  # a schedule the page shows is its rolls.csv
        if language == "csv" and "rolls.csv" in text:
            (folder / "rolls.csv").write_text(body, encoding="utf-8")
    if real is not None:
        for name in REAL:
            if (real / name).is_file():
                (folder / name).symlink_to(real / name)


# -- running a page ---------------------------------------------------------------------


def run_line(line: str, folder: Path, page: str, real: Path | None) -> str | None:
    """One command of a page; its stdout (None when it is not run here)."""
    words = shlex.split(line, comments=True)
    if words[0] == "make":
        if words[1:] != ["demo"]:
            return None
        words = ["twotier", "demo"]
    if words[0] == ".venv/bin/python":
        return check_benchmark(words)
    reads_real = any(name in word for word in words for name in REAL)
    if reads_real and (real is None or not all((real / n).is_file() for n in REAL)):
        return None
    stdin = None
    if words[0] == "cat" and words[2] == "|":
        stdin, words = folder / words[1], words[3:]
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    assert words[0] == "twotier", f"{page}: not a twotier command: {line}"
    args = words[1:]
    if args[0] == "demo" and "--end" not in args and page != "README.md":
        args += ["--end", DEMO_END]
    if args[0] == "paper" and any(a.startswith("folder:") for a in args) and "--once" not in args:
        args += ["--once"]
    if stdin is not None:
        with open(stdin, "rb") as feed:
            result = subprocess.run(
                [sys.executable, "-m", "twotier", *args],
                stdin=feed,
                capture_output=True,
                text=True,
                cwd=folder,
                timeout=300,
            )
        assert result.returncode == 0, f"{page}: {line}\n{result.stderr}"
        out = result.stdout
    else:
        result = CliRunner().invoke(app, args, catch_exceptions=True)
        assert result.exit_code == 0, f"{page}: {line}\n{result.output}\n{result.exception!r}"
        out = result.stdout
    if target:
        (folder / target).write_text(out, encoding="utf-8")
    return out


def check_benchmark(words: list[str]) -> str:
    """A benchmark's options must be options its script takes."""
    script = ROOT / words[1]
    assert script.is_file(), words[1]
    help_text = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for word in words[2:]:
        if word.startswith("--"):
            assert word in help_text, f"{words[1]} has no option {word}"
    return help_text


def run_page(page: str, folder: Path, real: Path | None) -> dict[str, str]:
    """Every block of the page in order; the stdout of each command by its line."""
    prepare(page, folder, real)
    outputs: dict[str, str] = {}
    namespace: dict = {"__name__": "__main__"}
    for k, (language, body) in enumerate(blocks(page)):
        if language == "sh":
            for line in body.replace("\\\n", " ").splitlines():
                if shlex.split(line, comments=True):
                    out = run_line(line, folder, page, real)
                    if out is not None:
                        outputs[line] = out
        elif language == "python":
            exec(compile(body, f"{page} python block {k + 1}", "exec"), namespace)
        elif language == "toml":
            check_toml(body, folder)
        elif language == "csv":
            read_schedule(folder / "rolls.csv")
        elif language == "json":
            row = json.loads(body)
            assert {"instrument", "time", "open", "high", "low", "close", "volume"} <= set(row)
    return outputs


CALENDAR_KEYS = ("holidays", "trading_days", "no_night", "weekdays_until")


def check_toml(body: str, folder: Path) -> None:
    """A TOML block loads as what it is: a search space, an instrument file, a calendar
    file, or else a configuration."""
    path = folder / "block.toml"
    path.write_text(body, encoding="utf-8")
    keys = tomllib.loads(body)
    if "[space]" in body:
        sets, _ = prepare_sets(load_space(path), load_config())
        assert len(sets) > 1
    elif "instruments" in keys:
        InstrumentRegistry.load(path)
    elif set(keys) and set(keys) <= set(CALENDAR_KEYS):
        TradingCalendar.load(path)
    else:
        load_config(path)


@pytest.fixture(scope="module")
def real_folder(real_data_location: Path) -> Path | None:
    return real_data_location if real_data_location.is_dir() else None


class SharedCluster:
    """One local Dask cluster for every sweep of the pages: the commands run as written,
    on a cluster of the workers they ask for, without starting one each (seconds apiece)."""

    def __init__(self) -> None:
        self.clusters: dict[int, object] = {}

    @contextlib.contextmanager
    def client(self, workers: int = 2, scheduler: str | None = None, wait_seconds: float = 60):
        from distributed import Client, LocalCluster

        assert scheduler is None, "a page's sweep names a scheduler: run it for real"
        if workers not in self.clusters:
            self.clusters[workers] = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        with Client(self.clusters[workers]) as client:
            yield client

    def close(self) -> None:
        for cluster in self.clusters.values():
            cluster.close()


@pytest.fixture(scope="module")
def ran(tmp_path_factory, real_folder) -> Callable[[str], tuple[Path, dict[str, str]]]:
    """``ran(page)``: the page run once in its own folder (its folder and outputs)."""
    done: dict[str, tuple[Path, dict[str, str]]] = {}
    shared = SharedCluster()

    def run(page: str) -> tuple[Path, dict[str, str]]:
        if page not in done:
            folder = tmp_path_factory.mktemp(page.replace("/", "-").replace(".", "-"))
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(folder)
                patch.setattr("twotier.optimize.cluster.dask_client", shared.client)
                done[page] = folder, run_page(page, folder, real_folder)
        return done[page]

    yield run
    shared.close()


@pytest.mark.parametrize("page", PAGES)
def test_every_block_of_the_page_runs_as_written(page, ran):
    ran(page)


# -- what the pages say the commands give --------------------------------------------


def _metrics(folder: Path, run: str) -> dict:
    return json.loads((folder / "runs" / run / "metrics.json").read_text())["portfolio"]


def test_readme_quotes_the_demo_and_the_real_data_runs(ran):
    folder, _ = ran("README.md")
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    demo = _metrics(folder, "demo")
    assert f"+{demo['total_return']:.1%} over three years, Sharpe {demo['sharpe']:.2f}" in text
    assert f"{demo['trades']} trades, in the market {demo['time_in_market']:.0%}" in text
    if not (folder / "runs" / "real").is_dir():
        pytest.skip("the real market data is not here")
    real = _metrics(folder, "real")
    summary = json.loads((folder / "runs" / "real" / "summary.json").read_text())
    minus = "\N{MINUS SIGN}"
    assert f"ends at {summary['final_pv']:,.2f} from 1,000,000" in text
    assert f"**{minus}{-real['total_return']:.2%}**" in text
    assert f"Sharpe {minus}{-real['sharpe']:.2f}, max drawdown {real['max_drawdown']:.2%}" in text
    assert f"{real['trades']} trades of which {real['win_rate']:.0%} won" in text
    assert f"in the market {real['time_in_market']:.1%} of the time" in text
    shares = [f"{b['return']:+.1%}".replace("-", minus) for b in summary["baskets"]]
    assert "iron ore {}, copper {}, soybean meal {}".format(*shares) in text
    assert sum("share no trading day" in w for w in summary["warnings"]) == 2
    suspected = [w for w in summary["warnings"] if "suspected roll" in w]
    counts = {w.split(": ")[0]: int(w.split(": ")[1].split(" ")[0]) for w in suspected}
    assert counts == {"DCE/i": 5, "SHFE/cu": 1, "DCE/m": 1}
    assert "seven suspected roll jumps (five in iron ore" in text
    assert "one each in copper and soybean meal" in text


def test_sample_data_page_says_what_data_check_shows(ran):
    _, outputs = ran("docs/sample-data.md")
    iron = outputs["twotier data check sample/DCE_i.parquet --instrument DCE/i"]
    meal = outputs["twotier data check sample/DCE_m.parquet --instrument DCE/m"]
    for out in (iron, meal):
        assert "night: 5,664 bars on 708 days" in out and "727 (2023-01-03 to 2025-12-31)" in out
    assert "2025-06-05 09:00 (trading day 2025-06-05): 750 -> 721" in iron
    assert "2023-11-16 09:00 (trading day 2023-11-16): 3348 ->" in meal and "3425" in meal


def test_quickstart_demo_prints_the_report_path(ran):
    _, outputs = ran("docs/quickstart.md")
    assert "report: runs/demo/report.html" in outputs["twotier demo"]


def test_pages_show_runnable_examples():
    assert len(commands("docs/quickstart.md")) >= 8
    assert any(line.startswith("twotier backtest --signals") for line in commands("docs/data.md"))
    for page in PAGES:
        for language, body in blocks(page):
            assert language, f"{page}: a code block without a language (text, sh, ...)"
            if language == "sh":
                assert "..." not in body, f"{page}: a sketch in an sh block: {body}"


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


def test_live_page_shows_the_out_of_order_error_paper_trading_gives(tmp_path):
    """A collector appends a bar older than one already read: the run stops with the
    error the page shows (line numbers aside)."""
    shown = next(
        line
        for language, body in blocks("docs/live.md")
        if language == "text"
        for line in body.splitlines()
        if "is out of order" in line
    )
    (tmp_path / "bars").mkdir()
    feed = tmp_path / "bars" / "DCE_i.csv"
    frame = load_sample("DCE/i").loc["2024-10-08 09:00":"2024-10-08 09:15"]
    _start_stamped(frame.iloc[1:], feed)  # the 09:15 bar
    iron = 'portfolio.baskets=[{instrument="DCE/i", capital_fraction=0.9}]'
    args = ["paper", "--feed", "folder:bars", "--state", "state", "--set", iron, "--quiet"]
    process = subprocess.Popen(
        [sys.executable, "-m", "twotier", *args, "--poll", "0.1", "--durability", "normal"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "state" / "run" / "equity.csv").is_file():  # 09:15 stepped
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        earlier = frame.iloc[:1].drop(columns=["trading_day"])
        with open(feed, "a", encoding="utf-8") as f:  # then the 09:00 bar
            f.write(f"2024-10-08 09:00:00,{','.join(str(v) for v in earlier.iloc[0])}\n")
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    got = err.strip().splitlines()[-1]
    assert re.sub(r"line \d+", "line N", got) == re.sub(r"line \d+", "line N", shown)
