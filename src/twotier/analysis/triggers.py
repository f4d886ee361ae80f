"""What Tier-2 did with each of Tier-1's entry triggers (docs/report.md, "Signals"):
traded, blocked (with the reason the decision log gives) or skipped (with the reason the
run's tables show).

A trigger at bar t of a signal episode (RULES.md 4.2) answers for the bars from t to the
episode's next trigger or its end. It is

- *traded* when a trade's entry was decided on one of those bars (under ``next_open`` the
  bar before its fill);
- *blocked* when the log refused an entry there (``BLOCK`` or ``SKIP`` lines, and lines
  of kinds this module does not know whose reason starts with ``entry_``, such as an
  entry a price limit left unfilled), or an entry decided there was cancelled before it
  filled; the reason is the first refusal's;
- *skipped* otherwise, for the first of these reasons that holds at t: the basket held a
  position, the episode was traded already, the package was below the entry minimums
  (confidence, strength, conviction; not logged, RULES.md 4.2), the episode was running
  when the run started (RULES.md 8.32); else "not taken".
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import numpy as np
import pandas as pd

from twotier.analysis.groups import (
    NAT,
    any_of_each,
    by_position_then_time,
    first_of_each,
    last_of_each,
)
from twotier.analysis.signals import trigger_directions
from twotier.config.model import Config
from twotier.numeric import decided
from twotier.tier1.state import episodes
from twotier.tier2.sizing import conviction

TRADED, BLOCKED, SKIPPED = "traded", "blocked", "skipped"
REFUSALS = frozenset({"BLOCK", "SKIP"})
KNOWN_KINDS = frozenset({"ENTRY", "CLOSE", "FILL", "FALLBACK", "BREAKER", "ROLL", *REFUSALS})
IN_POSITION = "in a position"
EPISODE_TRADED = "episode already traded"
BELOW_MINIMUMS = "below the entry minimums"
RUNNING_AT_START = "episode running at the start"
NOT_TAKEN = "not taken"
CANCELLED = "entry cancelled before its fill"
COLUMNS = ("bar", "time", "direction", "confidence", "strength", "basket", "status", "reason")


def _ns(values) -> np.ndarray:
    return pd.DatetimeIndex(pd.Series(values)).as_unit("ns").asi8


def _pick(ns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The times of ``rows`` (NaT where a row is -1)."""
    return np.where(rows >= 0, ns[rows], NAT)


