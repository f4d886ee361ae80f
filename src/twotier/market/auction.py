"""Vendors' extra bars at the edges of the sessions (RULES.md 11, docs/data.md).

- The opening call auction, stamped as a bar of its own: at 08:59 or 20:59, or a bar of a
  minute or less before a day or night session opens (stamped at the open when the file
  stamps bars by their end). It is folded into the first bar of the session it opens:
  that bar's open becomes the auction's, volumes add, high and low widen.
- A one-tick bar (one price) stamped at a session's end (``15:00:00`` after the close, or
  up to a minute after the end when bars are stamped by their end). It is folded into the
  last bar of that session: its close becomes the bar's close, volumes add, high and low
  widen, the open interest is the tick's.

``data.auction = "merge"`` (the default) folds them; ``"refuse"`` leaves them to the
validator, which refuses them as bars outside the sessions. An auction bar or closing
tick with no bar of its session to fold into is an *orphan* (a bad bar; live, a trailing
auction waits for the next batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twotier.market.calendar import TradingCalendar, hour_segments, session_days
from twotier.market.instruments import InstrumentSpec
from twotier.market.sessions import DAY_CUTOFF_MINUTE, SessionTimes

EDGE_SECONDS = 60  # an auction or closing tick lies within a minute of the session's edge


@dataclass
class Merges:
    """Rows folded into others: ``into[i]`` is the row that row i is folded into (-1: not
    folded), ``opening[i]`` whether it is an auction (else a closing tick) and ``orphan``
    the auction bars and closing ticks with no bar of their session to fold into."""

    into: np.ndarray
    opening: np.ndarray
    orphan: np.ndarray

    @property
    def folded(self) -> np.ndarray:
        return self.into >= 0

    @classmethod
    def none(cls, n: int) -> Merges:
        return cls(np.full(n, -1), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))


def _edges(schedule) -> tuple[np.ndarray, np.ndarray]:
    """Session minutes where a session of one schedule opens (the first day segment and
    the night) and where a segment ends."""
    opens, ends = set(), set()
    day = [s for s in schedule.segments if not s.night]
    opens.update(s.start for s in schedule.segments if s.night)
    if day:
        opens.add(min(s.start for s in day))
    ends.update(s.end for s in schedule.segments)
    return np.array(sorted(opens), dtype=np.int64), np.array(sorted(ends), dtype=np.int64)


def _eras(stamps: SessionTimes, spec: InstrumentSpec, calendar: TradingCalendar):
    """The session schedule (era) in force on the trading day of each stamp: a bar is an
    auction or a closing tick only at an edge of its own day's hours (an instrument whose
    hours changed has other edges in other years: CFFEX's 09:15 open until 2015, DCE's
    23:30 night end until 2019-03)."""
    if not spec.sessions.changes:
        return np.zeros(len(stamps.minutes), dtype=np.int64)
    return spec.sessions.era_of(session_days(stamps, calendar))


def _clock_seconds(wall: np.ndarray) -> np.ndarray:
    """Seconds on the session clock (after midnight: the night's, past 24:00) of
    wall-clock nanoseconds."""
    seconds = (wall // 1_000_000_000) % (24 * 3600)
    return np.where(seconds < DAY_CUTOFF_MINUTE * 60, seconds + 24 * 3600, seconds)


def _near(seconds: np.ndarray, edges: np.ndarray, before: bool, inclusive: bool) -> np.ndarray:
    """The edge (session minute) each time lies within a minute before (or after) of, or
    -1. ``inclusive`` counts the edge itself on the far side: a bar stamped at the open by
    its end is an auction; a tick stamped at the end by its start is a closing tick."""
    found = np.full(len(seconds), -1, dtype=np.int64)
    for edge in edges:
        at = edge * 60
        at_edge = (seconds == at) if inclusive else np.zeros(len(seconds), dtype=bool)
        if before:
            hit = ((seconds >= at - EDGE_SECONDS) & (seconds < at)) | at_edge
        else:
            hit = ((seconds > at) & (seconds <= at + EDGE_SECONDS)) | at_edge
        found = np.where(hit & (found < 0), edge, found)
    return found


def find_merges(
    written: np.ndarray,
    starts: SessionTimes,
    usable: np.ndarray,
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    spec: InstrumentSpec,
    calendar: TradingCalendar,
    *,
    label: str,
    bar_minutes: int,
) -> Merges:
    """The auction bars and closing ticks among the ``usable`` rows (a time and sound
    values), and the rows they fold into. ``written`` are the times as written, as
    wall-clock nanoseconds (``wall_ns``), ``starts`` the bar starts on the session clock;
    ``prices`` open, high, low, close."""
    n = len(written)
    merges = Merges.none(n)
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        return merges
    seconds = _clock_seconds(written[rows])
    by_end = label == "end"
    o, h, low, c = prices
    one_price = ((o == h) & (h == low) & (low == c))[rows]  # one look-up, not four
    opening_at = np.full(len(rows), -1, dtype=np.int64)
    closing_at = np.full(len(rows), -1, dtype=np.int64)
    # Near an edge of any era's hours first (cheap), then each of those few rows at the
    # edges of its own trading day's hours.
    edges = [_edges(schedule) for _, schedule in spec.sessions.eras]
    any_open = np.unique(np.concatenate([opens for opens, _ in edges]))
    any_end = np.unique(np.concatenate([ends for _, ends in edges]))
    near = _near(seconds, any_open, before=True, inclusive=by_end) >= 0
    ticks = np.flatnonzero(one_price)  # a closing tick has one price: only those are looked at
    near[ticks] |= _near(seconds[ticks], any_end, before=False, inclusive=not by_end) >= 0
    candidates = np.flatnonzero(near)
    era = _eras(SessionTimes.of_wall(written[rows[candidates]]), spec, calendar)
    for k in np.unique(era):
        mine = candidates[era == k]
        opens, ends = edges[int(k)]
        opening_at[mine] = _near(seconds[mine], opens, before=True, inclusive=by_end)
        near_end = _near(seconds[mine], ends, before=False, inclusive=not by_end)
        closing_at[mine] = np.where(one_price[mine], near_end, -1)
    closing_at = np.where(opening_at >= 0, -1, closing_at)
    edge_rows = (opening_at >= 0) | (closing_at >= 0)
    if not edge_rows.any():
        return merges

    # Bars that can take a merge: usable, not themselves at an edge, with their segment.
    plain = rows[~edge_rows]
    segment = np.full(n, -1, dtype=np.int64)
    segment[plain] = hour_segments(starts[plain], spec, calendar, length=bar_minutes)
    evening = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    evening[plain] = starts.evening[plain]
    at_edge = np.flatnonzero(edge_rows)
    own_evenings = SessionTimes.of_wall(written[rows[at_edge]]).evening
    for k, own_evening in zip(at_edge, own_evenings, strict=True):
        i = int(rows[k])
        if opening_at[k] >= 0:
            after = int(np.searchsorted(plain, i))
            j = int(plain[after]) if after < len(plain) else -1
            edge, side = opening_at[k], spec.sessions.segment_start
        else:
            before = int(np.searchsorted(plain, i)) - 1
            j = int(plain[before]) if before >= 0 else -1
            edge, side = closing_at[k], spec.sessions.segment_end
        fits = j >= 0 and segment[j] >= 0 and side(segment[j]) == edge
        if fits and evening[j] == own_evening:
            merges.into[i], merges.opening[i] = j, opening_at[k] >= 0
        else:
            merges.orphan[i], merges.opening[i] = True, opening_at[k] >= 0
    return merges


def fold(values: dict[str, np.ndarray], merges: Merges, latest_given: tuple = ()) -> None:
    """Fold the merged rows into their targets, in place: an auction's open becomes the
    open (the earliest auction's when several), a closing tick's close the close (the
    latest's) and its open interest the open interest; volumes add, high and low widen.
    ``latest_given``: columns (the data's settle and limits) whose latest value given
    among the merged rows stands, as when bars are resampled."""
    o, h, low, c = (values[k] for k in ("open", "high", "low", "close"))
    volume = values["volume"]
    oi = values.get("open_interest")
    folded = np.flatnonzero(merges.folded)
    auctions = folded[merges.opening[folded]][::-1]  # the earliest last: its open stays
    ticks = folded[~merges.opening[folded]]  # the latest last: its close stays
    for i in (*auctions, *ticks):
        j = merges.into[i]
        h[j], low[j] = max(h[j], h[i]), min(low[j], low[i])
        volume[j] += volume[i]
        if merges.opening[i]:
            o[j] = o[i]
        else:
            c[j] = c[i]
            if oi is not None:
                oi[j] = oi[i]
        later, earlier = (j, i) if merges.opening[i] else (i, j)
        for v in (values[k] for k in latest_given if k in values):
            v[j] = v[earlier] if np.isnan(v[later]) else v[later]  # blank: the earlier's


__all__ = ["Merges", "find_merges", "fold"]
