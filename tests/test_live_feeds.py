"""Feeds: growing CSV files in a folder and JSON lines on a pipe; partial lines, late
files, bars out of order, bad bars."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twotier.errors import BadBarsError, DataError
from twotier.live.aggregate import Aggregator, OutOfOrderError
from twotier.live.bars import BarReader
from twotier.live.feeds import FolderFeed, JsonLinesFeed
from twotier.market.calendar import default_calendar
from twotier.market.instruments import default_registry

HEADER = "time,open,high,low,close,volume\n"


def line(time: str, price: float = 800.0) -> str:
    return f"{time},{price},{price + 1},{price - 1},{price},100\n"


def reader(warnings: list[str] | None = None, policy: str = "refuse") -> BarReader:
    sink = warnings if warnings is not None else []
    return BarReader(
        default_registry(),
        default_calendar(),
        label="start",
        bar_minutes=15,
        policy=policy,
        warn=sink.append,
    )


def folder_feed(folder: Path, *instruments: str, warn=lambda message: None) -> FolderFeed:
    traded = list(instruments or ["DCE/i"])
    return FolderFeed(folder, traded, reader(), sleep=lambda _: None, warn=warn)


def times(bars) -> list[str]:
    return [f"{b.time:%m-%d %H:%M}" for b in bars]


def test_a_partial_line_waits_for_its_newline(tmp_path):
    path = tmp_path / "DCE_i.csv"
    path.write_text(HEADER + line("2024-10-08 09:00:00") + "2024-10-08 09:15:00,80")
    feed = folder_feed(tmp_path)
    assert times(feed.poll(0).bars) == ["10-08 09:00"]
    assert feed.poll(0).bars == []
    with path.open("a") as f:
        f.write("0.0,801.0,799.0,800.0,100")  # the line is whole, but has no newline yet
    assert feed.poll(0).bars == []
    with path.open("a") as f:
        f.write("\n")
    bars = feed.poll(0).bars
    assert times(bars) == ["10-08 09:15"] and bars[0].line == 3 and bars[0].open == 800.0


def test_a_file_starting_with_a_byte_order_mark_is_read_as_the_batch_loader_reads_it(
    tmp_path,
):
    # Spreadsheet exports write one; its header's first name was "\ufefftime".
    text = "\ufeff" + HEADER + line("2024-10-08 09:00:00") + line("2024-10-08 09:15:00")
    (tmp_path / "DCE_i.csv").write_text(text, encoding="utf-8")
    assert times(folder_feed(tmp_path).poll(0).bars) == ["10-08 09:00", "10-08 09:15"]


def test_a_byte_order_mark_inside_a_file_is_not_text_of_a_bar(tmp_path):
    lines = HEADER + "\ufeff" + line("2024-10-08 09:00:00")
    (tmp_path / "DCE_i.csv").write_text(lines, encoding="utf-8")
    with pytest.raises(BadBarsError):
        folder_feed(tmp_path).poll(0)


def test_files_that_appear_later_are_picked_up_and_others_ignored(tmp_path):
    (tmp_path / "DCE_i-20241008.csv").write_text(HEADER + line("2024-10-08 09:00:00"))
    (tmp_path / "DCE_m.csv").write_text(HEADER + line("2024-10-08 09:00:00"))  # not traded
    (tmp_path / "notes.txt").write_text("not bars\n")
    warnings: list[str] = []
    feed = folder_feed(tmp_path, warn=warnings.append)
    assert times(feed.poll(0).bars) == ["10-08 09:00"]
    later = tmp_path / "DCE_i-20241009.csv"
    later.write_text(HEADER + line("2024-10-09 09:00:00"))
    bars = feed.poll(0).bars
    assert times(bars) == ["10-09 09:00"] and bars[0].source == str(later)
    (tmp_path / "DCE_m-20241009.csv").write_text(HEADER + line("2024-10-09 09:00:00"))
    assert feed.poll(0).bars == []
    # Said once, for the first such file, not at every look at the folder (nor for each
    # new file of a shared folder); only CSV files are bars.
    assert warnings == [
        f"{tmp_path / 'DCE_m.csv'}: not named after an instrument this run trades (DCE/i); "
        "ignored, as other such files will be"
    ]


def test_a_real_vendor_file_name_belongs_to_its_instrument(tmp_path):
    (tmp_path / "DCE.i.HOT.m5.csv").write_text(HEADER + line("2024-10-08 09:00:00"))
    (tmp_path / "DCE.ic.csv").write_text(HEADER + line("2024-10-08 09:00:00"))
    assert len(folder_feed(tmp_path).poll(0).bars) == 1


def test_an_instruments_files_are_taken_in_time_order_whatever_their_names(tmp_path):
    # A restart reads both at once: DCE_i-20241009.csv sorts before DCE_i.csv, and its
    # bars came first and made the older file's out of order (a state never resumed).
    (tmp_path / "DCE_i.csv").write_text(HEADER + line("2024-10-08 09:00:00"))
    (tmp_path / "DCE_i-20241009.csv").write_text(HEADER + line("2024-10-09 09:00:00"))
    bars = folder_feed(tmp_path).poll(0).bars
    assert times(bars) == ["10-08 09:00", "10-09 09:00"]
    aggregator = Aggregator(default_registry()["DCE/i"], 15)
    assert times(aggregator.add(bars)) == ["10-08 09:00", "10-09 09:00"]


def test_a_bar_out_of_order_is_refused_naming_its_file_and_line(tmp_path):
    path = tmp_path / "DCE_i.csv"
    path.write_text(HEADER + line("2024-10-08 09:15:00"))
    feed = folder_feed(tmp_path)
    aggregator = Aggregator(default_registry()["DCE/i"], 15)
    aggregator.add(feed.poll(0).bars)
    with path.open("a") as f:
        f.write(line("2024-10-08 09:00:00"))
    with pytest.raises(OutOfOrderError) as caught:
        aggregator.add(feed.poll(0).bars)
    message = str(caught.value)
    assert f"{path}, line 3" in message
    assert "2024-10-08 09:00 (start) of DCE/i is out of order" in message
    assert f"10-08 09:15 (start) ({path}, line 2)" in message


def test_a_bar_out_of_order_within_one_read_is_refused_by_the_loaders_checks(tmp_path):
    (tmp_path / "DCE_i.csv").write_text(
        HEADER + line("2024-10-08 09:15:00") + line("2024-10-08 09:00:00")
    )
    with pytest.raises(BadBarsError, match="line 3: time 2024-10-08 09:00:00 goes backwards"):
        folder_feed(tmp_path).poll(0)


def test_a_bar_outside_the_sessions_is_refused_with_its_line(tmp_path):
    (tmp_path / "DCE_i.csv").write_text(HEADER + line("2024-10-08 12:00:00"))
    with pytest.raises(BadBarsError, match=r"line 2: bar 2024-10-08 12:00:00 .* outside"):
        folder_feed(tmp_path).poll(0)


def test_a_bad_bar_is_dropped_and_reported_under_the_drop_policy(tmp_path):
    (tmp_path / "DCE_i.csv").write_text(
        HEADER + line("2024-10-08 09:00:00") + "2024-10-08 09:15:00,x,1,1,1,1\n"
    )
    warnings: list[str] = []
    feed = FolderFeed(tmp_path, ["DCE/i"], reader(warnings, "drop"))
    assert times(feed.poll(0).bars) == ["10-08 09:00"]
    assert any("dropped line 3: unparsable value 'x'" in w for w in warnings)


def test_under_drop_a_read_of_bad_lines_only_is_dropped_and_the_feed_goes_on(tmp_path):
    # One bad line arriving alone stopped the run ("no valid bars: all 1 lines are bad").
    path = tmp_path / "DCE_i.csv"
    path.write_text(HEADER + line("2024-10-08 09:00:00"))
    warnings: list[str] = []
    feed = FolderFeed(tmp_path, ["DCE/i"], reader(warnings, "drop"))
    assert times(feed.poll(0).bars) == ["10-08 09:00"]
    with path.open("a") as f:
        f.write(line("2024-10-08 12:00:00"))  # outside the sessions
    assert feed.poll(0).bars == []
    with path.open("a") as f:
        f.write(line("2024-10-08 09:15:00"))
    assert times(feed.poll(0).bars) == ["10-08 09:15"]
    assert len(warnings) == 1 and "dropped line 3: bar 2024-10-08 12:00:00" in warnings[0]


@pytest.mark.parametrize("policy", ["refuse", "drop"])
def test_a_short_line_is_a_bad_bar_as_in_a_file_and_a_long_one_an_error(tmp_path, policy):
    # A short line was an error whatever the policy; the file loader reads its missing
    # cells as empty, a bad bar that drop drops (a backtest did, paper stopped).
    path = tmp_path / "DCE_i.csv"
    path.write_text(HEADER + line("2024-10-08 09:00:00") + "2024-10-08 09:15:00,1,2\n")
    warnings: list[str] = []
    feed = FolderFeed(tmp_path, ["DCE/i"], reader(warnings, policy))
    if policy == "refuse":
        with pytest.raises(BadBarsError, match="line 3: empty value in column 'low'"):
            feed.poll(0)
        return
    assert times(feed.poll(0).bars) == ["10-08 09:00"]
    assert any("dropped line 3: empty value in column 'low'" in w for w in warnings)
    with path.open("a") as f:
        f.write("2024-10-08 09:30:00,1,2,1,1,1,7\n")
    with pytest.raises(DataError, match="line 4: 7 fields where the header has 6"):
        feed.poll(0)


def pipe(text: bytes) -> int:
    read, write = os.pipe()
    os.write(write, text)
    os.close(write)
    return read


def test_json_lines_end_with_the_input_and_an_unfinished_last_line_is_ignored():
    lines = b"".join(
        b'{"instrument": "DCE/i", "time": "2024-10-08 09:%02d:00", "open": 800, "high": 801, '
        b'"low": 799, "close": 800.5, "volume": 10}\n' % m
        for m in (0, 15)
    )
    warnings: list[str] = []
    fd = pipe(lines + b'{"instrument": "DCE/i", "time": "2024-10-08 09:30:00"')
    feed = JsonLinesFeed(fd, ["DCE/i"], reader(), warn=warnings.append)
    batch = feed.poll(1.0)
    os.close(fd)
    assert batch.ended and times(batch.bars) == ["10-08 09:00", "10-08 09:15"]
    assert batch.bars[1].close == 800.5 and batch.bars[1].line == 2
    assert any("line (3): it has no newline" in w for w in warnings)


def test_json_lines_starting_with_a_byte_order_mark_are_read():
    fd = pipe(
        b'\xef\xbb\xbf{"instrument": "DCE/i", "time": "2024-10-08 09:00:00", "open": 800, '
        b'"high": 801, "low": 799, "close": 800.5, "volume": 10}\n'
    )
    batch = JsonLinesFeed(fd, ["DCE/i"], reader(), warn=lambda _: None).poll(1.0)
    os.close(fd)
    assert times(batch.bars) == ["10-08 09:00"]


def test_json_lines_refuse_a_line_that_is_not_json_naming_the_line():
    fd = pipe(b'{"instrument": "DCE/i", "time": "2024-10-08 09:00:00"}\nnot json\n')
    feed = JsonLinesFeed(fd, ["DCE/i"], reader(), warn=lambda _: None)
    with pytest.raises(DataError, match=r"^<stdin>, line 2: not valid JSON"):
        feed.poll(1.0)
    os.close(fd)