class _Columns:
    """The columns of a table that ``_Basket`` reads, as arrays made once per instrument
    (times as nanoseconds), and each basket's rows of them: masking arrays costs a
    fraction of filtering the table by basket."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    @classmethod
    def of_trades(cls, trades: pd.DataFrame) -> _Columns:
        arrays = {
            "basket": trades["basket"].to_numpy(),
            "trade_id": trades["trade_id"].to_numpy(),
            "entry_ns": _ns(trades["entry_time"]),
            "exit_ns": _ns(trades["exit_time"]),
            "open": (trades["reason"] == "open").to_numpy(dtype=bool),
            "price_kind": (  # no trade: the table may have no other columns
                trades["entry_price_kind"].to_numpy(dtype=object)
                if len(trades)
                else np.zeros(0, dtype=object)
            ),
        }
        if "exit_decided_at" in trades:
            arrays["decided_ns"] = _ns(trades["exit_decided_at"])
        return cls(arrays)

    @classmethod
    def of_log(cls, log: pd.DataFrame) -> _Columns:
        return cls(
            {
                "basket": log["basket"].to_numpy(),
                "kind": log["kind"].astype(str).to_numpy(dtype=object),
                "reason": log["reason"].fillna("").astype(str).to_numpy(dtype=object),
                "ns": _ns(log["time"]),
            }
        )

    def of_basket(self, basket: int) -> dict[str, np.ndarray]:
        mine = self.arrays["basket"] == basket
        return {name: values[mine] for name, values in self.arrays.items()}


class _Basket:
    """What one basket did on one instrument's bars: entries decided (bar), the bars it
    held a position, refusals and entry decisions logged."""

    def __init__(self, index: int, bars_ns: np.ndarray, trades: dict, log: dict):
        def bar_of(ns: np.ndarray) -> np.ndarray:
            return np.searchsorted(bars_ns, ns, side="right") - 1

        self.index = index
        ids, group = np.unique(trades["trade_id"], return_inverse=True)
        entry_ns = trades["entry_ns"]
        order = by_position_then_time(group, trades["exit_ns"])
        first = order[first_of_each(group[order], np.ones(len(order), dtype=bool), len(ids))]
        at_open = trades["price_kind"][first] == "open"
        self.entries = np.sort(bar_of(entry_ns[first]) - at_open.astype(int))
        still = any_of_each(group, trades["open"], len(ids))
        if "decided_ns" in trades:
            decided_ns = trades["decided_ns"]
            ends = bar_of(_pick(decided_ns, last_of_each(group, decided_ns != NAT, len(ids))))
        else:
            ends = np.full(len(ids), -1)
        ends = np.where(still | (ends < 0), len(bars_ns), ends)
        starts = bar_of(_pick(entry_ns, first_of_each(group, entry_ns != NAT, len(ids))))
        order = np.argsort(starts, kind="stable")
        self.held_from, self.held_to = starts[order], ends[order]
        log_bars = bar_of(log["ns"])
        why, kind_of = log["reason"], log["kind"]
        refusal = np.array(
            [
                kind in REFUSALS or (kind not in KNOWN_KINDS and reason.startswith("entry_"))
                for kind, reason in zip(kind_of.tolist(), why.tolist(), strict=True)
            ],
            dtype=bool,
        )
        self.refusals = (log_bars[refusal], why[refusal])
        self.decisions = log_bars[kind_of == "ENTRY"]
        self.after = (log_bars, why, kind_of)

    def entered(self, a: int, b: int) -> bool:
        """An entry decided in [a, b) (the entries are sorted)."""
        return bool(np.searchsorted(self.entries, a) < np.searchsorted(self.entries, b))

    def entered_each(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``entered`` of each pair of bounds, in one search of each."""
        return np.searchsorted(self.entries, a) < np.searchsorted(self.entries, b)

    def refusal(self, a: int, b: int) -> str | None:
        where, why = self.refusals
        inside = np.flatnonzero((where >= a) & (where < b))
        return str(why[inside[0]]) or "blocked" if len(inside) else None

    def cancelled(self, a: int, b: int) -> str | None:
        """An entry decided in [a, b) that no trade came from: the reason of the next line
        of this basket that is not a fill, or a plain 'cancelled'."""
        mine = self.decisions[(self.decisions >= a) & (self.decisions < b)]
        if not len(mine):
            return None
        where, why, kind = self.after
        later = np.flatnonzero((where >= mine[0]) & (kind != "ENTRY") & (kind != "FILL"))
        return str(why[later[0]]) if len(later) and why[later[0]] else CANCELLED

    def holding(self, t: int) -> bool:
        """A position held at bar t: from its entry's fill to its exit's decision."""
        k = int(np.searchsorted(self.held_from, t, side="right")) - 1
        return k >= 0 and self.held_to[k] >= t


def _skip_reason(t, basket: _Basket, episode_start: int, started_inside: bool, below) -> str:
    if basket.holding(t):
        return IN_POSITION
    if basket.entered(episode_start, t):
        return EPISODE_TRADED
    if below:
        return BELOW_MINIMUMS
    return RUNNING_AT_START if started_inside else NOT_TAKEN


def _below_minimums(conf: np.ndarray, strength: np.ndarray, config: Config, basket: int):
    """Which bars (of the confidences and strengths given) are below the basket's entry
    minimums."""
    s = config.basket_sizing(basket)
    return (
        (decided(conf) < s.min_confidence)
        | (decided(strength) < s.min_signal_strength)
        | (conviction(conf, strength, s) < s.min_conviction)
    )


def _episode_bounds(episode: np.ndarray) -> tuple[dict[int, int], dict[int, int]]:
    """Each episode number's first bar and the bar after its last. An episode is one run
    of bars (0, no episode, is many): the runs are few, so they are what is searched."""
    run_starts = np.flatnonzero(np.append(True, episode[1:] != episode[:-1]))
    run_ends = np.append(run_starts[1:], len(episode))
    numbers = episode[run_starts]
    known, first_run = np.unique(numbers, return_index=True)
    _, from_end = np.unique(numbers[::-1], return_index=True)
    last_run = len(numbers) - 1 - from_end
    starts = dict(zip(known.tolist(), run_starts[first_run].tolist(), strict=True))
    ends = dict(zip(known.tolist(), run_ends[last_run].tolist(), strict=True))
    return starts, ends


