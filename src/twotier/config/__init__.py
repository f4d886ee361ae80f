"""The configuration: every number of RULES.md, typed and validated, loadable from TOML."""

from twotier.config.load import apply_overrides, config_to_toml, load_config
from twotier.config.model import (
    BasketConfig,
    BreakerParams,
    Config,
    ExecutionParams,
    ExitParams,
    LimitParams,
    SizingParams,
    SizingTier,
)

__all__ = [
    "BasketConfig",
    "BreakerParams",
    "Config",
    "ExecutionParams",
    "ExitParams",
    "LimitParams",
    "SizingParams",
    "SizingTier",
    "apply_overrides",
    "config_to_toml",
    "load_config",
]
