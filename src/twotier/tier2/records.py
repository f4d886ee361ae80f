"""The per-step record (RULES.md 4.1 step 6), checked against the ledger
(``book.check_ledger``).

Rows are kept as column blocks so that the backtest engine can append a whole stretch of
quiet steps at once; a single step appends a block of one.
"""

from __future__ import annotations

from contextlib import suppress
from functools import cache, cached_property
from itertools import compress
from operator import not_

import numpy as np
import pandas as pd

from twotier.market.calendar import TIMEZONE
from twotier.money import cent_cny, cny_array
from twotier.tier2.book import check_ledger
from twotier.tier2.breakers import drawdown
from twotier.tier2.margin import risk_degree
from twotier.tier2.state import PortfolioState
from twotier.tier2.view import commitments


def record_row(
    state: PortfolioState,
    times,
    days,
    closes: list,
    peak,
    day_start,
    reserve_target,
    marked: tuple[list, object],
    margin=None,
) -> tuple:
    """Records of one step, or of consecutive steps over which positions do not change
    (RULES.md 4.1 step 6; each argument one value, or an array over the steps), as their
    values in the order of ``record_columns``: each basket marked at ``closes[i]``
    (``marked``: ``marked_equities`` at them), the book's margin (RULES.md 10.4) where
    the rules are on. Checks the ledger on every step. A step appends them as a row
    (``append_row``), a quiet stretch as a block (``append_block``), without a dict to
    take apart; ``EquityRecorder.frame`` derives drawdown, exposure, leverage and the
    reserve held from them for the whole table."""
    equities, pv = marked
    check_ledger(state, times)
    held = commitments(state, closes, with_margin=False)
    per_basket, active = [], 0
    for i, b in enumerate(state.baskets):
        p = b.position
        if p is None:
            per_basket += (equities[i], 0)
        else:
            per_basket += (equities[i], p.side * p.contracts)
            active += 1
    # the ratios to PV are taken from committed and notional when the table is built
    values = [times, days, pv, peak, day_start, held.committed, held.notional, reserve_target]
    values.append(active)
    if margin is not None:
        values.append(margin)
    values += per_basket
    return tuple(values)


@cache
def record_columns(baskets: int, margin: bool) -> tuple[str, ...]:
    """The names of a record's columns (``record_row``), in its order (``margin``: whether
    the book's margin is recorded)."""
    names = ["time", "trading_day", "pv", "peak", "day_start", "committed", "notional"]
    names += ["reserve_target", "active_positions"]
    if margin:
        names.append("margin")
    for pair in basket_columns(baskets):
        names += pair
    return tuple(names)


@cache
def basket_columns(baskets: int) -> tuple[tuple[str, str], ...]:
    """The equity table's per-basket column names: (equity_i, position_i)."""
    return tuple((f"equity_{i}", f"position_{i}") for i in range(baskets))


