"""Trade statistics: a position counts once (its derisk rows added up), open rows are left
out, and the exit-reason breakdown counts exits."""

from __future__ import annotations

import pandas as pd
import pytest

from twotier.analysis.trades import exit_reasons, longest_streak, positions, trade_stats

T0 = pd.Timestamp("2024-03-01 09:00", tz="Asia/Shanghai")


def trades(rows: list[tuple]) -> pd.DataFrame:
    """(trade_id, exit hour, reason, net P&L, effective leverage) -> trades.csv-like rows."""
    return pd.DataFrame(
        [
            {
                "trade_id": tid,
                "basket": 0,
                "instrument": "DCE/i",
                "side": "LONG",
                "tier": "WEAK",
                "contracts": 1,
                "entry_time": T0,
                "exit_price": 1.0,
                "exit_time": T0 + pd.Timedelta(hours=hour),
                "reason": reason,
                "gross_pnl": pnl + 10,
                "fees": 10.0,
                "net_pnl": pnl,
                "effective_leverage": lev,
            }
            for tid, hour, reason, pnl, lev in rows
        ]
    )


BOOK = trades(
    [
        (1, 1, "stop_loss_2pct", -100.0, 2.0),
        (2, 2, "daily_loss_derisk", -50.0, 4.0),  # cut of position 2 ...
        (2, 3, "profit_target_8pct", 80.0, 4.0),  # ... whose rest wins: +30 in all
        (3, 4, "low_confidence", 200.0, 3.0),
        (4, 5, "low_confidence", -20.0, 5.0),
        (5, 9, "open", 999.0, 9.0),  # still open at the end
    ]
)


def test_a_derisked_position_counts_once_with_its_rows_added_up():
    done = positions(BOOK)
    assert done["trade_id"].tolist() == [1, 2, 3, 4]
    two = done.set_index("trade_id").loc[2]
    assert (two["net_pnl"], two["reason"], two["exits"]) == (30.0, "profit_target_8pct", 2)


def test_trade_statistics_by_hand():
    s = trade_stats(BOOK)
    assert (s["trades"], s["wins"], s["losses"]) == (4, 2, 2)
    assert s["win_rate"] == 0.5
    assert s["profit_factor"] == pytest.approx(230 / 120)
    assert s["average_win"] == pytest.approx(115.0)
    assert s["average_loss"] == pytest.approx(-60.0)
    assert s["expectancy"] == pytest.approx(110 / 4)
    assert (s["largest_win"], s["largest_loss"]) == (200.0, -100.0)
    assert s["net_pnl"] == pytest.approx(110.0)
    assert s["open_positions"] == 1


def test_leverage_statistics_cover_every_position_entered_once():
    s = trade_stats(BOOK)
    assert s["average_effective_leverage"] == pytest.approx((2 + 4 + 3 + 5 + 9) / 5)
    assert s["max_effective_leverage"] == 9.0


def test_streaks_follow_the_order_of_the_exits():
    s = trade_stats(BOOK)  # by exit: loss, win, win, loss
    assert (s["longest_winning_streak"], s["longest_losing_streak"]) == (2, 1)
    assert longest_streak([True, True, False, True, True, True, False]) == 3
    assert longest_streak([]) == 0


def test_no_losing_trade_leaves_the_profit_factor_undefined():
    s = trade_stats(trades([(1, 1, "low_confidence", 5.0, 2.0)]))
    assert s["profit_factor"] is None and s["win_rate"] == 1.0


def test_no_closed_trade_gives_empty_statistics():
    s = trade_stats(trades([(1, 1, "open", 5.0, 2.0)]))
    assert (s["trades"], s["win_rate"], s["expectancy"]) == (0, None, None)


def test_exit_reasons_count_exits_most_frequent_first():
    rows = {r["reason"]: r for r in exit_reasons(BOOK)}
    assert list(rows) == [
        "low_confidence",
        "daily_loss_derisk",
        "profit_target_8pct",
        "stop_loss_2pct",
    ]
    assert rows["low_confidence"] == {
        "reason": "low_confidence",
        "count": 2,
        "win_rate": 0.5,
        "net_pnl": 180.0,
        "average_pnl": 90.0,
    }
    assert "open" not in rows


def test_win_rate_agrees_with_the_run_summary(shared):
    result = shared.result
    assert trade_stats(result.trades)["win_rate"] == pytest.approx(result.summary["win_rate"])
    assert trade_stats(result.trades)["trades"] == result.summary["trades"]


@pytest.fixture(scope="module")
def shared():
    from test_report_run import shared_run

    return shared_run()


def test_a_position_cut_whose_rest_is_still_open_is_not_a_closed_trade():
    # Position 6: a derisk cut (+70) and the rest open at the end. The cut is an exit
    # (exit reasons count it) but the position is not a closed trade: the summary and
    # the metrics count the four positions of BOOK closed whole, as `holding` does.
    from twotier.config import load_config
    from twotier.run.result import summarize

    book = pd.concat(
        [BOOK, trades([(6, 6, "daily_loss_derisk", 70.0, 2.0), (6, 10, "open", 5.0, 2.0)])],
        ignore_index=True,
    )
    stats = trade_stats(book)
    assert (stats["trades"], stats["wins"], stats["win_rate"]) == (4, 2, 0.5)
    assert list(positions(book)["trade_id"]) == [1, 2, 3, 4]
    assert any(r["reason"] == "daily_loss_derisk" and r["count"] == 2 for r in exit_reasons(book))
    fills = pd.DataFrame({"fee": [1.0], "basket": [0]})
    equity = pd.DataFrame({"pv": [1.0], "drawdown": [0.0], "time": [T0], "equity_0": [1.0]})
    one = load_config(overrides=['portfolio.baskets=[{instrument="DCE/i", capital_fraction=1}]'])
    summary = summarize(one, ["DCE/i"], book, fills, equity)
    assert (summary["trades"], summary["win_rate"], summary["open_positions"]) == (4, 0.5, 2)
    assert summary["baskets"][0]["trades"] == 4
