"""The configuration model. Defaults equal RULES.md; names follow its suggested keys
(``leverage_mode``, ``fill``, ``slippage_ticks``) and otherwise the overview's appendix in
snake_case (``min_confidence``, ``max_basket_leverage``)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, model_validator

from twotier.money import MAX_CAPITAL
from twotier.strict import LISTS, StrictModel, as_lists
from twotier.tier1.params import Tier1Params

# No futures account lends 100 times its margin; a larger leverage is a typo. (Not the
# max_leverage key, MAX_LEVERAGE in the overview: that is a cap a user sets below it.)
LEVERAGE_LIMIT = 100.0


# Every section: unknown keys refused, values taken strictly (twotier.strict).
class _Section(StrictModel):
    pass


class SizingTier(_Section):
    """One conviction tier: its threshold, size and smart-leverage formulas, and the stop
    and target it takes in fixed-leverage mode."""

    threshold: float = Field(ge=0, le=1, description="conviction >= threshold")
    size_base: float = Field(ge=0, le=1, description="size fraction at the threshold")
    size_slope: float = Field(
        ge=0, le=100, description="size = size_base + (c - threshold) * slope"
    )
    leverage_multiplier: float = Field(
        gt=0, le=1000, description="smart leverage = 1 + multiplier * c"
    )
    leverage_min: float = Field(
        gt=0, le=LEVERAGE_LIMIT, description="smart leverage floor of the tier"
    )
    leverage_max: float = Field(
        gt=0, le=LEVERAGE_LIMIT, description="smart leverage cap of the tier"
    )
    fixed_stop: float = Field(gt=0, lt=1, description="stop loss in fixed mode")
    fixed_target: float = Field(gt=0, lt=1, description="profit target in fixed mode")

    @model_validator(mode="after")
    def _range(self) -> SizingTier:
        if self.leverage_min > self.leverage_max:
            raise ValueError("leverage_min must not exceed leverage_max")
        return self


class SizingParams(_Section):
    """Entries: conviction, tiers, leverage (RULES.md 4.2)."""

    leverage_mode: Literal["smart", "fixed"] = Field("smart", description="smart or fixed 1.5x")
    confidence_weight: float = Field(
        0.6, ge=0, le=1, description="conviction = cw*confidence + ..."
    )
    strength_weight: float = Field(0.4, ge=0, le=1, description="... + sw*signal_strength")
    min_confidence: float = Field(0.20, ge=0, le=1, description="entry needs confidence >= this")
    min_signal_strength: float = Field(0.15, ge=0, le=1, description="entry needs strength >= this")
    min_conviction: float = Field(0.20, ge=0, le=1, description="entry needs conviction >= this")
    strong: SizingTier = SizingTier(
        threshold=0.55,
        size_base=0.80,
        size_slope=0.44,
        leverage_multiplier=12.86,
        leverage_min=4.0,
        leverage_max=10.0,
        fixed_stop=0.020,
        fixed_target=0.08,
    )
    medium: SizingTier = SizingTier(
        threshold=0.35,
        size_base=0.40,
        size_slope=1.00,
        leverage_multiplier=10.0,
        leverage_min=2.5,
        leverage_max=6.0,
        fixed_stop=0.025,
        fixed_target=0.10,
    )
    weak: SizingTier = SizingTier(
        threshold=0.20,
        size_base=0.20,
        size_slope=0.10 / 0.15,
        leverage_multiplier=10.0,
        leverage_min=1.5,
        leverage_max=4.0,
        fixed_stop=0.030,
        fixed_target=0.10,
    )
    max_basket_leverage: float = Field(
        15.0, gt=0, le=LEVERAGE_LIMIT, description="MAX_BASKET_LEVERAGE"
    )
    max_leverage: float = Field(
        20.0, gt=0, le=LEVERAGE_LIMIT, description="MAX_LEVERAGE (also the portfolio cap)"
    )
    min_contract_raise: bool = Field(
        True, description="smart mode: raise leverage to afford one contract when within caps"
    )
    fixed_leverage: float = Field(
        1.5,
        gt=0,
        le=LEVERAGE_LIMIT,
        description="fixed mode leverage (within max_basket_leverage, max_leverage)",
    )
    fixed_size_fraction: float = Field(1.0, gt=0, le=1, description="fixed mode size fraction")

    @model_validator(mode="after")
    def _tiers_ordered(self) -> SizingParams:
        if not self.weak.threshold < self.medium.threshold < self.strong.threshold:
            raise ValueError("tier thresholds must satisfy weak < medium < strong")
        caps = min(self.max_basket_leverage, self.max_leverage)
        if self.leverage_mode == "fixed" and self.fixed_leverage > caps:
            raise ValueError(
                "fixed_leverage must not exceed max_basket_leverage or max_leverage "
                "(RULES.md 4.2: any leverage is capped by both)"
            )
        return self


class LimitParams(_Section):
    """Soft limits, the fallback chain and the cash-reserve targets (RULES.md 4.3, 4.5)."""

    exposure_limit: bool = Field(True, description="check committed capital / PV")
    max_exposure: float = Field(0.90, gt=0, le=1, description="MAX_TOTAL_EXPOSURE")
    cash_reserve_limit: bool = Field(True, description="check (PV - committed) / PV >= target")
    margin_limit: bool = Field(True, description="check exchange margin <= PV")
    leverage_limit: bool = Field(True, description="check total notional / PV <= max_leverage")
    fallback_chain: bool = Field(True, description="try smaller entries when a soft limit fails")
    fallback_size_factor: float = Field(0.6, gt=0, le=1, description="fallback 1: size * this")
    fallback_leverage: float = Field(
        1.1, gt=0, description="fallback 2: that size at this leverage"
    )
    fallback_min_size: float = Field(0.20, gt=0, le=1, description="fallback 3: this size ...")
    fallback_min_leverage: float = Field(1.0, gt=0, description="... at this leverage")
    reserve_aggressive: float = Field(0.05, ge=0, le=1, description="AGGRESSIVE_RESERVE")
    reserve_balanced: float = Field(0.15, ge=0, le=1, description="BALANCED_RESERVE")
    reserve_defensive: float = Field(0.25, ge=0, le=1, description="DEFENSIVE_RESERVE")
    aggressive_conviction: float = Field(0.55, ge=0, le=1, description="aggressive at avg >= this")
    defensive_conviction: float = Field(0.35, ge=0, le=1, description="defensive at avg < this")


class BreakerParams(_Section):
    """Portfolio breakers and chaos rules (RULES.md 4.2, 4.4)."""

    drawdown_breaker: bool = Field(True, description="close all when drawdown > max_drawdown")
    max_drawdown: float = Field(0.10, gt=0, lt=1, description="MAX_PORTFOLIO_DD")
    drawdown_leverage_factor: float = Field(0.5, gt=0, le=1, description="caps * this after")
    drawdown_cooldown_days: int = Field(5, ge=0, description="trading days of halved caps")
    daily_loss_breaker: bool = Field(True, description="derisk when daily loss > max_daily_loss")
    max_daily_loss: float = Field(0.03, gt=0, lt=1, description="MAX_DAILY_LOSS")
    derisk_keep_fraction: float = Field(0.40, ge=0, lt=1, description="positions cut to this")
    chaos_block: bool = Field(True, description="no entries when chaos count >= chaos_block_count")
    chaos_block_count: int = Field(2, ge=1, description="chaos baskets that block entries")
    chaos_caution: bool = Field(True, description="WEAK tier at most while chaos count >= 1")
    chaos_caution_count: int = Field(1, ge=1, description="chaos baskets for WEAK-at-most")
    chaos_target_cap: float = Field(
        0.08, gt=0, lt=1, description="profit target cap of chaos entries"
    )


class ExitParams(_Section):
    """The exit tree (RULES.md 4.6), each trigger with its switch."""

    trailing_stop: bool = True
    trailing_min_leverage: float = Field(5.0, gt=0, description="TRAILING_STOP_ACTIVATION_LEV")
    trailing_activation: float = Field(0.05, gt=0, description="TRAILING_STOP_ACTIVATION_PROFIT")
    trailing_distance: float = Field(0.02, gt=0, lt=1, description="TRAILING_STOP_DISTANCE")
    profit_target: bool = True
    profit_targets: Annotated[tuple[tuple[float, float], ...], LISTS] = Field(
        ((5.0, 0.07), (3.0, 0.08), (0.0, 0.10)),
        description="[min effective leverage, target], first match from the top",
    )
    profit_protect: bool = True
    profit_protect_pnl: float = Field(0.05, gt=0, description="PROFIT_PROTECT")
    profit_protect_conviction: float = Field(0.40, ge=0, le=1)
    stop_loss: bool = True
    stop_losses: Annotated[tuple[tuple[float, float], ...], LISTS] = Field(
        ((2.0, 0.030), (4.0, 0.025), (6.0, 0.020), (10.0, 0.015)),
        description="[max effective leverage, stop], first match from the top",
    )
    stop_loss_above: float = Field(0.010, gt=0, lt=1, description="stop above the last band")
    chaos_stop_cap: float = Field(0.02, gt=0, lt=1, description="stops at most this in chaos")
    chaos_stop_count: int = Field(2, ge=1, description="chaos baskets that cap stops")
    signal_reversal: bool = True
    low_confidence: bool = True
    critical_exit_confidence: float = Field(
        0.20, ge=0, le=1, description="CRITICAL_EXIT_CONFIDENCE"
    )
    confidence_drop_with_loss: bool = True
    exit_confidence: float = Field(0.30, ge=0, le=1, description="EXIT_CONFIDENCE")
    confidence_drop_loss: float = Field(0.01, ge=0, description="with P&L below -this")
    chaos_regime_exit: bool = True
    chaos_exit_count: int = Field(2, ge=1)
    chaos_exit_loss: float = Field(0.01, ge=0, description="exit in chaos with P&L below -this")

    @model_validator(mode="after")
    def _bands(self) -> ExitParams:
        _check_bands("profit_targets", self.profit_targets, descending=True, least=0.0)
        _check_bands("stop_losses", self.stop_losses, descending=False, least=None)
        return self


def _check_bands(
    name: str, bands: tuple[tuple[float, float], ...], *, descending: bool, least: float | None
) -> None:
    """[leverage band, fraction] rows: fractions in (0, 1), bands strictly in order (from
    the highest for targets, the lowest for stops), none below ``least`` (above 0 if
    None)."""
    if not bands:
        raise ValueError(f"{name} needs at least one [leverage, fraction] row")
    for lev, fraction in bands:
        if not 0 < fraction < 1:
            raise ValueError(
                f"{name}: {fraction} is not a fraction in (0, 1) (row [{lev}, {fraction}])"
            )
        if (lev < least) if least is not None else (lev <= 0):
            raise ValueError(
                f"{name}: leverage band {lev} is below {least if least is not None else 'or at 0'}"
            )
    levels = [lev for lev, _ in bands]
    ordered = sorted(set(levels), reverse=descending)
    if levels != ordered:
        order = "highest to lowest" if descending else "lowest to highest"
        raise ValueError(f"{name} must list leverage bands from {order}, each once: {levels}")


class ExecutionParams(_Section):
    """Fills, costs and the end of data (RULES.md 5)."""

    fill: Literal["next_open", "close"] = Field("next_open", description="next bar's open or close")
    slippage_ticks: int = Field(
        1, ge=0, le=10_000, description="ticks against the order under next_open"
    )
    fees: bool = Field(True, description="charge the instrument's fees")
    close_at_end: bool = Field(False, description="close open positions at data end (end_of_data)")


class MarketParams(_Section):
    """The market as it is (RULES.md 10): price limits, volume, margin and forced
    liquidation. With all three switches off, results are those of sections 1-9."""

    price_limits: bool = Field(
        True, description="no fill against a bar locked at its limit; fills within limits"
    )
    volume_fills: bool = Field(True, description="no fill on a bar without volume")
    forced_liquidation: bool = Field(
        True, description="margin by settlement, risk degree, forced liquidation (10.4)"
    )
    limit_tolerance: float = Field(
        0.015, ge=0, lt=1, description="locked within this share of the previous settlement"
    )
    max_participation: float = Field(
        0.0,
        ge=0,
        le=1,
        description="largest share of a bar's volume filled (0: no cap; needs volume_fills)",
    )
    force_close_level: float = Field(
        1.0, gt=0, description="risk degree (margin / PV) above which positions are closed"
    )

    def unused(self) -> list[str]:
        """Warnings for settings these switches leave without effect: the participation
        cap is a rule of fills by volume (RULES.md 10.3). A warning, not a refusal: a
        sweep may pair them, and states and run folders of before hold such settings."""
        if self.max_participation and not self.volume_fills:
            return [
                f"market.max_participation = {self.max_participation:g} does nothing with "
                "market.volume_fills = false: no fill is capped by volume"
            ]
        return []

    @property
    def any(self) -> bool:
        return self.price_limits or self.volume_fills or self.forced_liquidation


class BrokerTerms(_Section):
    """The broker's terms on top of the exchange's (RULES.md 10.1)."""

    margin_add: float = Field(0.0, ge=0, lt=1, description="added to every margin rate")
    fee_multiplier: float = Field(1.0, ge=0, le=100, description="exchange fees times this")


class BasketConfig(_Section):
    """One basket: the instrument it trades, its share of capital, and optional overrides
    of the sizing and exit parameters for it alone."""

    instrument: str
    capital_fraction: float = Field(gt=0, le=1)
    sizing: dict[str, Any] = Field(default_factory=dict)
    exits: dict[str, Any] = Field(default_factory=dict)


class GeneratorConfig(_Section):
    """A Tier-1 generator: its name and overrides of the shared Tier-1 parameters."""

    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


def _money(value: Any) -> Any:
    """An amount of CNY written as a number (TOML has no decimals), as a Decimal; text
    and booleans are left for the strict check to refuse."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