class EquityRecorder:
    """Rows of the equity table, appended a block at a time: a column of a block is an
    array of the block's length or one value for all its rows. One-row blocks (a step)
    are kept as Python values and placed in one go when the table is built. Blocks are
    kept as tuples in the column order of the first block, so that building the table
    transposes them in one go."""

    def __init__(self, baskets: int):
        self.baskets = baskets
        self.size = 0
        self._names: tuple[str, ...] | None = None
        self._rows: list[tuple] = []  # values of one-row blocks
        self._row_at: list[int] = []  # their row numbers
        self._blocks: list[tuple] = []  # columns of longer blocks
        self._block_at: list[tuple[int, int]] = []  # their first row and rows

    def append(self, rows: int, block: dict) -> None:
        """A block of ``rows`` steps' records as columns by name (arrays over the steps;
        one step: plain values), as a live session restores them."""
        names, values = tuple(block), tuple(block.values())
        if isinstance(block["time"], np.ndarray):
            self.append_block(names, rows, values)
        else:
            self.append_row(names, values)

    def append_block(self, names: tuple[str, ...], rows: int, values: tuple) -> None:
        """Consecutive steps' records as their values (arrays over the ``rows`` steps, or
        one value for all of them), in the order of ``names`` (``record_row``): a quiet
        stretch's, without a dict to take apart."""
        self._check_names(names)
        self._blocks.append(values)
        self._block_at.append((self.size, rows))
        self.size += rows

    def append_row(self, names: tuple[str, ...], values: tuple) -> None:
        """One step's record as its values, in the order of ``names`` (``record_row``)."""
        self._check_names(names)
        self._rows.append(values)
        self._row_at.append(self.size)
        self.size += 1

    def _check_names(self, names: tuple[str, ...]) -> None:
        """The first record's columns are the table's; every later record has them."""
        if self._names is None:
            self._names = names
        elif names is not self._names and names != self._names:
            raise ValueError(f"record columns {names} differ from {self._names}")

    def _last_is_row(self) -> bool:
        return bool(self._row_at) and self._row_at[-1] == self.size - 1

    def replace_last(self, names: tuple[str, ...], values: tuple) -> None:
        """Re-record the final step (after closes at data end), as ``append_row``."""
        if self._last_is_row():
            self._rows.pop()
            self._row_at.pop()
        else:
            first, rows = self._block_at.pop()
            columns = self._blocks.pop()
            self._blocks.append(tuple(_head(v, rows - 1) for v in columns))
            self._block_at.append((first, rows - 1))
        self.size -= 1
        self.append_row(names, values)

    def last_row(self) -> dict:
        assert self._names is not None
        if self._last_is_row():
            values = (np.atleast_1d(v) for v in self._rows[-1])
        else:
            rows = self._block_at[-1][1]
            values = (np.broadcast_to(v, (rows,))[-1:] for v in self._blocks[-1])
        return dict(zip(self._names, values, strict=True))

    def frame(self) -> pd.DataFrame:
        if self.size == 0 or self._names is None:
            return pd.DataFrame()
        at = np.array(self._row_at, dtype=np.int64)
        starts = np.array([first for first, _ in self._block_at], dtype=np.int64)
        lengths = np.array([rows for _, rows in self._block_at], dtype=np.int64)
        row_columns = list(zip(*self._rows, strict=True)) or [()] * len(self._names)
        block_columns = list(zip(*self._blocks, strict=True)) or [()] * len(self._names)
        columns, rows = {}, BlockRows(self.size, at, starts, lengths)
        for name, ones, pieces in zip(self._names, row_columns, block_columns, strict=True):
            columns[name] = _column(np.array(ones), pieces, rows)
        pv_cny = cny_array(columns["pv"])
        table = with_ratios(columns, pv_cny)
        # Times and money in their final form before the table is made: replacing a
        # column of a DataFrame costs more than making it.
        utc = pd.DatetimeIndex(table["time"].view("datetime64[ns]"), tz="UTC")
        table["time"] = utc.tz_convert(TIMEZONE)
        table["pv"] = cent_cny(table["pv"], pv_cny)  # to the cent, as the files show money
        for name in ["peak", "day_start", *[f"equity_{i}" for i in range(self.baskets)]]:
            table[name] = cent_cny(table[name])
        return pd.DataFrame(table, copy=False)


