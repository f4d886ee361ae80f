"""Sweeps on a real local Dask cluster (two worker processes, shared by this module) over
a few months of the bundled sample bars: determinism whatever the number of workers,
walk-forward without look-ahead, failures reported, resume, shared Tier-1 work."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math

import pandas as pd
import pytest
from distributed.comm import CommClosedError

from twotier.cli.optimize import print_result
from twotier.config import load_config
from twotier.engine.backtest import generate_signals
from twotier.engine.inputs import Environment
from twotier.market.sample import SAMPLE_INSTRUMENTS, load_sample
from twotier.optimize.cluster import HEARTBEAT_FAILED, dask_client
from twotier.optimize.outputs import write_outputs
from twotier.optimize.runner import SweepRunner
from twotier.optimize.space import parse_space
from twotier.optimize.sweep import SweepRequest, config_value, plan_sweep, run_sweep
from twotier.optimize.tasks import backtest_batch, backtest_window

LAST_DAY = dt.date(2023, 4, 28)
SPACE = {
    "space": {
        "sizing.min_conviction": {"grid": [0.2, 0.35]},
        "tier1.checks.volume_ratio": {"grid": [1.2, 1.5]},
    }
}


def fail_at_high_conviction(config, packages, env, start, end, keep_steps, shared=None):
    """A run that breaks after validation passed (the workers import this module)."""
    if config.sizing.min_conviction == 0.35:
        raise ValueError("injected failure")
    return backtest_window(config, packages, env, start, end, keep_steps, shared)


@pytest.fixture(scope="module")
def bars() -> dict[str, pd.DataFrame]:
    frames = {k: load_sample(k) for k in SAMPLE_INSTRUMENTS}
    return {k: v[v["trading_day"].dt.date <= LAST_DAY] for k, v in frames.items()}


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def request_for(bars, space=SPACE, **options) -> SweepRequest:
    return SweepRequest(parse_space(space), bars, load_config(), **options)


def walk_forward_request(bars) -> SweepRequest:
    return request_for(bars, walk_forward="rolling", train=30, test=15)


@pytest.fixture(scope="module")
def walked(bars, client, tmp_path_factory):
    out = tmp_path_factory.mktemp("walk")
    return run_sweep(walk_forward_request(bars), client, out)


def test_walk_forward_results_are_identical_with_one_and_two_workers(bars, walked, tmp_path):
    with dask_client(workers=1) as one:
        alone = run_sweep(walk_forward_request(bars), one, tmp_path)
    pd.testing.assert_frame_equal(alone.table, walked.table)
    pd.testing.assert_frame_equal(alone.oos, walked.oos)
    assert alone.choices == walked.choices
    assert list(walked.table["set_id"]) == sorted(walked.table["set_id"])


def test_walk_forward_trains_only_before_each_test_window(walked):
    windows = walked.plan.windows
    assert len(windows) == 3
    spans = {(w.index, "train"): w.train for w in windows} | {
        (w.index, "test"): w.test for w in windows
    }
    for w in windows:
        assert w.train.end < w.test.start
    for o in walked.outcomes:
        span = spans[(o.window, o.phase)]
        days = [dt.date.fromisoformat(d) for d in o.daily["day"]]
        # each backtest's equity has no step outside its own period
        assert span.start <= days[0] and days[-1] <= span.end, (o.set_id, o.window, o.phase)
        if o.phase == "train":
            assert days[-1] < windows[o.window].test.start


def test_each_window_tests_the_set_that_trained_best(walked):
    train = walked.table[(walked.table["phase"] == "train") & ~walked.table["base"]]
    for window, rows in train.groupby("window"):
        best = rows.sort_values(["score", "set_id"], ascending=[False, True]).iloc[0]
        assert walked.choices[window] == best["set_id"]
    tested = walked.table[walked.table["phase"] == "test"]
    assert sorted(tested["set_id"].groupby(tested["window"]).apply(list).sum()) == sorted(
        [*walked.choices.values(), *[0] * len(walked.choices)]
    )


def test_stitched_out_of_sample_curve_chains_each_windows_return(walked):
    initial = 1_000_000.0
    growth = 1.0
    tests = {o.window: o for o in walked.outcomes if o.phase == "test" and o.set_id != 0 and o.ok}
    for window in sorted(tests):
        piece = walked.oos[walked.oos["window"] == window]
        own = tests[window].steps["pv"]
        assert piece["pv"].iloc[0] == pytest.approx(initial * growth * own[0] / initial)
        growth *= own[-1] / initial
    assert walked.oos["pv"].iloc[-1] == pytest.approx(initial * growth)
    assert walked.oos_metrics["total_return"] == pytest.approx(growth - 1)
    test_days = {w.index: w.test for w in walked.plan.windows}
    for window, piece in walked.oos.groupby("window"):
        assert piece["trading_day"].dt.date.min() >= test_days[window].start


def test_tier1_packages_are_computed_once_per_distinct_configuration_and_again_to_test(
    walked,
):
    # two volume ratios (the base shares 1.2) x three instruments, whatever the windows;
    # a window whose chosen set has the other ratio makes its packages again to test it
    ratios = [
        walked.plan.configs[chosen].tier1.checks.volume_ratio for chosen in walked.choices.values()
    ]
    again = sum(ratio != 1.2 for ratio in ratios)
    assert again and walked.stats.tier1_tasks == 2 * 3 + 3 * again
    assert walked.stats.tier2_runs == 5 * 3 + 2 * 3
    assert walked.stats.tier2_tasks <= walked.stats.tier2_runs


def test_a_failing_run_is_reported_with_its_parameters_and_the_sweep_goes_on(
    bars, client, tmp_path, capsys
):
    result = run_sweep(
        request_for(bars, start="2023-03-01"), client, tmp_path, window_task=fail_at_high_conviction
    )
    failed = result.table[result.table["status"] == "failed"]
    assert list(failed["set_id"]) == [3, 4]
    assert set(failed["error"]) == {"ValueError: injected failure"}
    assert list(failed["sizing.min_conviction"]) == [0.35, 0.35]
    assert failed["sharpe"].isna().all()
    ok = result.table[result.table["status"] == "ok"]
    assert list(ok["set_id"]) == [0, 1, 2] and ok["sharpe"].notna().all()
    assert result.stats.failed == 2
    assert result.best in (1, 2)
    assert result.ranked["set_id"].tolist()[-2:] == [3, 4]  # failed sets rank last
    paths = write_outputs(result, tmp_path)  # failures in the summary, report and printout
    failures = json.loads(paths["summary"].read_text())["failed"]
    assert [(f["set_id"], f["values"]["sizing.min_conviction"]) for f in failures] == [
        (3, 0.35),
        (4, 0.35),
    ]
    assert "injected failure" in paths["report"].read_text()
    print_result(result, top=10)
    assert "2 run(s) failed" in capsys.readouterr().out

    # a restart re-runs only the failed sets
    again = run_sweep(request_for(bars, start="2023-03-01"), client, tmp_path)
    assert (again.stats.tier2_runs, again.stats.reused) == (2, 3)
    assert (again.table["status"] == "ok").all()


def test_resume_skips_finished_runs_and_rebuilds_the_same_table(bars, client, tmp_path):
    request = request_for(bars, start="2023-03-20")
    first = run_sweep(request, client, tmp_path)
    assert (first.stats.tier2_runs, first.stats.reused) == (5, 0)
    files = sorted((tmp_path / "results").glob("*.json"))
    assert len(files) == 5

    again = run_sweep(request, client, tmp_path)
    assert (again.stats.tier1_tasks, again.stats.tier2_runs, again.stats.reused) == (0, 0, 5)
    pd.testing.assert_frame_equal(again.table, first.table)

    files[0].unlink()  # as if the sweep had been interrupted before that result
    resumed = run_sweep(request, client, tmp_path)
    assert (resumed.stats.tier2_runs, resumed.stats.reused) == (1, 4)
    pd.testing.assert_frame_equal(resumed.table, first.table)


def test_other_data_or_periods_never_reuse_a_result(bars, client, tmp_path):
    space = {"space": {"sizing.min_conviction": {"grid": [0.3]}}}
    run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path)
    later = run_sweep(request_for(bars, space, start="2023-04-21"), client, tmp_path)
    assert later.stats.reused == 0
    shorter = {k: v[v["trading_day"].dt.date <= dt.date(2023, 4, 27)] for k, v in bars.items()}
    other = run_sweep(request_for(shorter, space, start="2023-04-21"), client, tmp_path)
    assert other.stats.reused == 0


def test_an_instruments_file_edited_in_place_never_reuses_a_result(bars, client, tmp_path):
    """The configuration names data.instruments_file by its path: the file's contents
    (fees, margins) decide the result too."""
    space = {"space": {"sizing.min_conviction": {"grid": [0.3]}}}
    spec = tmp_path / "instruments.toml"

    def request(fee: float) -> SweepRequest:
        spec.write_text(
            '[instruments."DCE/i"]\n'
            f'fee = {{ basis = "turnover", open = {fee}, close = {fee}, close_today = {fee} }}\n'
        )
        base = load_config(overrides=[f"data.instruments_file={spec}"])
        return SweepRequest(parse_space(space), bars, base, start="2023-04-20")

    out = tmp_path / "sweep"
    first = run_sweep(request(0.0001), client, out)
    assert run_sweep(request(0.0001), client, out).stats.reused == 2
    dearer = run_sweep(request(0.001), client, out)
    assert dearer.stats.reused == 0
    assert (dearer.table["fees"] > first.table["fees"]).all()


def test_a_calendar_day_moved_from_no_night_to_the_holidays_changes_the_result_key():
    from types import SimpleNamespace

    from twotier.optimize.store import environment_fingerprint

    def env(no_night, holidays):
        days = ["2024-01-02", "2024-01-03"]
        calendar = SimpleNamespace(
            days=days, no_night=no_night, holidays=holidays, assumed_from=None
        )
        return SimpleNamespace(instruments={}, calendar=calendar)

    nights = environment_fingerprint(env(["2024-01-03"], []))
    assert nights != environment_fingerprint(env([], ["2024-01-03"]))
    assert nights == environment_fingerprint(env(["2024-01-03"], []))


def test_a_generator_key_recomputes_only_that_instruments_packages(bars, client, tmp_path):
    space = {"space": {"generators.DCE/i.params.checks.volume_ratio": {"grid": [1.2, 1.5]}}}
    result = run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path)
    assert result.stats.tier1_tasks == 3 + 1  # base (= set 1) for all three, set 2's DCE/i
    assert list(result.table["generators.DCE/i.params.checks.volume_ratio"]) == [1.2, 1.2, 1.5]


def test_a_full_sweep_lets_packages_go_once_the_last_batch_reading_them_is_submitted(
    bars, client, tmp_path, monkeypatch
):
    # A sweep over Tier-1 keys held every configuration's packages on the workers to the
    # end: 300 ten-year sets of distinct volume ratios took each worker to 5 GB.
    space = {"space": {"tier1.checks.volume_ratio": {"grid": [1.1, 1.3, 1.5]}}}
    held, submit = [], SweepRunner._submit

    def noting(self, batch):
        submit(self, batch)
        held.append(sorted(self._tier1))

    monkeypatch.setattr(SweepRunner, "_submit", noting)
    result = run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path / "a")
    assert result.stats.tier1_tasks == 4 * 3 and held == [[]] * result.stats.tier2_tasks
    monkeypatch.setattr(SweepRunner, "_submit", submit)
    again = run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path / "b")
    pd.testing.assert_frame_equal(result.table, again.table)
    assert (result.table["status"] == "ok").all()


def test_a_walk_forward_lets_packages_go_after_their_configurations_last_batch(
    bars, client, walked, tmp_path, monkeypatch
):
    # Trained window by window, every Tier-1 configuration's packages were held on the
    # workers to the end: 100 ten-year sets took each worker to 1.95 GB. Each
    # configuration's batches of every window now go one after the other, and besides the
    # base configuration's packages (every window tests it) only theirs are held.
    submitted, submit = [], SweepRunner._submit

    def noting(self, batch):
        submit(self, batch)
        packages = tuple(self._package_keys(batch[0]).values())
        sets = {run.pset.set_id for run in batch}
        submitted.append((batch[0].phase, packages, sets, set(self._tier1)))

    monkeypatch.setattr(SweepRunner, "_submit", noting)
    result = run_sweep(walk_forward_request(bars), client, tmp_path)
    base = next(packages for _, packages, sets, _ in submitted if 0 in sets)
    assert all(held <= {*base, *packages} for _, packages, _, held in submitted)
    trained = [packages for phase, packages, *_ in submitted if phase == "train"]
    assert len(trained) == 5 * 3 and trained == sorted(trained, key=trained.index)
    pd.testing.assert_frame_equal(result.table, walked.table)
    pd.testing.assert_frame_equal(result.oos, walked.oos)


def test_without_shared_tier1_every_run_computes_its_own_packages(bars, client, tmp_path):
    space = {"space": {"exits.stop_loss_above": {"grid": [0.008, 0.012]}}}
    shared = run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path / "a")
    alone = run_sweep(
        request_for(bars, space, start="2023-04-20"), client, tmp_path / "b", share_tier1=False
    )
    assert (shared.stats.tier1_tasks, alone.stats.tier1_tasks) == (3, 3 * 3)
    pd.testing.assert_frame_equal(shared.table, alone.table)
    assert not math.isnan(shared.table["sharpe"].iloc[0])


class SubmitRecorder:
    """The cluster's client, noting the function of every task submitted, in order."""

    def __init__(self, client):
        self.client, self.submitted = client, []

    def submit(self, function, *args, **options):
        self.submitted.append(function.__name__)
        return self.client.submit(function, *args, **options)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_packages_are_submitted_just_before_the_batch_that_reads_them(bars, client, tmp_path):
    # Dask runs tasks in about the order they were submitted: every run's packages
    # submitted first would all be held in the workers' memory at once (600 MB on the
    # bench's sweep without shared Tier-1).
    space = {"space": {"exits.stop_loss_above": {"grid": [0.008, 0.012]}}}
    recorder = SubmitRecorder(client)
    request = request_for(bars, space, start="2023-04-20")
    run_sweep(request, recorder, tmp_path, share_tier1=False)
    one_run = ["compute_packages"] * 3 + ["backtest_batch"]
    assert recorder.submitted == one_run * 3


