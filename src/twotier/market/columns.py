"""A bar file's columns: the canonical names, the names vendors use for them, and which of
a file's columns is which (``resolve_columns``). Light to import (no pandas): the program
reads bar files ahead with it while the rest loads (``twotier.market.plain_csv``)."""

from __future__ import annotations

import re

from twotier.errors import DataError

# The exchange's settlement price and daily limits, where the data has them (RULES.md 10).
SETTLE_AND_LIMITS = ("settle", "limit_up", "limit_down")
PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_COLUMNS = (*PRICE_COLUMNS, "volume")
# Optional columns, where the data has them: open interest, and the exchange's settlement
# price and daily limits (RULES.md 10; a blank cell is no value for its bar).
OPTIONAL = ("open_interest", *SETTLE_AND_LIMITS)
NUMERIC = (*BAR_COLUMNS, *OPTIONAL)

# Column names vendors use, tried in order when no mapping is given.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "datetime", "timestamp", "date_time", "bar_time", "dt"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
    "open_interest": ("open_interest", "openinterest", "oi", "hold", "position"),
    "settle": ("settle", "settlement", "settle_price", "settlement_price"),
    "limit_up": ("limit_up", "upper_limit", "up_limit", "upperlimit"),
    "limit_down": ("limit_down", "lower_limit", "down_limit", "lowerlimit"),
}


def resolve_columns(
    names: list[str], mapping: dict[str, str] | None, source: str, line: int | None = 1
) -> dict[str, str]:
    """Map canonical column names to the file's own; a missing column is an error.
    ``line`` is the header's line in errors (None where there is no header line)."""
    lower = {n.strip().lower(): n for n in names}
    resolved: dict[str, str] = {}
    mapping = dict(mapping or {})
    for canonical, own in mapping.items():
        if canonical not in ALIASES and canonical != "date":
            known = ", ".join([*ALIASES, "date"])
            raise DataError(
                source, f"cannot map column {own!r} to {canonical!r}; known names: {known}", line
            )
        if own not in names:
            raise DataError(
                source,
                f"column {own!r} (mapped to {canonical!r}) not found; columns are {names}",
                line,
            )
        resolved[canonical] = own
    if "time" not in resolved:
        _refuse_ambiguous(names, "time", source, line)
        time_col = next((lower[a] for a in ALIASES["time"] if a in lower), None)
        date_col = resolved.pop("date", None) or lower.get("date")
        if date_col is not None and time_col is not None and time_col == lower.get("time"):
            resolved["date"] = date_col  # separate date and time columns
        elif time_col is None:
            time_col = date_col  # a "date" column holding date and time
        if time_col is None:
            tried = ", ".join(ALIASES["time"])
            raise DataError(
                source,
                f"missing column: no time column (tried {tried}, or date + time); "
                f"columns are {names}",
                line,
            )
        resolved["time"] = time_col
    for canonical in (*BAR_COLUMNS, *OPTIONAL):
        if canonical in resolved:
            continue
        _refuse_ambiguous(names, canonical, source, line)
        own = next((lower[a] for a in ALIASES[canonical] if a in lower), None)
        if own is None:
            if canonical in OPTIONAL:
                continue
            raise DataError(source, f"missing column {canonical!r}; columns are {names}", line)
        resolved[canonical] = own
    return resolved


_REPEATED = re.compile(r"^(.*)\.\d+$")  # pandas' name for a repeated header: close.1


def _refuse_ambiguous(names: list[str], canonical: str, source: str, line: int | None) -> None:
    """Refuse a file in which several columns can be ``canonical`` (``close`` and ``last``,
    ``close`` twice): the loader would pick one silently."""
    present = set(names)

    def written(name: str) -> str:
        repeated = _REPEATED.match(name)
        return repeated.group(1) if repeated and repeated.group(1) in present else name

    found = [
        (k, written(n))
        for k, n in enumerate(names, 1)
        if written(n).strip().lower() in ALIASES[canonical]
    ]
    if len(found) > 1:
        shown = " and ".join(f"{n!r} (column {k})" for k, n in found)
        raise DataError(
            source,
            f"columns {shown} can each be {canonical!r}: remove or rename all but one, or "
            f"map one explicitly (columns={{{canonical!r}: ...}})",
            line,
        )