class BlockRows:
    """The rows of the blocks chosen by a mask, as a boolean mask over the table's rows,
    computed once per mask: the columns of a table mostly agree on which blocks hold an
    array and which one value. The blocks are kept in row order, so the values written
    through a mask land on their rows. Masks rather than row numbers: numpy writes through
    a mask for about half the instructions of a list of row numbers."""

    def __init__(self, size: int, one_rows: np.ndarray, starts: np.ndarray, lengths: np.ndarray):
        self.size, self.one_rows = size, one_rows
        self.starts, self.lengths = starts, lengths
        self.every = np.ones(size, dtype=bool)  # the rows of all the blocks
        self.every[one_rows] = False
        self._known: dict[bytes, np.ndarray] = {}

    @cached_property
    def _in_row_order(self) -> tuple[np.ndarray, np.ndarray]:
        """The one-row records and the blocks in row order (as places in the one-row
        records' values followed by the blocks'), and the rows each holds."""
        firsts = np.concatenate([self.one_rows, self.starts])
        order = np.argsort(firsts, kind="stable")
        ones = np.ones(len(self.one_rows), dtype=np.int64)
        return order, np.concatenate([ones, self.lengths])[order]

    def repeated(self, ones: np.ndarray, block_values: np.ndarray) -> np.ndarray:
        """The column whose one-row records hold ``ones`` and whose blocks hold one value
        each, ``block_values``: each value repeated over its rows, in one go."""
        order, rows = self._in_row_order
        return np.repeat(np.concatenate([ones, block_values])[order], rows)

    def of(self, chosen: np.ndarray) -> np.ndarray:
        key = chosen.tobytes()
        rows = self._known.get(key)
        if rows is None:
            rows = self._known[key] = np.zeros(len(self.every), dtype=bool)
            rows[self.every] = np.repeat(chosen, self.lengths)
        return rows


def _column(values: np.ndarray, pieces: tuple, rows: BlockRows) -> np.ndarray:
    """One column of the table from the one-row records' ``values`` and the blocks'
    ``pieces``. A column with one value a block is made by repeating the values in row
    order; the others have the blocks' values written in with two vectorised assignments
    (blocks whose value is an array; blocks with one value for all rows). Most columns
    hold only arrays or only single values: those skip sorting the blocks."""
    dtype = (values if len(values) else np.asarray(pieces[0])).dtype
    array_kinds = [issubclass(kind, np.ndarray) for kind in set(map(type, pieces))]
    if not any(array_kinds):
        return rows.repeated(values.astype(dtype), np.array(pieces).astype(dtype))
    column = np.empty(rows.size, dtype=dtype)
    column[rows.one_rows] = values
    if all(array_kinds):
        column[rows.every] = _joined(pieces)
        return column
    # the blocks picked by a list of flags (iterating a numpy bool array costs twice more)
    flags = [isinstance(v, np.ndarray) for v in pieces]
    is_array = np.array(flags, dtype=bool)
    column[rows.of(is_array)] = _joined(list(compress(pieces, flags)))
    ones = np.array(list(compress(pieces, map(not_, flags))))
    kept = rows.lengths[~is_array]
    column[rows.of(~is_array)] = np.repeat(ones.astype(column.dtype), kept)
    return column


def _joined(arrays: list | tuple) -> np.ndarray:
    """``np.concatenate(arrays)``. Arrays of one numeric dtype have their bytes joined:
    numpy's concatenation costs about 1,500 instructions an array, and a table has
    hundreds of short blocks. Others (mixed dtypes, arrays not contiguous, which give no
    buffer to join) are concatenated."""
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) == 1:
        dtype = dtypes.pop()
        if dtype.kind in "biufM":
            with suppress(BufferError, TypeError, ValueError):
                return np.frombuffer(b"".join(arrays), dtype=dtype)
    return np.concatenate(arrays)


def with_ratios(columns: dict, pv_cny: np.ndarray) -> dict:
    """The recorded columns with the ratios to PV in place of the committed capital and
    notional they come from: drawdown, exposure, leverage and the cash reserve held
    (computed once for the whole table rather than at every step). ``pv_cny``: the PV
    column in CNY (``cny_array``)."""
    committed, notional = columns["committed"], columns["notional"]
    ratios = {
        "drawdown": drawdown(columns["pv"], columns["peak"]),
        "exposure": committed / pv_cny,
        "leverage": notional / pv_cny,
        "reserve_held": (pv_cny - committed) / pv_cny,
    }
    out = {}
    for name, values in columns.items():
        if name == "committed":
            out.update(ratios)
        elif name == "margin":
            out["margin"] = values
            out["risk_degree"] = risk_degree(values, columns["pv"])
        elif name != "notional":
            out[name] = values
    return out


def _head(values, rows: int):
    return values[:rows] if isinstance(values, np.ndarray) else values
