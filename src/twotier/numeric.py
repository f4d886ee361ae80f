"""Operations whose spelling differs between one value and an array of values.

Rules are written once, for numpy arrays and for plain numbers alike: Tier-1's whole
series and its one-bar-at-a-time form, Tier-2's step and the engine's scans over many
steps call the same rule, so the forms cannot drift. Each primitive gives bit-identical
results either way (IEEE arithmetic is the same in Python and numpy); the plain-number
branch is much faster per call than numpy on a Python float.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import reduce
from itertools import pairwise
from operator import and_
from typing import Any

import numpy as np

DECIMALS = 10  # RULES.md 8.28: derived quantities are compared at 10 decimal places
SHORT = 32  # an array this short is reduced faster in Python, from its list, than by numpy

Values = Any  # a numpy array (whole series) or a float / bool (one bar)


# numpy's array type, read once: numpy's module ``__getattr__`` keeps the interpreter from
# specialising reads of ``np.<name>`` (about 300 instructions each, against a few for a
# module global), and the rules ask "an array or one value?" at every step.
ARRAY = np.ndarray

_SCALE = 10.0**DECIMALS
_PLAIN = (float, int)  # a tuple: ``float | int`` would make a union object at every call


def decided(values):
    """Round a derived quantity before it is compared with a threshold: numpy's rounding
    (scale by 10**10, round half to even, unscale), for arrays and single values alike. A
    single value takes the same three steps in plain Python, which is much faster per call
    (numpy spends ~10 us on a Python float) and gives the same bits."""
    if isinstance(values, _PLAIN):
        scaled = values * _SCALE
        if math.isfinite(scaled):
            return round(scaled) / _SCALE
        return scaled / _SCALE  # NaN or an infinity, as numpy gives
    if isinstance(values, ARRAY):
        return values.round(DECIMALS)  # the method: np.round's dispatch costs more than it
    return np.round(values, DECIMALS)


# How far below a limit a value must be for its decided value not to pass it: rounding to
# DECIMALS moves a value by at most half of 10**-DECIMALS (and its float error far less).
_DECIDED_SLACK = 10.0 ** (1 - DECIMALS)


def above(values, limit: float):
    """``decided(values) > limit``, for one value or an array. An array none of whose
    values comes near the limit (nearly always: a breaker's or the risk degree's test over
    a quiet stretch) answers one plain False for every value, without rounding each."""
    # NaN, never above a limit, leaves the test below either way or goes to the full test
    if isinstance(values, ARRAY) and len(values) and far_below(largest(values), limit):
        return False
    return decided(values) > limit


def largest(values: np.ndarray):
    """The largest value of an array of numbers (not empty) as a Python number: a short
    array's from its list, at a fraction of the cost of numpy's reduction. A NaN gives
    NaN, or in a short array may be passed over (Python's ``max`` compares it False): a
    bound taken with it must hold whatever a NaN value does."""
    if len(values) <= SHORT:
        return max(values.tolist())
    return np.maximum.reduce(values).item()


def extremes(values: np.ndarray) -> tuple:
    """The smallest and largest values, as ``largest``: a short array's from one list."""
    if len(values) <= SHORT:
        listed = values.tolist()
        return min(listed), max(listed)
    return np.minimum.reduce(values).item(), np.maximum.reduce(values).item()


def smallest(values: np.ndarray):
    """The smallest value, as ``largest``."""
    if len(values) <= SHORT:
        return min(values.tolist())
    return np.minimum.reduce(values).item()


def far_below(value: float, limit: float) -> bool:
    """Whether a value is so far below the limit that neither its decided value nor that
    of a quotient an ulp or two from it is above it."""
    return value < limit - _DECIDED_SLACK * max(1.0, abs(limit))


def where(condition: Values, yes: Values, no: Values) -> Values:
    """``np.where`` for arrays; ``yes if condition else no`` for one bar."""
    if isinstance(condition, ARRAY):
        return np.where(condition, yes, no)
    return yes if condition else no


def where_any(condition: Values, yes: Values, no: Values) -> Values:
    """``where`` for a condition seldom true: where no value of an array is true, ``no``
    itself (an array of the result's type and shape), without np.where's pass over every
    value."""
    if isinstance(condition, ARRAY):
        return np.where(condition, yes, no) if condition.any() else no
    return yes if condition else no


def ratio_or(numerator: Values, divisor: Values, fallback: Values) -> Values:
    """``numerator / divisor``, and ``fallback`` where the divisor is 0. A divisor is
    seldom 0: an array without a 0 is divided as it is."""
    zero = divisor == 0
    if isinstance(zero, ARRAY):
        if not zero.any():
            return numerator / divisor
        return np.where(zero, fallback, numerator / np.where(zero, 1.0, divisor))
    return fallback if zero else numerator / divisor


def clip01(values: Values) -> Values:
    """Clamp to [0, 1]; NaN stays NaN."""
    if isinstance(values, ARRAY):
        return np.clip(values, 0.0, 1.0)
    return 0.0 if values < 0.0 else 1.0 if values > 1.0 else values


def sqrt(values: Values) -> Values:
    if isinstance(values, ARRAY):
        return np.sqrt(values)
    return math.sqrt(values)


def all_of(flags: Iterable[Values]) -> Values:
    """Element-wise AND of one or more boolean arrays (or bools)."""
    return reduce(and_, flags)


def defined(ind: Mapping[str, Values], names: Iterable[str]) -> Values:
    """True where none of the named inputs is NaN (still warming up)."""
    names = tuple(names)
    if isinstance(ind[names[0]], ARRAY):
        # OR-ed in place, one series at a time: stacking them first costs 3 times more.
        missing = nan_flags(ind[names[0]])
        for name in names[1:]:
            missing |= nan_flags(ind[name])
        return ~missing
    return not any(map(math.isnan, map(ind.__getitem__, names)))


def nan_flags(values: np.ndarray) -> np.ndarray:
    """``np.isnan`` of a float array, spelt ``values != values`` (NaN is the only value
    unequal to itself): numpy's comparison is vectorised where its isnan is not, and
    takes about half the instructions."""
    return values != values


def as_int8(values: Values) -> Values:
    if isinstance(values, ARRAY):
        return values.astype(np.int8)
    return int(values)


def running_best(closes, start: int, side: int):
    """The best close so far (highest for a long, lowest for a short), starting at
    ``start``."""
    if isinstance(closes, ARRAY):
        if side > 0:
            return np.maximum.accumulate(np.maximum(closes, start))
        return np.minimum.accumulate(np.minimum(closes, start))
    return max(closes, start) if side > 0 else min(closes, start)


def running_any(flags):
    """Whether a flag has been seen so far."""
    if isinstance(flags, ARRAY):
        return np.logical_or.accumulate(flags)
    return bool(flags)


def not_(flags):
    """Logical NOT of one flag or an array of them."""
    if isinstance(flags, ARRAY):
        return ~flags
    return not flags


def only_if(flags, condition):
    """``flags & condition``; a condition that is one plain True (on for every flag of an
    array) leaves the flags as they are, without an array operation."""
    return flags if condition is True else flags & condition


def carried_previous(values, first, mask, before):
    """At each position, the value just before the latest position where ``mask`` is set
    (``first`` before the first value), else ``before``: a forward fill from the marks of
    the values shifted by one. Marks are few (a stretch's trading days begin a few times
    in a hundred steps), so each run between two marks is filled with one assignment.
    ``values`` of a mask array may be one number for every position: then every mark but
    one at the first position carries it, and two assignments at most fill the array."""
    if isinstance(mask, ARRAY):
        out = np.empty(len(mask), dtype=_result_type(values, before))
        out.fill(before)
        marks = mask.nonzero()[0].tolist()
        if not isinstance(values, ARRAY):
            if marks:
                out[marks[0] :] = values if marks[0] else first
                if marks[0] == 0 and len(marks) > 1:
                    out[marks[1] :] = values
            return out
        for mark, end in pairwise([*marks, len(mask)]):
            out[mark:end] = values[mark - 1] if mark else first
        return out
    return first if mask else before


def _result_type(values, other):
    """``np.result_type(values, other)``; an integer array's own where ``other`` is a
    Python int (numpy's rule for plain numbers), and numpy's integer for two Python ints
    whatever their values (a flat stretch's PV), without numpy's dispatch."""
    if type(other) is int:
        if isinstance(values, ARRAY) and values.dtype.kind == "i":
            return values.dtype
        if type(values) is int:
            return _PLAIN_INT
    return np.result_type(values, other)


_PLAIN_INT = np.result_type(0, 0)  # numpy's type for Python ints (int64 on Linux)


def first_of(flags):
    """Only the first set flag of an array (one flag: itself)."""
    if isinstance(flags, ARRAY):
        out = np.zeros(len(flags), dtype=bool)
        if flags.any():
            out[int(flags.argmax())] = True
        return out
    return bool(flags)


def running_max_restarting(values, start, restart, restart_values):
    """The running maximum of ``values`` from ``start``, begun again from
    ``restart_values`` where ``restart`` is set (``restart`` None: nowhere). One value:
    the maximum of the value and the start, or the restart value where it restarts.
    ``values`` may be one number for every position of arrays of ``restart_values``."""
    if not isinstance(values, ARRAY) and isinstance(restart_values, ARRAY):
        if restart is None or not restart.any():  # one maximum throughout
            out = np.empty(len(restart_values), dtype=np.result_type(values, start))
            out.fill(max(values, start))
            return out
        values = np.full(len(restart_values), values)
    if isinstance(values, ARRAY):
        if restart is None or not restart.any():
            return np.maximum.accumulate(np.maximum(values, start))
        out = np.empty(len(values), dtype=np.result_type(values, start))
        bounds = [0, *np.flatnonzero(restart).tolist(), len(values)]
        for a, b in pairwise(bounds):
            if a == b:
                continue
            base = restart_values[a] if restart[a] else start
            out[a:b] = np.maximum.accumulate(np.maximum(values[a:b], base))
            start = out[b - 1]
        return out
    return max(values, restart_values if restart else start)


def at_least(values, floor):
    """``max(values, floor)`` element-wise."""
    if isinstance(values, ARRAY):
        return np.maximum(values, floor)
    return max(values, floor)


def filled_like(values, constant):
    """``constant`` in the shape of ``values`` (one value: the constant)."""
    if isinstance(values, ARRAY):
        return np.full(values.shape, constant)
    return constant
