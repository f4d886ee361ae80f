"""Auction bars and closing ticks (RULES.md 11): with ``data.auction = "merge"`` (the
default) a vendor's opening call auction bar is folded into its session's first bar and a
one-tick bar stamped at a session's end into its last bar; ``refuse`` keeps them bad."""

from __future__ import annotations

import pandas as pd
import pytest

from twotier.errors import BadBarsError
from twotier.market.bars import read_bars
from twotier.market.resample import resample

HEADER = "datetime,open,high,low,close,volume,open_interest"


def shanghai(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


def minute_rows(start: str, count: int, price: float = 800.0) -> list[str]:
    """``count`` one-minute iron ore bars from ``start`` (stamped by start)."""
    stamps = pd.date_range(start, periods=count, freq="1min")
    rows = []
    for k, t in enumerate(stamps):
        p = price + k
        rows.append(f"{t:%Y-%m-%d %H:%M:%S},{p},{p + 1},{p - 1},{p + 0.5},10,500")
    return rows


def test_day_auction_at_0859_is_folded_into_the_first_bar(write_csv):
    auction = "2024-03-05 08:59:00,795,806,794,796,40,480"
    path = write_csv([HEADER, auction, *minute_rows("2024-03-05 09:00", 3)])
    loaded = read_bars(path, "DCE/i")
    first = loaded.frame.iloc[0]
    assert loaded.frame.index[0] == shanghai("2024-03-05 09:00")
    assert (first["open"], first["high"], first["low"], first["close"]) == (795, 806, 794, 800.5)
    assert (first["volume"], first["open_interest"]) == (50, 500)
    assert len(loaded.frame) == 3
    assert [(m.line, m.problem) for m in loaded.merged] == [
        (2, "auction bar 2024-03-05 08:59:00 merged into line 3")
    ]
    assert loaded.dropped == []


def test_night_auction_at_2059_is_folded_into_the_first_night_bar(write_csv):
    auction = "2024-03-05 20:59:00,799.5,799.5,799.5,799.5,7,480"
    loaded = read_bars(write_csv([HEADER, auction, *minute_rows("2024-03-05 21:00", 2)]), "DCE/i")
    first = loaded.frame.iloc[0]
    assert (first["open"], first["low"], first["volume"]) == (799.5, 799, 17)
    assert (loaded.frame["trading_day"] == pd.Timestamp("2024-03-06")).all()


def test_an_auction_stamped_with_seconds_is_folded_too(write_csv):
    auction = "2024-03-05 08:59:30,790,790,790,790,5,480"
    loaded = read_bars(write_csv([HEADER, auction, *minute_rows("2024-03-05 09:00", 2)]), "DCE/i")
    assert loaded.frame["open"].iloc[0] == 790 and len(loaded.frame) == 2


def test_an_auction_stamped_at_the_open_by_its_end_is_folded(write_csv):
    # Stamped by bar end, the auction is the "bar" ending at 09:00.
    rows = minute_rows("2024-03-05 09:01", 2)
    auction = "2024-03-05 09:00:00,790,790,790,790,5,480"
    loaded = read_bars(write_csv([HEADER, auction, *rows]), "DCE/i", label="end")
    assert loaded.frame.index[0] == shanghai("2024-03-05 09:00")
    assert (loaded.frame["open"].iloc[0], loaded.frame["volume"].iloc[0]) == (790, 15)


def test_two_auction_bars_keep_the_earliest_open(write_csv):
    rows = [
        "2024-03-05 08:59:00,790,790,790,790,5,480",
        "2024-03-05 08:59:30,792,792,792,792,5,480",
        *minute_rows("2024-03-05 09:00", 2),
    ]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i")
    assert (loaded.frame["open"].iloc[0], loaded.frame["volume"].iloc[0]) == (790, 20)


def test_an_auction_of_a_five_minute_file_stamped_at_the_open_by_its_end(write_csv):
    rows = [
        "2024-03-05 09:00:00,790,790,790,790,5,480",
        "2024-03-05 09:05:00,800,801,799,800.5,10,500",
        "2024-03-05 09:10:00,800.5,802,800,801,12,500",
    ]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i", label="end")
    assert loaded.bar_minutes == 5
    assert (loaded.frame["open"].iloc[0], loaded.frame["volume"].iloc[0]) == (790, 15)


def test_refuse_keeps_an_auction_bar_a_bad_bar_outside_the_sessions(write_csv):
    auction = "2024-03-05 08:59:00,795,806,794,796,40,480"
    path = write_csv([HEADER, auction, *minute_rows("2024-03-05 09:00", 3)])
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/i", auction="refuse")
    assert [p.line for p in info.value.problems] == [2]
    assert "is outside the sessions of DCE/i" in info.value.problems[0].problem
    dropped = read_bars(path, "DCE/i", auction="refuse", on_bad_bar="drop")
    assert dropped.frame["open"].iloc[0] == 800  # the auction's price is lost


def test_an_auction_with_no_bar_of_its_session_after_it_is_a_bad_bar(write_csv):
    rows = [*minute_rows("2024-03-05 14:57", 3), "2024-03-05 20:59:00,790,790,790,790,5,480"]
    with pytest.raises(BadBarsError) as info:
        read_bars(write_csv([HEADER, *rows]), "DCE/i")
    assert [(p.line, p.problem) for p in info.value.problems] == [
        (5, "auction bar 2024-03-05 20:59:00 with no bar of the session it opens after it")
    ]


def test_the_auction_is_not_folded_into_a_bar_of_another_day(write_csv):
    rows = ["2024-03-05 08:59:00,790,790,790,790,5,480", *minute_rows("2024-03-06 09:00", 2)]
    with pytest.raises(BadBarsError, match="auction bar 2024-03-05 08:59:00 with no bar"):
        read_bars(write_csv([HEADER, *rows]), "DCE/i")


def test_a_closing_tick_at_1500_is_folded_into_the_last_bar(write_csv):
    tick = "2024-03-05 15:00:00,803.5,803.5,803.5,803.5,2,510"
    loaded = read_bars(write_csv([HEADER, *minute_rows("2024-03-05 14:57", 3), tick]), "DCE/i")
    last = loaded.frame.iloc[-1]
    assert loaded.frame.index[-1] == shanghai("2024-03-05 14:59")
    assert (last["open"], last["high"], last["close"]) == (802, 803.5, 803.5)
    assert (last["volume"], last["open_interest"]) == (12, 510)
    assert [m.problem for m in loaded.merged] == [
        "closing tick 2024-03-05 15:00:00 merged into line 4"
    ]


def test_a_closing_tick_after_midnight_folds_into_coppers_last_night_bar(write_csv):
    rows = [
        "2024-03-06 00:58:00,70000,70010,69990,70000,3,900",
        "2024-03-06 00:59:00,70000,70010,69990,70000,3,900",
        "2024-03-06 01:00:00,70020,70020,70020,70020,1,901",
    ]
    loaded = read_bars(write_csv([HEADER, *rows]), "SHFE/cu")
    assert (loaded.frame["close"].iloc[-1], loaded.frame["high"].iloc[-1]) == (70020, 70020)
    assert len(loaded.frame) == 2


def test_a_bar_of_several_prices_at_the_end_is_not_a_tick(write_csv):
    # A session-end bar with a range is what a file stamped by bar end looks like read
    # as starts: refused, with the label hint.
    closing = "2024-03-05 15:00:00,803,804,802,803.5,2,510"
    with pytest.raises(BadBarsError, match="outside the sessions"):
        read_bars(write_csv([HEADER, *minute_rows("2024-03-05 14:57", 3), closing]), "DCE/i")


def test_merged_bars_resample_like_the_sessions_bars(write_csv):
    rows = [
        "2024-03-05 08:59:00,790,790,790,790,5,480",
        *minute_rows("2024-03-05 09:00", 15),
    ]
    loaded = read_bars(write_csv([HEADER, *rows]), "DCE/i")
    bars = resample(loaded.frame, loaded.instrument, 1)
    assert len(bars) == 1
    assert (bars["open"].iloc[0], bars["volume"].iloc[0]) == (790, 155)


def test_an_auction_folds_into_a_file_with_a_word_among_its_volumes(write_csv):
    # A column with a word in it is read as text, then as numbers the fold adds to.
    rows = minute_rows("2024-03-05 09:00", 3)
    rows[1] = rows[1].replace(",10,500", ",ten,500")
    path = write_csv([HEADER, "2024-03-05 08:59:00,795,806,794,796,40,480", *rows])
    loaded = read_bars(path, "DCE/i", on_bad_bar="drop")
    assert loaded.frame["volume"].tolist() == [50, 10]
    assert [p.line for p in loaded.dropped] == [4]


def test_an_auction_of_another_contract_than_the_session_it_opens_is_a_bad_bar(write_csv):
    # A roll at the night open: the 20:59 auction still says i2411, the 21:00 bar i2501.
    # The night belongs to the next trading day, so folding it would change the contract
    # inside a trading day (RULES.md 10.6 item 17) and give i2501 i2411's open.
    header = "datetime,open,high,low,close,volume,symbol"
    day = [f"{r.rsplit(',', 1)[0]},i2411" for r in minute_rows("2024-03-05 14:58", 2, 810.0)]
    auction = "2024-03-05 20:59:00,830,830,830,830,10,i2411"
    night = [f"{r.rsplit(',', 1)[0]},i2501" for r in minute_rows("2024-03-05 21:00", 2)]
    path = write_csv([header, *day, auction, *night])
    with pytest.raises(BadBarsError) as info:
        read_bars(path, "DCE/i", contract_column="symbol")
    (problem,) = info.value.problems
    assert (problem.line, problem.problem) == (
        4,
        "auction bar 2024-03-05 20:59:00 is of contract i2411, the bar 2024-03-05 21:00:00 "
        "it belongs to of i2501: a contract changes only between trading days",
    )
    dropped = read_bars(path, "DCE/i", contract_column="symbol", on_bad_bar="drop")
    assert dropped.frame["open"].iloc[2] == 800.0 and dropped.merged == []


def test_a_backtest_says_which_auction_bars_it_folded_in(write_csv, tmp_path, capsys):
    # `data check` said so; a backtest folded them without a word. It notes one line per
    # file and keeps the counts in summary.json.
    import json

    from helpers.cli import invoke

    auction = "2024-03-05 08:59:00,795,806,794,796,40,480"
    path = write_csv([HEADER, auction, *minute_rows("2024-03-05 09:00", 45)])
    code, _, err = invoke(["backtest", "--bars", f"DCE/i={path}", "--out", tmp_path / "run",
                           "--quiet"], capsys)  # fmt: skip
    assert code == 0
    assert (
        f"note: DCE/i {path}: 1 auction bar(s) and 0 closing tick(s) folded into their "
        "sessions' bars (data.auction = merge), the first at line 2"
    ) in " ".join(err.split())
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["merged_bars"] == {
        "DCE/i": {"file": str(path), "auction_bars": 1, "closing_ticks": 0, "first_line": 2}
    }


def test_a_closing_tick_carrying_the_days_settle_keeps_it(write_csv):
    # The vendor's 15:00:00 tick gives the settlement; folded in, it was dropped, and the
    # day settled at the price the bars give. The latest value given stands, as when bars
    # are resampled; an auction bar's limit stands where the bar it joins has none.
    header = HEADER + ",settle,limit_up"
    rows = [f"{r},,860" for r in minute_rows("2024-03-05 14:57", 3)]
    auction = "2024-03-05 08:59:00,795,806,794,796,40,480,,855"
    first = [f"{r},," for r in minute_rows("2024-03-05 09:00", 2)]
    tick = "2024-03-05 15:00:00,803.5,803.5,803.5,803.5,2,510,801.5,"
    loaded = read_bars(write_csv([header, auction, *first, *rows, tick]), "DCE/i")
    assert (loaded.frame.iloc[-1]["settle"], loaded.frame.iloc[-1]["limit_up"]) == (801.5, 860)
    assert loaded.frame.iloc[0]["limit_up"] == 855


def test_edges_are_those_of_the_bars_own_session_hours(write_csv, tmp_path):
    """An instrument whose hours changed has session edges only in its own years: DCE's
    night ran to 23:30 before 2019-03-29, so a quiet (one-price) minute from 23:00 is a
    bar of that night, not a closing tick of today's 23:00 end; CFFEX opened at 09:15
    until 2015, so a bar stamped 09:30 by its end was no auction bar then."""
    night = minute_rows("2019-02-28 21:00", 150, price=600.0)
    night[120] = "2019-02-28 23:00:00,650,650,650,650,10,500"  # one price, mid-session
    path = write_csv([HEADER, *night, *minute_rows("2019-03-01 09:00", 75, price=600.0)])
    loaded = read_bars(path, "DCE/i")
    assert loaded.merged == [] and len(loaded.frame) == 225
    assert shanghai("2019-02-28 23:00") in loaded.frame.index

    from twotier.market.instruments import InstrumentRegistry

    spec_file = tmp_path / "if.toml"
    spec_file.write_text(
        '[instruments."CFFEX/IF"]\nmarket = "CFFEX"\nproduct = "IF"\nmultiplier = 300\n'
        "tick = 0.2\nmargin_rate = 0.12\n"
        'fee = { basis = "turnover", open = 0.000023, close = 0.000023, close_today = 0.00023 }\n'
        'day_sessions = [["09:30", "11:30"], ["13:00", "15:00"]]\nsessions_from = 2016-01-01\n'
        'earlier_sessions = [{ day_sessions = [["09:15", "11:30"], ["13:00", "15:15"]] }]\n',
        encoding="utf-8",
    )
    spec = InstrumentRegistry.load(spec_file)["CFFEX/IF"]
    stamps = pd.date_range("2015-12-31 09:20", periods=5, freq="5min")  # 09:20 ... 09:40
    rows = [f"{t:%Y-%m-%d %H:%M:%S},3600,3601,3599,3600,10,500" for t in stamps]
    loaded = read_bars(write_csv([HEADER, *rows]), spec, label="end")
    assert loaded.merged == [] and len(loaded.frame) == 5
