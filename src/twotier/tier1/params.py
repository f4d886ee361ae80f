"""Tier-1 parameters: every threshold, weight and period of RULES.md section 3."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twotier.indicators.params import IndicatorParams
from twotier.strict import LISTS, StrictModel

CheckName = Literal["trend", "momentum", "rsi", "volume", "bollinger"]
CHECKS: tuple[CheckName, ...] = ("trend", "momentum", "rsi", "volume", "bollinger")


class CheckParams(StrictModel):
    """Pass rules and score scales of the five checks (RULES.md 3.1)."""

    trend_atr_scale: float = Field(2.0, gt=0, description="trend score = (ema12-ema50)/(scale*atr)")
    momentum_atr_scale: float = Field(
        0.5, gt=0, description="momentum score = macd_hist/(scale*atr)"
    )
    rsi_lower: float = Field(30.0, ge=0, le=100, description="rsi check passes above this")
    rsi_upper: float = Field(70.0, ge=0, le=100, description="rsi check passes below this")
    volume_ratio: float = Field(1.2, gt=0, description="volume check: volume > ratio*volume_ema")
    bollinger_pivot: float = Field(
        0.5, ge=0, le=1, description="long passes at %B <= pivot, short at %B >= pivot"
    )

    @model_validator(mode="after")
    def _band(self) -> CheckParams:
        if not self.rsi_lower < self.rsi_upper:
            raise ValueError("rsi_lower must be below rsi_upper")
        return self


class CheckWeights(StrictModel):
    """Weights of the confidence's weighted mean."""

    trend: float = Field(0.30, ge=0)
    momentum: float = Field(0.25, ge=0)
    rsi: float = Field(0.15, ge=0)
    volume: float = Field(0.15, ge=0)
    bollinger: float = Field(0.15, ge=0)

    @model_validator(mode="after")
    def _positive_total(self) -> CheckWeights:
        if self.trend + self.momentum + self.rsi + self.volume + self.bollinger <= 0:
            raise ValueError("the check weights must not all be 0")
        return self


class RegimeParams(StrictModel):
    """Chaos thresholds of RULES.md 3.3."""

    chaos_atr_ratio: float = Field(1.5, gt=0, description="chaos when atr > ratio*atr_base")
    chaos_bbw_ratio: float = Field(
        2.0, gt=0, description="chaos when Bollinger width > ratio*bbw_base"
    )


class Tier1Params(StrictModel):
    """One generator's full parameter set."""

    indicators: IndicatorParams = IndicatorParams()
    checks: CheckParams = CheckParams()
    weights: CheckWeights = CheckWeights()
    regime: RegimeParams = RegimeParams()
    required_checks: Annotated[tuple[CheckName, ...], LISTS] = Field(
        CHECKS, min_length=1, description="checks that must all pass for an entry trigger"
    )
    min_confidence: float = Field(0.20, ge=0, le=1, description="MIN_CONFIDENCE of a trigger")
    min_signal_strength: float = Field(
        0.15, ge=0, le=1, description="MIN_SIGNAL_STRENGTH of a trigger"
    )
