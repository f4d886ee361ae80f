"""Futures contract codes (``cu2202``, ``i2009``, ``MA205``), their delivery months and the
order of contracts in a spliced series.

A code is the product's letters followed by the delivery month: ``YYMM`` of 20YY (SHFE,
DCE, INE, GFEX) or ``YMM`` (CZCE), whose year is the one ending in that digit nearest the
data (RULES.md 10.6 item 16). Contracts of one product order by that number, which orders
them by expiry (cu2202 < cu2203 < cu2301). CZCE's three-digit codes wrap each decade
(MA912 is older than MA001 but compares larger): give such contracts four digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

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


def delivery_month(code: str, near: date | None = None) -> tuple[int, int]:
    """(year, month) of a contract's delivery: ``i2005`` -> (2020, 5). A three-digit
    (CZCE) code takes the year ending in its digit nearest ``near`` (a day of the data;
    needed for such codes). A ValueError for a code that names no month."""
    parsed = parse_contract(code)
    digits = parsed.code[len(parsed.product) :]
    month = int(digits[-2:])
    if not 1 <= month <= 12:
        raise ValueError(f"{code!r}: {digits[-2:]} is not a month (01-12)")
    if len(digits) == 4:
        return 2000 + int(digits[:2]), month
    if near is None:
        raise ValueError(f"{code!r}: a three-digit code needs a date to place its decade")
    decade = near.year - near.year % 10 + int(digits[0])
    candidates = (decade - 10, decade, decade + 10)
    distance = [abs((date(y, month, 1) - near).days) for y in candidates]
    best = min(range(3), key=lambda k: (distance[k], -k))  # a tie: the later year
    return candidates[best], month


def belongs_to(code: str, product: str) -> bool:
    """Whether a contract code is one of the product's (letters compared without case)."""
    match = _CODE.fullmatch(code.strip())
    return match is not None and match.group(1).lower() == product.lower()


def canonical(code: str, product: str) -> str:
    """A code of the product spelled as the product is (``I2105`` of product ``i`` is
    ``i2105``, ``ma205`` of ``MA`` is ``MA205``): one contract, one name, whatever case a
    file or a vendor wrote it in. Other text is returned as it is."""
    match = _CODE.fullmatch(code.strip())
    if match is None or match.group(1).lower() != product.lower():
        return code
    return product + match.group(2)


def contract_problem(code: str, product: str, near: date, instrument: str = "") -> str | None:
    """What is wrong with a contract code of an instrument whose product is ``product``:
    not a code, another product's, or no delivery month. None when it is sound."""
    owner = instrument or f"product {product!r}"
    if not belongs_to(code, product):
        return f"contract {code!r} is not a {owner} contract (its codes are like {product}2405)"
    try:
        delivery_month(code, near)
    except ValueError as exc:
        return str(exc)
    return None


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
    if not found:
        return None
    return found[0] if product is None else canonical(found[0], product)


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
    replaced: dict[str, int] = {}  # contract (lower case) -> position of the bar replacing it
    for i in contract_changes(contracts):
        old, new = str(contracts[i - 1]), str(contracts[i])
        if new.lower() in replaced:
            at = replaced[new.lower()]
            return i, (
                f"contract {new} comes back after being replaced "
                f"(by {contracts[at]} from trading day {days[at]})"
            )
        if days[i] == days[i - 1]:
            return i, (
                f"contract changes from {old} to {new} inside trading day {days[i]}: "
                "a roll must take effect at the first bar of a trading day"
            )
        replaced[old.lower()] = i
    return None


__all__ = [
    "BAR_FILE_SUFFIXES",
    "ContractCode",
    "belongs_to",
    "canonical",
    "contract_changes",
    "contract_in_file_name",
    "contract_problem",
    "delivery_month",
    "is_bar_file",
    "parse_contract",
    "sequence_problem",
]
