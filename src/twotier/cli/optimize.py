"""``twotier optimize``: a parameter sweep (optionally walk-forward) on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer

from twotier.cli.common import UsageError, console, note, parse_bars_options, warn
from twotier.config.baskets import fit_baskets, in_basket_order
from twotier.config.load import load_config
from twotier.engine.inputs import (
    Environment,
    load_bar_files,
    loading_notes,
    shared_days_warnings,
)
from twotier.run.folder import OPTIMIZE, claim_folder
from twotier.run.folder import check as check_output

if TYPE_CHECKING:
    from rich.table import Table

DEFAULT_WORKERS = 2


def optimize_command(
    space: Path = typer.Option(..., "--space", help="Search space TOML (docs/optimize.md)."),
    bars: list[str] = typer.Option(
        [], "--bars", metavar="INSTRUMENT=FILE", help="INSTRUMENT=FILE, repeatable."
    ),
    sample: bool = typer.Option(False, "--sample", help="Use the bundled sample bars."),
    config_file: Path | None = typer.Option(None, "--config", help="Base configuration TOML."),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="KEY=VALUE on the base, repeatable."
    ),
    label: str | None = typer.Option(None, "--label", help="start or end (default: config)."),
    on_bad_bar: str | None = typer.Option(None, "--on-bad-bar", help="refuse, drop or repair."),
    start: str | None = typer.Option(None, "--start", help="First trading day to trade."),
    end: str | None = typer.Option(None, "--end", help="Last trading day to trade."),
    workers: int | None = typer.Option(
        None, "--workers", help=f"Local worker processes (default {DEFAULT_WORKERS})."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on this Dask cluster (tcp://HOST:PORT)."
    ),
    walk_forward: str | None = typer.Option(
        None, "--walk-forward", help="rolling or anchored train/test windows."
    ),
    train: int | None = typer.Option(None, "--train", help="Training window, trading days."),
    test: int | None = typer.Option(None, "--test", help="Test window, trading days."),
    objective: str | None = typer.Option(
        None, "--objective", help="sharpe, sortino, calmar or total_return (default: space file)."
    ),
    max_drawdown: float | None = typer.Option(
        None, "--max-drawdown", help="Constraint: max drawdown at most this (0.15 = 15%)."
    ),
    min_trades: int | None = typer.Option(
        None, "--min-trades", help="Constraint: at least this many closed trades."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (reused to resume)."),
    force: bool = typer.Option(
        False, "--force", help="Replace a twotier folder of another kind at --out."
    ),
    top: int = typer.Option(10, "--top", help="Rows of the ranking to print."),
) -> None:
    """Sweep configuration keys over a search space on Dask, optionally walking forward.

    Any Tier-1 or Tier-2 key; the sets are ranked by an objective. Runs on a local Dask
    cluster or a given one; a sweep restarted with the same --out skips the runs already
    finished."""
    from twotier.optimize.cluster import dashboard, dask_client
    from twotier.optimize.objective import objective_from
    from twotier.optimize.outputs import write_outputs
    from twotier.optimize.space import load_space
    from twotier.optimize.sweep import SweepRequest, plan_sweep, prepare_sets, run_sweep

    if bool(bars) == sample:
        raise UsageError("give either --bars INSTRUMENT=FILE (repeatable) or --sample")
    if workers is not None and scheduler:
        raise UsageError("give --workers (a local cluster) or --scheduler, not both")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if walk_forward is None and (train is not None or test is not None):
        raise UsageError("--train and --test are the windows of --walk-forward rolling|anchored")
    check_output(out, OPTIMIZE, force=force)  # before any work; marked when the sweep starts
    base = load_config(config_file, overrides)
    files = parse_bars_options(bars)
    fitted = fit_baskets(base, list(files) or base.instruments)
    base = fitted.config
    warn(fitted.warnings)
    search = load_space(space)
    goal = objective_from(search.objective, objective, max_drawdown, min_trades, str(space))
    prepared = prepare_sets(search, base)  # a bad space fails before any bars are read
    traded = {k: v for k, v in files.items() if k in base.instruments}
    request = SweepRequest(
        search,
        _load_bars(traded, base, label, on_bad_bar),
        base,
        goal,
        start,
        end,
        walk_forward,
        train,
        test,
    )
    plan = plan_sweep(request, prepared)
    _print_plan(plan, goal.describe())
    claim_folder(out, OPTIMIZE, force=force)
    with dask_client(DEFAULT_WORKERS if workers is None else workers, scheduler) as client:
        where = scheduler or f"a local cluster of {len(client.scheduler_info()['workers'])}"
        console().print(f"Dask: {where} workers; dashboard {dashboard(client)}", soft_wrap=True)
        with _SweepProgress() as progress:
            result = run_sweep(request, client, out, progress=progress, plan=plan)
    paths = write_outputs(result, out)
    print_result(result, top, shown=plan.notes)
    for name, path in paths.items():
        console().print(f"{name}: {path}", markup=False)


def _load_bars(files: dict[str, Path], config, label, on_bad_bar) -> dict:
    if not files:
        from twotier.market.sample import load_sample

        return {key: load_sample(key) for key in config.instruments}
    env = Environment.from_config(config)
    inputs = in_basket_order(load_bar_files(files, config, env, label, on_bad_bar), config)
    note(loading_notes(inputs))
    frames = {k: v.bars for k, v in inputs.items()}
    warn(shared_days_warnings(frames))
    return frames


def _print_plan(plan, objective: str) -> None:
    sets, windows = len(plan.sets) - 1, len(plan.windows)
    wf = plan.windows[0].test is not None
    what = f"{windows} walk-forward window(s)" if wf else f"{plan.days[0]} to {plan.days[-1]}"
    console().print(
        f"{sets} parameter set(s) + the base configuration, {what}; objective: {objective}"
    )
    note(plan.notes)


class _SweepProgress:
    """A rich progress bar; each failed run is printed as it arrives."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console(),
        )
        self._task = self._bar.add_task("sweep", total=0, status="")
        self._reused = self._failed = 0

    def __enter__(self) -> _SweepProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def add_total(self, n: int) -> None:
        total = self._bar.tasks[0].total or 0
        self._bar.update(self._task, total=total + n)

    def advance(self, outcome, reused: bool) -> None:
        self._reused += reused
        if not outcome.ok:
            self._failed += 1
            self._bar.console.print(
                f"[red]failed:[/] set {outcome.set_id} {outcome.values} window {outcome.window} "
                f"({outcome.phase}): {outcome.error}",
                soft_wrap=True,
            )
        status = f"{self._reused} reused, {self._failed} failed"
        self._bar.update(self._task, advance=1, status=status)