class PortfolioParams(_Section):
    initial_capital: Annotated[Decimal, BeforeValidator(_money)] = Field(
        Decimal(1_000_000), gt=0, le=MAX_CAPITAL, description="CNY (at most 1e12)"
    )
    baskets: Annotated[tuple[BasketConfig, ...], LISTS] = (
        BasketConfig(instrument="DCE/i", capital_fraction=0.30),
        BasketConfig(instrument="SHFE/cu", capital_fraction=0.30),
        BasketConfig(instrument="DCE/m", capital_fraction=0.30),
    )

    @model_validator(mode="after")
    def _shares(self) -> PortfolioParams:
        if not self.baskets:
            raise ValueError("at least one basket is needed")
        keys = [b.instrument for b in self.baskets]
        if len(set(keys)) != len(keys):
            raise ValueError("each instrument may have one basket only")
        total = sum(Decimal(str(b.capital_fraction)) for b in self.baskets)
        if total > 1:
            raise ValueError(f"basket capital fractions add up to {total} > 1")
        if self.initial_capital.as_tuple().exponent < -2:
            raise ValueError("initial_capital must be whole cents")
        return self

    def reserve_fraction(self) -> Decimal:
        return 1 - sum(Decimal(str(b.capital_fraction)) for b in self.baskets)

    def basket_capital(self, index: int) -> Decimal:
        """Basket ``index``'s starting equity in CNY: its fraction of the initial capital,
        to the cent below, so that the baskets never take more than the capital (a
        fraction of a cent stays in the reserve, which is never negative)."""
        share = self.initial_capital * Decimal(str(self.baskets[index].capital_fraction))
        return share.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


