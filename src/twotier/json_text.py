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