def print_result(result, top: int, shown: tuple[str, ...] | list[str] = ()) -> None:
    """The ranking, the windows and the notes (but those ``shown`` with the plan)."""
    rows = result.ranked.head(top).to_dict("records")
    labels = short_labels(result.keys)
    values = [[_value(row[key]) for key in result.keys] for row in rows]
    table = _ranking_table(result, rows, labels, values)
    if console().measure(table).maximum > console().width:  # one wrapped column of key=value
        joined = [[" ".join(f"{k}={v}" for k, v in zip(labels, r, strict=True))] for r in values]
        table = _ranking_table(result, rows, ["values"], joined)
    console().print(table)
    if result.walk_forward:
        _print_windows(result)
    note([n for n in result.notes if n not in shown])
    failed = result.table[result.table["status"] != "ok"]
    if len(failed):
        console().print(f"[red]{len(failed)} run(s) failed[/] (summary.json lists them)")
    stats = result.stats
    console().print(
        f"tasks: {stats.tier1_tasks} Tier-1, {stats.tier2_tasks} Tier-2 "
        f"({stats.tier2_runs} backtests); "
        f"{stats.reused} result(s) reused from an earlier run"
    )


def _ranking_table(result, rows: list[dict], labels: list[str], values: list[list[str]]) -> Table:
    name = result.plan.objective.name
    title = "Ranking" + (" (means over training windows)" if result.walk_forward else "")
    caption = (
        "dim: breaks a constraint; red: failed" if not result.ranked["feasible"].all() else None
    )
    table = _table(title, caption)
    for column in ("rank", "set", name, "return", "max dd", "trades"):
        table.add_column(column, justify="right", no_wrap=True)
    for label in labels:
        table.add_column(label, justify="right" if len(labels) > 1 else "left", overflow="fold")
    for row, shown in zip(rows, values, strict=True):
        style = "red" if row["failed"] else (None if row["feasible"] else "dim")
        table.add_row(
            str(row["rank"]),
            "base" if row["base"] else str(row["set_id"]),
            _num(row["score"], "{:.3f}"),
            _num(row["total_return"], "{:+.2%}"),
            _num(row["max_drawdown"], "{:.2%}"),
            _num(row["trades"], "{:.0f}"),
            *shown,
            style=style,
        )
    return table


def _table(title: str, caption: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    return Table(
        title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )


def _print_windows(result) -> None:
    name = result.plan.objective.name
    title = f"Walk-forward: {name} in sample (IS) and out of sample (OOS)"
    table = _table(title)
    for column in ("window", "train", "test", "set", "IS", "OOS", "OOS return"):
        table.add_column(column, justify="right", no_wrap=True)
    for w in result.windows.to_dict("records"):
        table.add_row(
            str(w["window"]),
            _span(w["train_start"], w["train_end"]),
            _span(w["test_start"], w["test_end"]),
            str(w["set_id"]),
            _num(w[f"is_{name}"], "{:.3f}"),
            _num(w[f"oos_{name}"], "{:.3f}"),
            _num(w["oos_total_return"], "{:+.2%}"),
        )
    console().print(table)
    oos, base = result.oos_metrics or {}, result.oos_base_metrics or {}
    console().print(
        f"out of sample, stitched: {name} {_num(oos.get(name), '{:.3f}')}, return "
        f"{_num(oos.get('total_return'), '{:+.2%}')}, max drawdown "
        f"{_num(oos.get('max_drawdown'), '{:.2%}')}; base configuration: {name} "
        f"{_num(base.get(name), '{:.3f}')}, return {_num(base.get('total_return'), '{:+.2%}')}"
    )


def short_labels(keys: list[str]) -> list[str]:
    """Each key's shortest dotted suffix that no other key ends with: narrow columns."""
    labels = []
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            label = ".".join(parts[-n:])
            if sum(k == label or k.endswith("." + label) for k in keys) == 1:
                break
        labels.append(label)
    return labels


def _span(start: str, end: str) -> str:
    """2023-01-03..04-03 (the year once when both days share it)."""
    return f"{start}..{end[5:] if end[:4] == start[:4] else end}"


def _value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _num(value, form: str) -> str:
    if value is None or pd.isna(value):
        return "-"
    return form.format(value)