class RollParams(_Section):
    """Continuous contracts (RULES.md 9)."""

    adjust: Literal["ratio", "difference"] = Field(
        "ratio", description="back-adjustment of the series Tier-1 sees across rolls"
    )
    warn_suspected: bool = Field(
        True, description="warn about jumps that look like rolls when no roll information is given"
    )
    detect_atr_multiple: float = Field(
        10.0, gt=0, description="a session-open jump above this many ATRs is a suspected roll"
    )


class ContractParams(_Section):
    """Contract life (RULES.md 11): no position held into a contract's delivery month."""

    delivery_deadline: bool = Field(
        True, description="close positions at a contract's delivery deadline, block entries"
    )
    exit_days_before_delivery: int = Field(
        1,
        ge=0,
        description="deadline: last trading day before the delivery month less this many",
    )


class DataParams(_Section):
    label: Literal["start", "end"] = Field("start", description="how bar files stamp bars")
    on_bad_bar: Literal["refuse", "drop", "repair"] = "refuse"
    auction: Literal["merge", "refuse"] = Field(
        "merge", description="opening auction bars and closing ticks: fold into the session"
    )
    night_date: Literal["calendar", "trading_day"] = Field(
        "calendar", description="night bars are dated with the calendar date or the trading day"
    )
    contract_column: str | None = Field(
        None, description="column of bar files naming the contract of each bar (e.g. i2009)"
    )
    instruments_file: str | None = Field(
        None,
        description="TOML adding/overriding instruments (a relative path: from the "
        "configuration file's folder, or the current folder for --set)",
    )
    calendar_file: str | None = Field(
        None,
        description="TOML adding holidays / trading days (a relative path as for instruments_file)",
    )


