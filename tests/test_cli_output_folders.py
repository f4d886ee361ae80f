"""``--out`` never loses a user's files: twotier writes into a new or empty folder, or over
an earlier twotier folder of the same kind (its marker), ``--force`` replaces one of
another kind, and anything else is refused in one line with nothing changed. Hidden
temporary folders a killed run left behind are cleaned by the next run."""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import threading
from pathlib import Path

import pytest

from helpers.cli import invoke, one_line_error
from twotier.run.folder import BACKTEST, MARKER, OPTIMIZE, remove_stale, write_marker

END = "2023-01-13"  # two weeks of the sample: a run in about a second


def demo(out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    return invoke(["demo", "--end", END, "--quiet", "--out", out, *extra], capsys)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_holding_a_users_files_is_refused_and_left_as_it_was(tmp_path, capsys):
    keep = tmp_path / "keep"
    (keep / "sub").mkdir(parents=True)
    (keep / "notes.txt").write_text("n\n")
    code, _, err = demo(keep, capsys)
    assert code == 1
    line = one_line_error(err)
    assert f"--out {keep}: the folder holds files twotier did not write (notes.txt, sub)" in line
    assert snapshot(keep) == {"notes.txt": b"n\n"} and (keep / "sub").is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]  # nothing beside it either


def test_force_never_replaces_a_users_folder(tmp_path, capsys):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("n\n")
    code, _, err = demo(keep, capsys, "--force")
    assert code == 1 and "twotier did not write (notes.txt)" in one_line_error(err)
    assert snapshot(keep) == {"notes.txt": b"n\n"}


