"""Columns of numbers packed small for the page (ten years of 15-minute bars of three
instruments would be tens of MB as JSON text): each number column as integers at a fixed
number of decimals, stored as differences from the value before (small numbers, which
compress well), little-endian int32; code columns (signal, regime) as int8; all of it
zlib-compressed and base64-encoded. The browser inflates it with DecompressionStream
("deflate") and adds the differences up (``js/signal_view.js``, ``decodeColumns``).

A missing value is the smallest int32; the differences wrap around 2**32 in both
directions, so it survives them. Exact columns (times, prices) keep every decimal they
have (at most 4); other columns keep five significant digits of their largest value,
which draws and reads the same.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future

import numpy as np

from twotier.background import background

MISSING = -(2**31)
INT32_MAX = 2**31 - 1
SIGNIFICANT = 5
MAX_DECIMALS = 4  # package prices have at most 4 decimals (docs/rules.md)
SAMPLE = 256  # values exact_decimals tries first
LEVEL = 1  # zlib: level 6 is 10% smaller and eight times slower (0.4 s a ten-year column set)


def exact_decimals(values: np.ndarray) -> int:
    """The fewest decimals (at most 4) that write every value exactly (tried on the first
    values before all of them: too few decimals mostly show there)."""
    return _exact_rounded(values)[0]


def _exact_rounded(values: np.ndarray) -> tuple[int, np.ndarray | None]:
    """``exact_decimals``, and the values scaled to them and rounded, as ``_put_deltas``
    makes them, where every value is finite (else None): found on the way."""
    finite = _finite(values)
    for decimals in range(MAX_DECIMALS + 1):
        if _whole_at(finite[:SAMPLE], decimals) is not None:
            rounded = _whole_at(finite, decimals)
            if rounded is not None:
                return decimals, rounded if finite is values else None
    return MAX_DECIMALS, None


def _whole_at(values: np.ndarray, decimals: int) -> np.ndarray | None:
    """The values scaled to ``decimals`` and rounded, where that leaves each whole (and
    finite); else None."""
    scaled = values * 10.0**decimals
    rounded = np.round(scaled)
    np.subtract(scaled, rounded, out=scaled)  # in place: a ten-year column is 0.5 MB
    return rounded if np.all(np.abs(scaled, out=scaled) < 1e-6) else None


def display_decimals(values: np.ndarray) -> int:
    """Decimals that keep five significant digits of the largest value (at most 8), and
    whole numbers at least while they fit the int32 a column is packed in; beyond it
    (a Bollinger band billions wide, say) fewer than none: tens, hundreds and so on."""
    return _display_decimals(_finite_bounds(values))


def _display_decimals(bounds: tuple[float, float] | None) -> int:
    """``display_decimals`` of values whose ``_finite_bounds`` these are."""
    largest = max(abs(bounds[0]), abs(bounds[1])) if bounds else 0.0
    if largest == 0:
        return 0
    decimals = min(8, SIGNIFICANT - 1 - math.floor(math.log10(largest)))
    return decimals if decimals >= 0 or largest >= INT32_MAX else 0


def _finite(values: np.ndarray) -> np.ndarray:
    """The finite values (the array itself where all are: most columns)."""
    finite = np.isfinite(values)
    return values if finite.all() else values[finite]


def _finite_bounds(values: np.ndarray) -> tuple[float, float] | None:
    """The smallest and the largest finite value; None where none is. fmin and fmax skip
    NaN, so only a column with an infinity (or nothing but NaN) has its finite values
    picked out: an indicator's missing values, scattered, cost more to pick out than the
    rest of its packing."""
    if not len(values):
        return None
    low, high = float(np.fmin.reduce(values)), float(np.fmax.reduce(values))
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    finite = _finite(values)
    return (float(finite.min()), float(finite.max())) if len(finite) else None


def _scaled_bounds(bounds: tuple[float, float] | None, scale: float, scaled: np.ndarray):
    """``_finite_bounds`` of ``scaled``, the values rounded at ``scale``, from those of
    the values (``bounds``): scaling and rounding keep the order. Looked for in
    ``scaled`` only where a bound overflows."""
    if bounds is None:
        return None
    low, high = float(np.rint(bounds[0] * scale)), float(np.rint(bounds[1] * scale))
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    return _finite_bounds(scaled)


def _put_deltas(
    values: np.ndarray,
    decimals: int,
    bounds: tuple[float, float] | None,
    out: np.ndarray,
    rounded: np.ndarray | None = None,
) -> None:
    """The column's integers at ``decimals`` as differences from the one before, into
    ``out`` (int32: a difference wraps around 2**32, as the browser's addition does);
    ``bounds``: the values' ``_finite_bounds``; ``rounded``: the values scaled and
    rounded, all finite, where already made (``_exact_rounded``)."""
    scale = 10.0**decimals
    scaled = rounded
    if scaled is None:
        scaled = values * scale
        np.round(scaled, out=scaled)
    bounds = _scaled_bounds(bounds, scale, scaled)
    if bounds and max(bounds[1], -bounds[0]) >= INT32_MAX:
        raise ValueError("a value is too large to pack at its decimals")
    if rounded is None and not _all_finite(scaled):
        scaled[~np.isfinite(scaled)] = MISSING
    ints = scaled.astype(np.int32)
    out[:1] = ints[:1]
    np.subtract(ints[1:], ints[:-1], out=out[1:])


def _all_finite(scaled: np.ndarray) -> bool:
    """Whether every value is finite, for values below the int32 bound where finite: any
    number of them adds up to a finite sum, which only a NaN or an infinity spoils (one
    pass over the values, where np.isfinite makes a mask of them first)."""
    with np.errstate(invalid="ignore"):  # +inf and -inf add up to NaN: quietly
        return math.isfinite(np.add.reduce(scaled))


def pack_columns(
    numbers: Mapping[str, Sequence[float]],
    codes: Mapping[str, Sequence[int]],
    exact: Sequence[str] = (),
    *,
    later: bool = False,
) -> dict:
    """``{"numbers": [[name, decimals], ...], "codes": [name, ...], "data": base64}``:
    the number columns (``exact`` ones at their own decimals), then the code columns,
    all of one length. ``later``: "data" is a Future of the text, compressed on a thread
    (zlib lets go of the interpreter: the rest of a report is built meanwhile);
    ``resolved`` waits for it."""
    number_columns = [np.asarray(column, dtype=float) for column in numbers.values()]
    code_columns = [np.asarray(column).astype(np.int8) for column in codes.values()]
    length = len((number_columns or code_columns or [()])[0])
    # every column written straight into the one buffer that zlib reads
    raw = np.empty(length * (4 * len(number_columns) + len(code_columns)), dtype=np.uint8)
    number_part = raw[: 4 * length * len(number_columns)].view("<i4")
    numbers_meta = []
    for k, (name, values) in enumerate(zip(numbers, number_columns, strict=True)):
        bounds = _finite_bounds(values)  # found once: for the decimals and the int32 check
        if name in exact:
            decimals, rounded = _exact_rounded(values)
        else:
            decimals, rounded = _display_decimals(bounds), None
        deltas = number_part[k * length : (k + 1) * length]
        _put_deltas(values, decimals, bounds, deltas, rounded)
        numbers_meta.append([name, decimals])
    code_part = raw[len(number_part) * 4 :]
    for k, values in enumerate(code_columns):
        code_part[k * length : (k + 1) * length] = values.view(np.uint8)
    data = background().submit(_encoded, raw) if later else _encoded(raw)
    return {"numbers": numbers_meta, "codes": list(codes), "data": data}


def resolved(packed: dict) -> dict:
    """A payload of ``pack_columns(..., later=True)`` with its text in."""
    data = packed["data"]
    return {**packed, "data": data.result()} if isinstance(data, Future) else packed


def _encoded(raw: bytes | np.ndarray) -> str:
    return base64.b64encode(zlib.compress(raw, LEVEL)).decode("ascii")


def unpack_columns(packed: dict, length: int) -> dict[str, np.ndarray]:
    """The columns back (what the browser computes), for tests and tools."""
    raw = zlib.decompress(base64.b64decode(packed["data"]))
    out, offset = {}, 0
    for name, decimals in packed["numbers"]:
        deltas = np.frombuffer(raw, dtype="<i4", count=length, offset=offset)
        offset += 4 * length
        ints = np.cumsum(deltas.astype(np.int64)).astype(np.int64)
        ints = ((ints + 2**31) % 2**32) - 2**31  # the wrap-around of int32 addition
        out[name] = np.where(ints == MISSING, np.nan, ints / 10.0**decimals)
    for name in packed["codes"]:
        out[name] = np.frombuffer(raw, dtype=np.int8, count=length, offset=offset).copy()
        offset += length
    return out
