"""Indicator periods: RULES.md section 2 by default."""

from __future__ import annotations

from pydantic import Field, model_validator

from twotier.strict import StrictModel

LONGEST = 100_000  # TA-Lib's largest period
WIDEST = 100.0  # Bollinger deviations: beyond this a band is no band


class IndicatorParams(StrictModel):
    ema_fast: int = Field(12, ge=2, le=LONGEST, description="fast EMA period (column ema_12)")
    ema_slow: int = Field(26, ge=2, le=LONGEST, description="slow EMA period (column ema_26)")
    ema_trend: int = Field(50, ge=2, le=LONGEST, description="trend EMA period (column ema_50)")
    macd_fast: int = Field(12, ge=2, le=LONGEST, description="MACD fast period")
    macd_slow: int = Field(26, ge=2, le=LONGEST, description="MACD slow period")
    macd_signal: int = Field(9, ge=1, le=LONGEST, description="MACD signal period")
    rsi_period: int = Field(14, ge=2, le=LONGEST, description="RSI period (Wilder)")
    bb_period: int = Field(20, ge=2, le=LONGEST, description="Bollinger period")
    bb_dev_up: float = Field(
        2.0, gt=0, le=WIDEST, description="Bollinger upper band, standard deviations"
    )
    bb_dev_down: float = Field(
        2.0, gt=0, le=WIDEST, description="Bollinger lower band, standard deviations"
    )
    atr_period: int = Field(14, ge=1, le=LONGEST, description="ATR period (Wilder)")
    volume_ema_period: int = Field(20, ge=2, le=LONGEST, description="EMA period of volume")
    baseline_period: int = Field(
        100,
        ge=2,
        le=LONGEST,
        description="SMA period of ATR and Bollinger width (atr_base, bbw_base)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> IndicatorParams:
        if not self.ema_fast < self.ema_slow < self.ema_trend:
            raise ValueError("EMA periods must satisfy ema_fast < ema_slow < ema_trend")
        if not self.macd_fast < self.macd_slow:
            raise ValueError("MACD periods must satisfy macd_fast < macd_slow")
        return self

    def signal_warmup(self) -> int:
        """Leading bars before every input of the signal rules is defined."""
        return max(
            self.ema_trend - 1,
            self.macd_slow + self.macd_signal - 2,
            self.rsi_period,
            self.bb_period - 1,
            self.atr_period,
            self.volume_ema_period - 1,
        )

    def regime_warmup(self) -> int:
        """Leading bars before the regime's baselines are defined."""
        return max(
            self.signal_warmup(),
            self.atr_period + self.baseline_period - 1,
            self.bb_period + self.baseline_period - 2,
        )