def test_a_file_at_out_is_refused_not_replaced(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("mine\n")
    code, _, err = demo(target, capsys)
    assert code == 1 and "a file is there, not a folder" in one_line_error(err)
    assert target.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # no .results.old


def test_out_below_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code, _, err = demo(tmp_path / "afile" / "run", capsys)
    assert code == 1 and f"{tmp_path / 'afile'} is a file, not a folder" in one_line_error(err)


def test_out_where_nothing_can_be_written_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:  # root writes anywhere a permission allows: use a place none does
        target = Path("/proc/twotier-test/run")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        target = locked / "run"
    code, _, err = demo(target, capsys)
    assert code == 1
    line = one_line_error(err)
    assert f"--out {target}" in line and ("cannot" in line or "permission" in line)


def test_an_earlier_run_folder_is_replaced_and_a_users_file_inside_it_protects_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert demo(out, capsys)[0] == 0
    assert json.loads((out / MARKER).read_text()) == {"twotier": "backtest", "format": 1}
    (out / "trades.csv").write_text("stale\n")
    assert demo(out, capsys)[0] == 0  # the same kind: replaced, no --force needed
    assert (out / "trades.csv").read_text().startswith("trade_id,")
    (out / "my-notes.md").write_text("keep me\n")
    code, _, err = demo(out, capsys, "--force")
    assert code == 1 and "holding files twotier did not write (my-notes.md)" in err
    assert (out / "my-notes.md").read_text() == "keep me\n"


def test_a_run_folder_of_an_earlier_version_without_marker_is_recognised(tmp_path, capsys):
    out = tmp_path / "run"
    assert demo(out, capsys)[0] == 0
    (out / MARKER).unlink()
    assert demo(out, capsys)[0] == 0
    assert (out / MARKER).is_file()


def test_another_kind_of_twotier_folder_needs_force(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    write_marker(out, OPTIMIZE)
    (out / "summary.json").write_text("{}")
    code, _, err = demo(out, capsys)
    line = one_line_error(err)
    assert code == 1
    assert "a twotier optimize sweep folder, not a backtest run folder" in line
    assert "--force to replace it" in line and (out / "summary.json").exists()
    assert demo(out, capsys, "--force")[0] == 0
    assert json.loads((out / MARKER).read_text())["twotier"] == BACKTEST.name


def test_stale_temporary_folders_of_the_target_are_removed_never_a_live_one(tmp_path, capsys):
    out = tmp_path / "run"
    stale = tmp_path / ".run.abcd1234"
    stale.mkdir()
    write_marker(stale, BACKTEST)
    (stale / "equity.csv").write_text("half written")
    empty = tmp_path / ".run.old"
    empty.mkdir()
    live = tmp_path / ".run.live5678"
    live.mkdir()
    write_marker(live, BACKTEST)
    other = tmp_path / ".run.usr12345"  # not ours: no marker, not empty
    other.mkdir()
    (other / "mine.txt").write_text("x")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a process still building it
    try:
        assert demo(out, capsys)[0] == 0
    finally:
        os.close(fd)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".run.live5678", ".run.usr12345", "run"]
    assert remove_stale(out) == [live]  # once its holder is gone


def test_signals_and_optimize_refuse_a_file_at_out(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("x")
    code, _, err = invoke(["signals", "--bars", "DCE/i=x.csv", "--out", target], capsys)
    assert code == 1 and "a file is there, not a folder" in one_line_error(err)
    space = tmp_path / "space.toml"
    space.write_text('[space]\n"exits.stop_loss_above" = [0.01, 0.02]\n')
    code, _, err = invoke(["optimize", "--space", space, "--sample", "--out", target], capsys)
    assert code == 1 and "a file is there, not a folder" in one_line_error(err)
    assert target.read_text() == "x"


def test_signals_writes_a_marked_folder_and_refuses_a_backtest_run_folder(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert demo(Path("run"), capsys)[0] == 0
    before = snapshot(tmp_path / "run")
    bars = str(tmp_path / "run" / "signals" / "DCE_i.parquet")  # any file: refused first
    code, _, err = invoke(["signals", "--bars", f"DCE/i={bars}", "--out", "run"], capsys)
    assert code == 1
    assert "a twotier backtest run folder, not a signals folder" in one_line_error(err)
    assert snapshot(tmp_path / "run") == before


def test_compare_writes_its_page_again_but_never_over_a_users_file(tmp_path, capsys):
    for name in ("a", "b"):
        assert demo(tmp_path / name, capsys)[0] == 0
    page = tmp_path / "compare.html"
    args = ["compare", tmp_path / "a", tmp_path / "b", "--out", page]
    for _ in range(2):  # a new file, then the page written before
        code, out, err = invoke([*args, "--json"], capsys)
        assert code == 0, err
    assert set(json.loads(out)["warnings"]) == {str(tmp_path / "a"), str(tmp_path / "b")}
    mine = tmp_path / "mine.html"
    mine.write_text("<html>my notes</html>")
    code, _, err = invoke([*args[:-1], mine], capsys)
    assert code == 1 and "a file twotier did not write is there" in one_line_error(err)
    assert mine.read_text() == "<html>my notes</html>"
    pipe = tmp_path / "pipe.html"  # it read the pipe to look for its title, and hung
    os.mkfifo(pipe)
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(r=invoke([*args[:-1], pipe], capsys)))
    worker.daemon = True  # a regression hangs this thread, not the test session
    worker.start()
    worker.join(60)
    assert "r" in done, "compare --out a pipe hung reading it"
    code, _, err = done["r"]
    assert code == 1 and "not a regular file (a device or a pipe)" in one_line_error(err)
    (tmp_path / "link.html").symlink_to(page)
    code, _, err = invoke([*args[:-1], tmp_path / "link.html"], capsys)
    assert code == 1 and "a symbolic link; give the file itself" in one_line_error(err)


def test_a_run_failing_in_its_report_leaves_the_earlier_run_folder_whole(
    tmp_path, capsys, monkeypatch
):
    # The report is written before the folder is swapped in: a failure there (here a
    # made-up one) keeps the earlier run as it was, not data files of the new run
    # without their report and metrics.
    out = tmp_path / "run"
    assert demo(out, capsys)[0] == 0
    before = snapshot(out)
    import twotier.report.run_report as run_report

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "report.html")

    monkeypatch.setattr(run_report, "write_report", broken)
    code, _, err = invoke(["demo", "--end", "2023-01-20", "--quiet", "--out", out], capsys)
    assert code == 1 and "No space left on device" in err
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def can_exchange(a: Path, b: Path) -> bool:
    """Whether the system exchanges two paths in one step (Linux's renameat2)."""
    a.mkdir(), b.mkdir()
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    return renameat2 is not None and renameat2(-100, bytes(a), -100, bytes(b), 2) == 0


def test_replacing_a_run_folder_never_leaves_its_path_missing(tmp_path, capsys, monkeypatch):
    # The new folder and the earlier one trade places in one step: a kill between two
    # renames (here the first rename of the earlier folder raising) lost the earlier
    # run, its name empty and the run hidden in a temporary folder the next run removed.
    if not can_exchange(tmp_path / "probe_a", tmp_path / "probe_b"):
        pytest.skip("this system cannot exchange two paths in one step")
    out = tmp_path / "run"
    assert demo(out, capsys)[0] == 0

    def killed(self, target):
        raise KeyboardInterrupt  # as a signal arriving between the two steps

    monkeypatch.setattr(Path, "rename", killed)
    assert demo(out, capsys, "--end", "2023-01-20")[0] == 0
    monkeypatch.undo()
    assert (out / "equity.csv").read_text().splitlines()[-1].startswith("2023-01-20")