class RunLog:
    """A run's trades and decision lines as the trigger outcomes read them (``_Columns``),
    made once for all its instruments, when first read."""

    def __init__(self, trades: pd.DataFrame, decisions: pd.DataFrame):
        self._trades, self._decisions = trades, decisions

    @cached_property
    def trades(self) -> _Columns:
        return _Columns.of_trades(self._trades)

    @cached_property
    def decisions(self) -> _Columns:
        return _Columns.of_log(self._decisions)


def trigger_outcomes(
    bars: pd.DataFrame,
    trades: pd.DataFrame,
    decisions: pd.DataFrame,
    config: Config,
    baskets: list[int],
) -> pd.DataFrame:
    """One row per trigger of one instrument's bars of the run (``in_run`` packages): its
    bar, time, direction, confidence and strength, and per the first basket that traded
    it (else blocked it, else the first basket) its status and reason."""
    return outcomes(bars, RunLog(trades, decisions), config, baskets)


def outcomes(bars: pd.DataFrame, run: RunLog, config: Config, baskets: list[int]) -> pd.DataFrame:
    """``trigger_outcomes`` of the trades and decisions of ``run``."""
    direction = trigger_directions(bars)
    fired = np.flatnonzero(direction != 0)
    if not len(fired) or not baskets:
        return pd.DataFrame(columns=list(COLUMNS))
    episode = episodes(bars["signal"].to_numpy())
    bars_ns = pd.DatetimeIndex(bars["time"]).as_unit("ns").asi8
    starts, ends = _episode_bounds(episode)
    conf = bars["confidence"].to_numpy(dtype=float)[fired]
    strength = bars["signal_strength"].to_numpy(dtype=float)[fired]
    workers = []
    for b in baskets:  # the gate of the triggers alone: no other bar's is read
        mine = _Basket(b, bars_ns, run.trades.of_basket(b), run.decisions.of_basket(b))
        workers.append((mine, _below_minimums(conf, strength, config, b)))
    later = _answers_until(fired, episode[fired], ends)
    traded = [basket.entered_each(fired, later) for basket, _ in workers]
    rows = []
    for k, (t, e) in enumerate(zip(fired.tolist(), episode[fired].tolist(), strict=True)):
        outcomes = []
        for (basket, gate), entered in zip(workers, traded, strict=True):
            if entered[k]:
                outcomes.append((0, TRADED, "", basket.index))
                continue
            refused = basket.refusal(t, later[k]) or basket.cancelled(t, later[k])
            if refused is not None:
                outcomes.append((1, BLOCKED, refused, basket.index))
                continue
            why = _skip_reason(t, basket, starts[e], starts[e] == 0 and e > 0, gate[k])
            outcomes.append((2, SKIPPED, why, basket.index))
        _, status, reason, basket_index = min(outcomes, key=lambda o: o[0])
        rows.append((basket_index, status, reason))
    basket_of, status_of, reason_of = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "bar": fired,
            "time": bars["time"].iloc[fired].reset_index(drop=True),
            "direction": direction[fired],
            "confidence": conf,
            "strength": strength,
            "basket": basket_of,
            "status": status_of,
            "reason": reason_of,
        }
    )


def _answers_until(fired: np.ndarray, episode: np.ndarray, ends: dict[int, int]) -> np.ndarray:
    """The bar each trigger answers until (not included): the next trigger of its
    episode (``episode``: each trigger's), else the episode's end."""
    same_next = np.append(episode[1:] == episode[:-1], False)
    episode_end = np.array([ends[e] for e in episode.tolist()], dtype=np.int64)
    return np.where(same_next, np.append(fired[1:], 0), episode_end)


def outcome_counts(table: pd.DataFrame) -> dict:
    """Triggers by status, and by reason within blocked and skipped."""
    out = {"triggers": len(table)}
    rows = list(zip(table["status"].tolist(), table["reason"].tolist(), strict=True))
    for status in (TRADED, BLOCKED, SKIPPED):
        mine = [reason for s, reason in rows if s == status]
        out[status] = len(mine)
        if status != TRADED:
            counts = Counter(r for r in mine if not pd.isna(r))  # as value_counts: NaN left out
            out[f"{status}_by_reason"] = {
                str(r): counts[r] for r in sorted(counts, key=lambda r: (-counts[r], r))
            }
    return out
