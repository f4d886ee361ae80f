"""Times as text, the same as strftime gives them, for the run folder's files, the report
and what a sweep keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd

CLOCKS = {  # unit -> the time of day after the date, from its seconds
    "s": lambda c: f" {c // 3600:02d}:{c // 60 % 60:02d}:{c % 60:02d}",
    "m": lambda c: f" {c // 3600:02d}:{c // 60 % 60:02d}",
}


def stamps(values: np.ndarray, unit: str) -> list[str]:
    """Naive datetimes as ``YYYY-MM-DD HH:MM:SS`` (unit "s"), ``YYYY-MM-DD HH:MM`` ("m")
    or ``YYYY-MM-DD`` ("D"), NaT empty. A run's times fall on a few thousand days and a
    few dozen times of day: each distinct day and time of day is written once (numpy's
    text of every value is four times slower), found by pandas' factorize (hashing; numpy's
    unique sorts)."""
    seconds = values.astype("datetime64[s]").astype(np.int64)
    day_index, days = pd.factorize(seconds // 86400)
    text = np.datetime_as_string(days.astype("datetime64[D]")).astype(object)[day_index]
    if unit in CLOCKS:
        clock_index, clocks = pd.factorize(seconds % 86400)
        clock_text = [CLOCKS[unit](c) for c in clocks.tolist()]
        text = text + np.array(clock_text, dtype=object)[clock_index]
    text[np.isnat(values)] = ""
    return text.tolist()
