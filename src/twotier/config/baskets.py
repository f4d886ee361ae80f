"""Which baskets a run trades, given the instruments it has data for. One rule, called by
the CLI, the Python API, paper trading and sweeps alike:

- With the default baskets (the three of RULES.md 4) and data for only some of their
  instruments, the baskets are those instruments, each keeping its capital fraction
  (30%); the rest stays in the reserve. The run says so in one line.
- With baskets the configuration names, every basket needs its data: a basket without
  is an error naming the instrument and the fix (paper trading, whose bars may come
  later, lets it wait).
- Data for an instrument that no basket trades is a warning, never silently dropped.
- What a run says of its instruments follows the baskets' order, not the order the data
  was given in (``in_basket_order``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from twotier.config.model import Config, PortfolioParams
from twotier.errors import ConfigError
from twotier.strict import as_lists

T = TypeVar("T")


@dataclass(frozen=True)
class FittedBaskets:
    config: Config  # the configuration the run trades
    warnings: list[str] = field(default_factory=list)


def in_basket_order(by_instrument: Mapping[str, T], config: Config) -> dict[str, T]:
    """The baskets' instruments first, in the baskets' order, then any other in the order
    given: a run's warnings and records come out the same whatever the order of its
    ``--bars``."""
    ordered = {k: by_instrument[k] for k in config.instruments if k in by_instrument}
    return {**ordered, **by_instrument}


def uses_default_baskets(config: Config) -> bool:
    return config.portfolio.baskets == PortfolioParams().baskets


def fit_baskets(
    config: Config,
    given: Sequence[str],
    *,
    what: str = "bars",
    fix: str = "--bars {instrument}=FILE",
    complete: bool = True,
) -> FittedBaskets:
    """The configuration fitted to the instruments ``given`` data (``what``: "bars" or
    "packages"); ``fix`` tells how to give a missing instrument's data; ``complete``
    says whether ``given`` is all the data the run will have."""
    given = list(dict.fromkeys(given))
    baskets = config.portfolio.baskets
    traded = [b.instrument for b in baskets]
    warnings = config.market.unused() + [
        f"{what} given for {key}, which no basket trades: not used (add a basket for it in "
        "portfolio.baskets to trade it)"
        for key in given
        if key not in traded
    ]
    missing = [(i, b.instrument) for i, b in enumerate(baskets) if b.instrument not in given]
    if not missing or not given:
        return FittedBaskets(config, warnings)
    if uses_default_baskets(config):
        kept = [b for b in baskets if b.instrument in given]
        if not kept:
            raise ConfigError(
                f"no {what} for any instrument of the default baskets ({', '.join(traded)}); "
                f"to trade {', '.join(given)}, list it in portfolio.baskets "
                "(docs/configuration.md)"
            )
        fitted = _with_baskets(config, kept)
        shares = {f"{b.capital_fraction:.0%}" for b in kept}
        each = f" of {shares.pop()}" if len(shares) == 1 else ""
        reserve = fitted.portfolio.reserve_fraction()
        warnings.insert(
            0,
            f"{what} for {_names([b.instrument for b in kept])} only: trading "
            f"{len(kept)} of the default baskets{each} (without "
            f"{_names([k for _, k in missing])}); {float(reserve):.0%} of the capital stays "
            "in the reserve",
        )
        return FittedBaskets(fitted, warnings)
    if complete:
        index, key = missing[0]
        raise ConfigError(
            f"no {what} for {key}, the instrument of basket portfolio.baskets.{index}: give "
            f"{fix.format(instrument=key)}, or remove that basket from the configuration"
        )
    return FittedBaskets(config, warnings)


def _with_baskets(config: Config, baskets) -> Config:
    """The configuration with these baskets only (and the generator sections of their
    instruments only)."""
    keys = {b.instrument for b in baskets}
    tree = as_lists(config.model_dump())
    tree["portfolio"]["baskets"] = [as_lists(b.model_dump()) for b in baskets]
    tree["generators"] = {k: v for k, v in tree["generators"].items() if k in keys}
    return Config.model_validate(tree)


def _names(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"
