"""JSON documents as twotier writes them, in files (summary.json, metrics.json, a sweep's
summary.json) and on standard output (``--json``): strict JSON. JSON has no NaN and no
infinity; Python would write them as ``NaN`` and ``Infinity``, which strict readers (jq,
JavaScript's ``JSON.parse``, most languages' parsers) refuse. A number without a finite
value is written as null, numpy's scalars as the plain numbers they hold."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """``value`` with plain Python values throughout: dicts (keys as text), lists, numbers
    (NaN and infinities as None), booleans, text; pandas' missing values as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def json_text(value: Any, **options: Any) -> str:
    """``value`` as strict JSON (``plain``); ``options`` as ``json.dumps`` takes them
    (``indent``, ``ensure_ascii``, ``default`` for other types)."""
    return json.dumps(plain(value), allow_nan=False, **options)


# Where Python's repr writes a float without an exponent and so does Arrow's formatter
# (from 1e-4 to below 1e10): there the two texts are the same, but for repr's ".0" after
# a whole number.
_POSITIONAL_BOTH = (1e-4, 1e10)
_ONE, _ZERO, _DOT = b"10."


def float_arrays_json(arrays: list[np.ndarray]) -> list[str]:
    """Each float64 array of finite values as the JSON array ``json.dumps`` writes of its
    list compactly ("[1.0,0.25]", each number as Python's repr writes it), all made
    together by Arrow's float formatter (``_joined_reprs``)."""
    return [f"[{numbers}]" for numbers in _joined_reprs(arrays)]


def float_reprs(values: np.ndarray) -> list[str]:
    """``repr`` of each float of a float64 array of finite values, made by Arrow's float
    formatter (``_joined_reprs``): a third of the cost of repr's own."""
    return _joined_reprs([values])[0].split(",") if len(values) else []


def _joined_reprs(arrays: list[np.ndarray]) -> list[str]:
    """Each float64 array of finite values as the reprs of its numbers joined by commas,
    all made together by Arrow's float formatter: it writes the same shortest digits as
    repr (double-conversion) at under a third of the cost. A whole number is formatted
    plus 0.1 ("3.1"), its last digit then made 0; the few numbers Arrow writes otherwise
    than repr (below 1e-4, from 1e10) are written by repr."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not arrays:
        return []
    x = np.concatenate(arrays) if len(arrays) != 1 else arrays[0]
    size = np.abs(x)
    alike = ((size >= _POSITIONAL_BOTH[0]) & (size < _POSITIONAL_BOTH[1])) | (x == 0)
    whole = np.flatnonzero(alike & (x == np.trunc(x)))
    shown = x.copy()
    shown[whole] += np.copysign(0.1, x[whole])
    _, offsets, data = pc.cast(pa.array(shown), pa.string()).buffers()
    ends = np.frombuffer(offsets, np.int32, len(x) + 1)[1:]
    chars = np.frombuffer(data, np.uint8, ends[-1] if len(x) else 0).copy()
    last = ends[whole] - 1
    odd = ~alike
    odd[whole] |= (chars[last] != _ONE) | (chars[last - 1] != _DOT)  # by repr, were any
    chars[last] = _ZERO
    text = pa.StringArray.from_buffers(len(x), offsets, pa.py_buffer(chars))
    bounds = np.cumsum([0, *map(len, arrays)], dtype=np.int32)
    lists = pa.ListArray.from_arrays(pa.array(bounds), text)
    joined = pc.binary_join(lists, ",").to_pylist()
    for k in np.unique(np.searchsorted(bounds, np.flatnonzero(odd), "right") - 1).tolist():
        values = x[bounds[k] : bounds[k + 1]]
        numbers = joined[k].split(",")
        for i in np.flatnonzero(odd[bounds[k] : bounds[k + 1]]).tolist():
            numbers[i] = repr(float(values[i]))
        joined[k] = ",".join(numbers)
    return joined