def test_sets_differing_in_tier2_keys_run_in_batches_with_each_sets_own_results(
    bars, client, tmp_path
):
    space = {
        "space": {
            "sizing.min_conviction": {"grid": [0.2, 0.25, 0.3, 0.35]},
            "exits.stop_loss_above": {"grid": [0.008, 0.012, 0.016, 0.02]},
            "sizing.leverage_mode": {"grid": ["smart", "fixed"]},
        }
    }
    result = run_sweep(request_for(bars, space, start="2023-03-01"), client, tmp_path)
    assert result.stats.tier2_runs == 33 and result.stats.tier2_tasks < 33
    # every set alone, without Dask or batches, gives the same figures
    config, env = load_config(), Environment.from_config(load_config())
    packages = generate_signals(result.plan.bars, config)
    for outcome in result.outcomes:
        alone = backtest_window(
            result.plan.configs[outcome.set_id], packages, env, outcome.start, outcome.end, False
        )
        same = json.dumps([outcome.metrics, outcome.daily], sort_keys=True)
        assert same == json.dumps([alone["metrics"], alone["daily"]], sort_keys=True)


def test_a_batch_shares_its_tapes_and_one_failing_set_fails_alone(bars):
    base = load_config()
    configs = [
        load_config(base, [f"sizing.min_conviction={value}", f"exits.stop_loss_above={stop}"])
        for value, stop in ((0.2, 0.008), (0.35, 0.012), (0.25, 0.02))
    ]
    env, packages = Environment.from_config(base), generate_signals(bars, base)
    args = (packages, env, "2023-03-01", str(LAST_DAY), True)
    batch = backtest_batch(fail_at_high_conviction, configs, *args)
    assert [b["status"] for b in batch] == ["ok", "failed", "ok"]
    assert batch[1]["error"] == "ValueError: injected failure"
    for config, payload in zip(configs, batch, strict=True):
        if payload["status"] == "ok":
            alone = backtest_window(config, *args)
            assert json.dumps(payload, sort_keys=True) == json.dumps(
                {"status": "ok", "error": None, **alone}, sort_keys=True
            )