class LiveParams(_Section):
    """Live trading through a vn.py gateway (``twotier live``, docs/live.md)."""

    order_ticks: int = Field(
        5, ge=0, description="a limit order's price: the best opposite price plus this many ticks"
    )
    order_retries: int = Field(
        3, ge=0, description="times an unfilled order is cancelled and sent again at a new price"
    )
    order_timeout: float = Field(
        5.0, gt=0, description="seconds an order may rest unfilled before it is cancelled"
    )
    equity_tolerance: float = Field(
        0.005,
        ge=0,
        description="reconciliation: the account's equity change may differ from the state's "
        "by this share of initial capital (fees and marks differ a little)",
    )


class Config(_Section):
    """Everything a run needs, with RULES.md defaults."""

    tier1: Tier1Params = Tier1Params()
    generators: dict[str, GeneratorConfig] = Field(default_factory=dict)
    portfolio: PortfolioParams = PortfolioParams()
    sizing: SizingParams = SizingParams()
    limits: LimitParams = LimitParams()
    breakers: BreakerParams = BreakerParams()
    exits: ExitParams = ExitParams()
    execution: ExecutionParams = ExecutionParams()
    market: MarketParams = MarketParams()
    broker: BrokerTerms = BrokerTerms()
    rolls: RollParams = RollParams()
    contracts: ContractParams = ContractParams()
    data: DataParams = DataParams()
    live: LiveParams = LiveParams()

    @model_validator(mode="after")
    def _overrides_valid(self) -> Config:
        for i, basket in enumerate(self.portfolio.baskets):
            for section in ("sizing", "exits"):
                try:
                    self._merged(section, getattr(basket, section))
                except ValidationError as exc:
                    raise ValueError(
                        f"portfolio.baskets.{i}.{section} ({basket.instrument}): {_brief(exc)}"
                    ) from None
        for key in self.generators:
            if key not in self.instruments:
                raise ValueError(
                    f"generators.{key}: no basket trades {key!r} (baskets: "
                    f"{', '.join(self.instruments)}); a generator section is for the "
                    "instrument of a basket"
                )
            try:
                self.tier1_params(key)
            except ValidationError as exc:
                raise ValueError(f"generators.{key}.params: {_brief(exc)}") from None
        return self

    def _merged(self, section: str, override: dict[str, Any]):
        base: BaseModel = getattr(self, section)
        if not override:
            return base
        return type(base).model_validate(_deep_merge(as_lists(base.model_dump()), override))

    def basket_sizing(self, index: int) -> SizingParams:
        return self._merged("sizing", self.portfolio.baskets[index].sizing)

    def basket_exits(self, index: int) -> ExitParams:
        return self._merged("exits", self.portfolio.baskets[index].exits)

    def tier1_params(self, instrument: str) -> Tier1Params:
        gen = self.generators.get(instrument)
        if gen is None or not gen.params:
            return self.tier1
        return Tier1Params.model_validate(
            _deep_merge(as_lists(self.tier1.model_dump()), gen.params)
        )

    def generator_name(self, instrument: str) -> str:
        from twotier.tier1.generator import builtin_name

        gen = self.generators.get(instrument)
        return gen.name if gen is not None and gen.name else builtin_name(instrument)

    @property
    def instruments(self) -> list[str]:
        return [b.instrument for b in self.portfolio.baskets]


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _brief(exc: ValidationError) -> str:
    """A nested model's errors in a line: each with its key, where it has one (a check of
    the whole section has none), in the words of the check."""
    lines = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"])
        message = e["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
