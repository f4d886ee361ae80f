"""Futures contract codes (``cu2202``, ``i2009``, ``MA205``) and the order of contracts in
a spliced series.

A code is the product's letters followed by the delivery month: ``YYMM`` (SHFE, DCE, INE,
GFEX) or ``YMM`` (CZCE). Contracts of one product order by that number, which orders them
by expiry (cu2202 < cu2203 < cu2301). CZCE's three-digit codes wrap each decade (MA912 is
older than MA001 but compares larger): give such contracts four digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# A code inside a file name: letters then 3-4 digits, not part of a longer word.
_CODE_IN_NAME = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,3})(\d{3,4})(?![A-Za-z0-9])")
_CODE = re.compile(r"([A-Za-z]{1,3})(\d{3,4})")
BAR_FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


@dataclass(frozen=True, order=True)
class ContractCode:
    """A parsed code; instances sort by delivery month (``expiry``), then text."""

    expiry: int  # the digits as a number: 2202 for cu2202
    code: str
    product: str


def parse_contract(code: str) -> ContractCode:
    """``cu2202`` -> ContractCode(2202, 'cu2202', 'cu'); a ValueError for anything else."""
    match = _CODE.fullmatch(code.strip())
    if match is None:
        raise ValueError(
            f"{code!r} is not a contract code (the product's letters and 3-4 digits of the "
            "delivery month, e.g. cu2202)"
        )
    return ContractCode(int(match.group(2)), match.group(0), match.group(1))


def is_bar_file(name: str) -> bool:
    return name.lower().endswith(BAR_FILE_SUFFIXES)


def contract_in_file_name(name: str, product: str | None = None) -> str | None:
    """The contract code in a file name: ``cu2202.csv`` and ``SHFE.cu2202.m1.csv`` give
    ``cu2202``. With ``product``, only codes of that product (letters compared without
    case) count. None when there is no such code; a ValueError when there are several."""
    stem = name
    for suffix in BAR_FILE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    found = [
        m.group(0)
        for m in _CODE_IN_NAME.finditer(stem)
        if product is None or m.group(1).lower() == product.lower()
    ]
    if len(set(found)) > 1:
        raise ValueError(f"file name {name!r} holds several contract codes: {', '.join(found)}")
    return found[0] if found else None


def contract_changes(contracts: np.ndarray) -> np.ndarray:
    """Positions where the contract differs from the one before (never 0)."""
    contracts = np.asarray(contracts)
    return np.flatnonzero(contracts[1:] != contracts[:-1]) + 1


def sequence_problem(contracts: np.ndarray, trading_days: np.ndarray) -> tuple[int, str] | None:
    """The first position (and what is wrong there) where a per-bar contract column cannot
    be a spliced series: a contract that comes back after being replaced, or a change of
    contract inside a trading day (a roll takes effect at the first bar of its trading
    day, RULES.md 9). None when the column is sound. Bars in time order."""
    contracts = np.asarray(contracts)
    days = np.asarray(trading_days).astype("datetime64[D]")
    replaced: dict[str, int] = {}  # contract -> position of the bar that replaced it
    for i in contract_changes(contracts):
        old, new = str(contracts[i - 1]), str(contracts[i])
        if new in replaced:
            return i, (
                f"contract {new} comes back after being replaced "
                f"(by {contracts[replaced[new]]} from trading day {days[replaced[new]]})"
            )
        if days[i] == days[i - 1]:
            return i, (
                f"contract changes from {old} to {new} inside trading day {days[i]}: "
                "a roll must take effect at the first bar of a trading day"
            )
        replaced[old] = i
    return None


__all__ = [
    "BAR_FILE_SUFFIXES",
    "ContractCode",
    "contract_changes",
    "contract_in_file_name",
    "is_bar_file",
    "parse_contract",
    "sequence_problem",
]