def test_sweeps_scattering_the_same_bars_use_keys_of_their_own(bars, client):
    """A sweep scatters the same bars as the last one just as that one's copies are
    released: under one key (Dask's default, a hash of the data) the scheduler can forget
    them under the new futures (dask/distributed#8576), and a task then loses its inputs
    or waits for ever."""
    env = Environment.from_config(load_config())
    first, second = (SweepRunner(client, [], {}, [], None, bars, env, None) for _ in range(2))
    keys = [{f.key for f in runner._bar_futures().values()} for runner in (first, second)]
    keys += [{runner._environment().key} for runner in (first, second)]
    assert not keys[0] & keys[1] and not keys[2] & keys[3]


def test_the_local_clusters_workers_do_not_profile_themselves(client):
    import dask

    def profiling() -> bool:
        return dask.config.get("distributed.worker.profile.enabled")

    assert set(client.run(profiling).values()) == {False}


def test_the_local_clusters_workers_keep_quiet_only_about_heartbeats_cut_by_closing(client):
    def dropped() -> list[bool]:
        worker_log = logging.getLogger("distributed.worker")

        def kept(message: str, failure: Exception) -> bool:
            record = worker_log.makeRecord(
                worker_log.name, logging.ERROR, __file__, 1, message, (), (None, failure, None)
            )
            return worker_log.filter(record)

        closed, refused = CommClosedError("Stream is closed"), ConnectionRefusedError()
        return [kept(HEARTBEAT_FAILED, closed), kept(HEARTBEAT_FAILED, refused),
                kept("Compute Failed", closed)]  # fmt: skip

    assert list(client.run(dropped).values()) == [[False, True, True]] * 2


