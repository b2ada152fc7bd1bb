"""Disposal of a defaulted loan's pledged patents: the suggested reserve price, the case's steps, the realised LGD.

A case moves by one table of steps (:data:`STEPS`); a failed auction round (流拍) cuts the
asking price by :data:`ROUND_CUT` (the Supreme People's Court's rules on auctions in civil
enforcement let each new round lower the reserve by at most 20% of the last one; we take the
full 20%).  Money is integer fen; the realised LGD is ``1 − (proceeds − costs) / EAD``
discounted from the proceeds' date to the default at the loan's own rate, clipped to [0, 1].
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from scoring.pledge_life import TransitionRefused
from scoring.vocab import FROZEN
from scoring.vocab.money import fen_times, money_from_model, to_fen

CaseStatus = Literal["open", "listed", "sold", "licensed", "closed"]
StepKind = Literal["list", "round_failed", "sold", "licensed", "cost", "close"]
ROUND_CUT = Decimal("0.20")
"""Price cut after a failed round (流拍)."""

STEPS: dict[CaseStatus, dict[StepKind, CaseStatus]] = {
    "open": {"list": "listed", "sold": "sold", "licensed": "licensed", "cost": "open"},
    "listed": {"round_failed": "listed", "sold": "sold", "licensed": "licensed", "cost": "listed", "list": "listed"},
    "sold": {"cost": "sold", "close": "closed"},
    "licensed": {"cost": "licensed", "close": "closed"},
    "closed": {},
}


def next_status(status: CaseStatus, step: StepKind) -> CaseStatus:
    """The status ``step`` leads to; :class:`~scoring.pledge_life.TransitionRefused` if the table has no such step."""
    to = STEPS[status].get(step)
    if to is None:
        raise TransitionRefused(status, step, possible=STEPS[status], what="disposal case")
    return to


def cut_price(price_fen: int) -> int:
    """The asking price after a failed round: 20% lower, to the fen."""
    return fen_times(price_fen, 1 - ROUND_CUT)


class ReserveReason(BaseModel):
    """One figure behind the suggested reserve price, with its texts."""

    model_config = FROZEN
    code: str
    amount_cny: Decimal
    text_zh: str
    text_en: str


class Reserve(BaseModel):
    """The suggested reserve price (fen) and the figures behind it."""

    model_config = FROZEN
    suggested_fen: int = Field(ge=0)
    basis: Literal["p10", "liquidation"]
    reasons: list[ReserveReason]


def suggest_reserve(
    *, p10_cny: float, pledge_value_cny: float, liquidation_factor: float, cost_share: float
) -> Reserve:
    """The higher of the pledgeable patents' P10 and their liquidation value.

    Parameters
    ----------
    p10_cny
        Σ model P10 of the patents the pledge still counts, CNY (nine in ten of values lie above it).
    pledge_value_cny
        Σ their P50, CNY.
    liquidation_factor, cost_share
        The fire-sale haircut and the disposal costs as shares (``scoring/config`` valuation assumptions),
        the same as the package's liquidation value.
    """
    liquidation = pledge_value_cny * liquidation_factor * (1 - cost_share)
    p10, liq = money_from_model(p10_cny), money_from_model(liquidation)
    reasons = [
        ReserveReason(
            code="RESERVE_P10",
            amount_cny=p10,
            text_zh=f"估值模型第 10 百分位数合计 {p10:,.2f} 元（价值高于此数的概率为九成）",
            text_en=f"Model P10 of the pledged patents, CNY {p10:,.2f} (nine in ten of values lie above it)",
        ),
        ReserveReason(
            code="RESERVE_LIQUIDATION",
            amount_cny=liq,
            text_zh=f"清算价值 {liq:,.2f} 元（中位估值 × 变现系数 {liquidation_factor:.0%} × "
            f"(1 − 处置费用 {cost_share:.0%})）",
            text_en=f"Liquidation value CNY {liq:,.2f} (P50 × fire-sale factor {liquidation_factor:.0%} × "
            f"(1 − costs {cost_share:.0%}))",
        ),
    ]
    basis: Literal["p10", "liquidation"] = "p10" if p10 >= liq else "liquidation"
    return Reserve(suggested_fen=to_fen(max(p10, liq)), basis=basis, reasons=reasons)


def realised_lgd(
    *, ead_fen: int, proceeds_fen: int, costs_fen: int, years_to_recovery: float = 0.0, annual_rate: float = 0.0
) -> float:
    """``1 − (proceeds − costs) · (1 + r)^−t / EAD``, in [0, 1] (1 when there is no exposure to recover).

    Parameters
    ----------
    ead_fen, proceeds_fen, costs_fen
        Exposure at default, the price realised and the disposal's costs, fen.
    years_to_recovery
        Years from the default to the proceeds (``t``; 0 when the default date is unknown).
    annual_rate
        The loan's nominal annual rate (``r``), the discount rate; 0 when none was stated (undiscounted).
    """
    if ead_fen <= 0:
        return 1.0
    present = float((proceeds_fen - costs_fen) * (1 + annual_rate) ** -max(0.0, years_to_recovery))
    return min(1.0, max(0.0, 1 - present / ead_fen))