def test_a_set_whose_market_settings_do_nothing_is_noted(bars):
    # Pairing the two keys was refused outright, then silently let through.
    space = {"space": {"market.volume_fills": {"grid": [True, False]}}}
    request = SweepRequest(
        parse_space(space), bars, load_config(None, ["market.max_participation=0.1"])
    )
    assert plan_sweep(request).notes == [
        "market.max_participation = 0.1 does nothing with market.volume_fills = false: no "
        "fill is capped by volume (parameter set(s) 2)"
    ]


def test_a_swept_amount_of_money_is_a_number_in_the_table_the_base_set_included(
    bars, client, tmp_path
):
    space = {"space": {"portfolio.initial_capital": {"grid": [300_000, 2_000_000.5]}}}
    result = run_sweep(request_for(bars, space, start="2023-04-20"), client, tmp_path)
    column = result.table.set_index("set_id")["portfolio.initial_capital"]
    assert pd.api.types.is_float_dtype(column)
    assert column.to_dict() == {0: 1_000_000, 1: 300_000, 2: 2_000_000.5}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("portfolio.initial_capital", 1_000_000),
        ("portfolio.baskets.0.capital_fraction", 0.3),
        ("portfolio.baskets.1.instrument", "SHFE/cu"),
        ("exits.stop_losses.0", [2.0, 0.03]),
        ("portfolio.baskets.0.sizing.min_conviction", 0.2),
        ("generators.DCE/i.params.checks.volume_ratio", 1.2),
        ("portfolio.baskets.7.capital_fraction", None),
        ("sizing.no_such_key", None),
    ],
)
def test_a_base_value_is_read_as_the_table_holds_it(key, value):
    """Lists (tuples in the configuration) are indexed, money is a number."""
    assert config_value(load_config(), key) == value
